// wacht-mock dashboard: live requests over Server-Sent Events, filters, and the actions,
// each a call of the control API. The pages work without this script, bar the live list and
// the actions.
"use strict";

const CONTROL = "/_mock";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// Requests ----------------------------------------------------------------------------------

function requestsPage() {
  const table = document.getElementById("requests");
  if (!table) return; // a request's own page
  const body = table.tBodies[0];
  const live = document.getElementById("live");
  const filters = {
    deployment: document.getElementById("f-deployment"),
    status: document.getElementById("f-status"),
    operation: document.getElementById("f-operation"),
    text: document.getElementById("f-text"),
  };

  function shown(row) {
    const text = filters.text.value.trim().toLowerCase();
    return (!filters.deployment.value || row.dataset.deployment === filters.deployment.value)
      && (!filters.status.value || row.dataset.status === filters.status.value)
      && (!filters.operation.value || row.dataset.operation === filters.operation.value)
      && (!text || row.textContent.toLowerCase().includes(text));
  }
  function applyFilters() {
    for (const row of body.rows) row.classList.toggle("hidden", !shown(row));
  }
  for (const input of Object.values(filters)) input.addEventListener("input", applyFilters);

  function addOption(select, value) {
    if (!value || [...select.options].some((option) => option.value === value)) return;
    select.append(el("option", { value, text: value }));
  }

  function row(entry) {
    const notes = [entry.fault, ...entry.problems].filter(Boolean).join(" ");
    const flagged = notes || entry.status >= 500 ? " flagged" : "";
    const tr = el("tr", {
      class: `s${entry.status_class}${flagged} fresh`,
      "data-number": entry.number,
      "data-deployment": entry.deployment_id,
      "data-status": entry.status_class,
      "data-operation": entry.operation,
    });
    const cells = [
      el("a", { href: entry.href, text: `#${entry.number}` }), entry.time, entry.method,
      entry.path, String(entry.status || "dropped"), entry.duration_ms.toFixed(1),
      entry.deployment_id, entry.agent, entry.script, notes,
    ];
    const classes = { 3: "path", 4: "status", 9: "notes" };
    cells.forEach((cell, index) => tr.append(el("td", classes[index] ? { class: classes[index] } : {}, cell)));
    return tr;
  }

  const feed = new EventSource(`feed?since=${table.dataset.since}`);
  feed.addEventListener("entry", (event) => {
    const entry = JSON.parse(event.data);
    if (body.querySelector(`tr[data-number="${entry.number}"]`)) return;
    document.getElementById("no-requests")?.remove();
    addOption(filters.deployment, entry.deployment_id);
    addOption(filters.operation, entry.operation);
    const tr = row(entry);
    tr.classList.toggle("hidden", !shown(tr));
    body.prepend(tr);
    while (body.rows.length > 500) body.lastElementChild.remove();
    live.textContent = `Live: request #${entry.number} arrived at ${entry.time}.`;
  });
  feed.addEventListener("missed", (event) => {
    const { missed } = JSON.parse(event.data);
    live.textContent = `${missed} requests came faster than this page could take: reload to see them.`;
  });
  feed.addEventListener("error", () => {
    if (feed.readyState === EventSource.CLOSED) live.textContent = "The live feed closed: reload.";
  });
}

// Actions -----------------------------------------------------------------------------------

async function control(method, path, body, type) {
  const headers = { "X-Wacht-Mock-Dashboard": "1" };
  if (type) headers["Content-Type"] = type;
  const response = await fetch(CONTROL + path, { method, headers, body, credentials: "same-origin" });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try { message = JSON.parse(text).errors[0].message; } catch (ignored) { /* not the envelope */ }
    throw new Error(`${response.status}: ${message}`);
  }
  return text ? JSON.parse(text) : null;
}

const ACTIONS = {
  async reset(form) {
    const deployment = form.elements.deployment_id.value;
    const query = deployment ? `?deployment_id=${encodeURIComponent(deployment)}` : "";
    await control("POST", `/reset${query}`);
    return deployment ? `Deployment ${deployment} reset.` : "Everything reset.";
  },
  async fixtures(form) {
    const made = await control("POST", "/fixtures", form.elements.document.value, "application/yaml");
    return `Fixture loaded: ${made.contexts_created} contexts created.`;
  },
  async settings(form) {
    const seed = form.elements.seed.value.trim();
    if (seed && !/^-?\d+$/.test(seed)) throw new Error("The seed is a whole number, or empty for none.");
    const sent = { seed: seed ? Number(seed) : null, strict_agents: form.elements.strict_agents.checked };
    const now = await control("PUT", "/settings", JSON.stringify(sent), "application/json");
    return `Settings: seed ${now.seed ?? "none"}, strict agents ${now.strict_agents ? "on" : "off"}.`;
  },
  async faults(form) {
    const now = await control("POST", "/faults", form.elements.document.value, "application/yaml");
    return `Fault injected: ${now.faults.length} rules in place.`;
  },
};

function actionsPage() {
  const result = document.getElementById("action-result");
  for (const form of document.querySelectorAll("form[data-action]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      result.className = "";
      result.textContent = "Working…";
      try {
        result.textContent = await ACTIONS[form.dataset.action](form);
      } catch (error) {
        result.className = "bad";
        result.textContent = error.message;
      }
    });
    for (const button of form.querySelectorAll("button[disabled]")) button.disabled = false;
  }
}

const PAGES = { requests: requestsPage, actions: actionsPage };
PAGES[document.body.dataset.page]?.();
