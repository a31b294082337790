"""The dashboard's pages: small server-rendered HTML, every value escaped and key-masked.

Plain f-strings with `esc` rather than a template engine: the pages are few and short, the
package stays free of another dependency, and nothing here is imported unless the dashboard is on.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wacht_mock.agents.plans import Fixed, Plan, ReplySequence
from wacht_mock.agents.script import AgentScript
from wacht_mock.core.journal import Entry
from wacht_mock.core.masking import mask_text
from wacht_mock.core.sse import read_events
from wacht_mock.core.wire import CONTROL_PREFIX
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.models import (
    Block,
    Context,
    FileBlock,
    ReasoningBlock,
    TextBlock,
    ToolCallBlock,
    ToolResultBlock,
    Turn,
)

UI = CONTROL_PREFIX + "/ui"
STATIC = UI + "/static"
NAV = (
    ("requests", "Requests", UI + "/"),
    ("contexts", "Contexts", UI + "/contexts"),
    ("agents", "Agents", UI + "/agents"),
    ("actions", "Actions", UI + "/actions"),
)
_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def esc(value: object) -> str:
    """`value` as HTML text: escaped, and any key-shaped value in it masked."""
    return html.escape(mask_text(str(value)), quote=True)


def layout(title: str, body: str, *, page: str, signed_in: bool = True) -> str:
    current = ' aria-current="page"'
    links = "".join(
        f'<a href="{href}"{current if name == page else ""}>{label}</a>'
        for name, label, href in NAV
    )
    nav = (
        f'<nav aria-label="Dashboard">{links}</nav>'
        f'<form method="post" action="{UI}/sign-out" class="sign-out">'
        '<button type="submit">Sign out</button></form>'
        if signed_in
        else ""
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · wacht-mock</title>"
        f'<link rel="icon" href="{STATIC}/icon.svg" type="image/svg+xml">'
        f'<link rel="stylesheet" href="{STATIC}/dashboard.css">'
        f'<script src="{STATIC}/dashboard.js" defer></script></head>'
        f'<body data-page="{page}"><a class="skip" href="#main">Skip to content</a>'
        f'<header><span class="brand">wacht-mock</span>{nav}</header>'
        f'<main id="main"><h1>{esc(title)}</h1>{body}</main></body></html>'
    )


def sign_in(problem: str | None = None) -> str:
    said = f'<p class="problem" role="alert">{esc(problem)}</p>' if problem else ""
    body = (
        f"{said}<p>The dashboard needs the control token the server printed at start.</p>"
        f'<form method="post" action="{UI}/sign-in" class="card">'
        '<label for="token">Control token</label>'
        '<input id="token" name="token" type="password" autocomplete="current-password" '
        "required autofocus>"
        '<button type="submit">Sign in</button></form>'
    )
    return layout("Sign in", body, page="sign-in", signed_in=False)


# Requests ----------------------------------------------------------------------------------


def operation(method: str, path: str) -> str:
    """`POST /ai/execution-contexts/{id}/execute`: the request with its ids left out."""
    return f"{method} {_ID_SEGMENT.sub('/{id}', path)}"


def moment(started_at: float) -> str:
    return datetime.fromtimestamp(started_at, UTC).strftime("%H:%M:%S.%f")[:-3]


def status_class(status: int) -> str:
    return "dropped" if status == 0 else f"{status // 100}xx"


def row_json(entry: Entry) -> dict[str, Any]:
    """What the list shows of an entry (the feed sends the same), every text masked."""
    problems = [*entry.violations, *(note for note in (entry.error, entry.outcome) if note)]
    return {
        "number": entry.number,
        "time": moment(entry.started_at),
        "method": entry.method,
        "path": mask_text(entry.path + (f"?{entry.query}" if entry.query else "")),
        "operation": operation(entry.method, entry.path),
        "status": entry.status,
        "status_class": status_class(entry.status),
        "duration_ms": entry.duration_ms,
        "deployment_id": entry.deployment_id or "",
        "agent": entry.agent_name or "",
        "script": mask_text(entry.script or ""),
        "fault": mask_text(entry.fault or ""),
        "problems": [mask_text(problem.splitlines()[-1]) for problem in problems if problem],
        "href": f"{UI}/requests/{entry.number}",
    }


def _row(entry: Entry) -> str:
    row = row_json(entry)
    flagged = " flagged" if row["problems"] or row["fault"] or entry.status >= 500 else ""
    notes = " ".join(filter(None, [row["fault"], *row["problems"]]))
    return (
        f'<tr class="s{row["status_class"]}{flagged}" data-number="{row["number"]}" '
        f'data-deployment="{esc(row["deployment_id"])}" data-status="{row["status_class"]}" '
        f'data-operation="{esc(row["operation"])}">'
        f'<td><a href="{row["href"]}">#{row["number"]}</a></td><td>{row["time"]}</td>'
        f'<td>{esc(row["method"])}</td><td class="path">{esc(row["path"])}</td>'
        f'<td class="status">{row["status"] or "dropped"}</td><td>{row["duration_ms"]:.1f}</td>'
        f"<td>{esc(row['deployment_id'])}</td><td>{esc(row['agent'])}</td>"
        f'<td>{esc(row["script"])}</td><td class="notes">{esc(notes)}</td></tr>'
    )


def _options(values: Iterable[str]) -> str:
    return "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in sorted(set(values)))


def _field(name: str, label: str, options: str) -> str:
    return (
        f'<span class="field"><label for="{name}">{label}</label>'
        f'<select id="{name}">{options}</select></span>'
    )


def requests_page(entries: Sequence[Entry], total: int) -> str:
    newest = list(reversed(entries))
    last = entries[-1].number if entries else total
    deployments = _options(e.deployment_id for e in entries if e.deployment_id)
    operations = _options(operation(e.method, e.path) for e in entries)
    statuses = _options(("2xx", "3xx", "4xx", "5xx", "dropped"))
    filters = (
        '<form class="filters" role="search" aria-label="Filter requests">'
        + _field("f-deployment", "Deployment", f'<option value="">any</option>{deployments}')
        + _field("f-status", "Status", f'<option value="">any</option>{statuses}')
        + _field("f-operation", "Operation", f'<option value="">any</option>{operations}')
        + '<span class="field"><label for="f-text">Text</label><input id="f-text" '
        'type="search" placeholder="path, agent, note…"></span></form>'
    )
    rows = "".join(_row(entry) for entry in newest)
    empty = "" if entries else '<p class="empty" id="no-requests">No requests yet.</p>'
    body = (
        f'{filters}<p class="live" id="live" role="status">{len(entries)} shown of {total} '
        "recorded; new requests appear here as they arrive.</p>"
        f'{empty}<div class="scroll"><table id="requests" data-since="{last}">'
        "<thead><tr><th>#</th><th>Time (UTC)</th><th>Method</th><th>Path</th><th>Status</th>"
        "<th>ms</th><th>Deployment</th><th>Agent</th><th>Script step</th><th>Notes</th></tr>"
        f"</thead><tbody>{rows}</tbody></table></div>"
    )
    return layout("Requests", body, page="requests")


def _pretty(text: str) -> str:
    """A JSON body indented, any other text as it is."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _body(title: str, text: str, kind: str) -> str:
    return f'<section class="body {kind}">{_body_html(title, text)}</section>'


def _body_html(title: str, text: str) -> str:
    if not text:
        return f'<h2>{title}</h2><p class="empty">No body.</p>'
    if text.startswith(("event:", "id:", "data:")):
        events, clean = read_events(text.encode())
        items = "".join(
            f'<li><span class="event">{esc(event.event)}</span>'
            f"{f' id {esc(event.id)}' if event.id else ''}"
            f"<pre>{esc(_pretty(event.data))}</pre></li>"
            for event in events
        )
        ending = (
            "" if clean else '<p class="problem">The stream ends in the middle of an event.</p>'
        )
        return f'<h2>{title}: {len(events)} events</h2><ol class="events">{items}</ol>{ending}'
    return f"<h2>{title}</h2><pre>{esc(_pretty(text))}</pre>"


def request_page(entry: Entry) -> str:
    row = row_json(entry)
    facts = [
        ("Time (UTC)", row["time"]),
        ("Status", row["status"] or "dropped (no answer)"),
        ("Duration", f"{entry.duration_ms:.1f} ms"),
        ("Deployment", row["deployment_id"]),
        ("Agent", row["agent"]),
        ("Script step", row["script"]),
        ("Fault", row["fault"]),
        ("Outcome", entry.outcome or ""),
    ]
    shown = "".join(f"<dt>{name}</dt><dd>{esc(value)}</dd>" for name, value in facts if value)
    problems = "".join(f"<li>{esc(p)}</li>" for p in (*entry.violations, entry.error) if p)
    headers = "".join(
        f'<tr><th scope="row">{esc(name)}</th><td>{esc(value)}</td></tr>'
        for name, value in entry.headers.items()
    )
    body = (
        f'<p><a href="{UI}/">← Requests</a></p><p class="request-line"><code>'
        f'{esc(entry.method)} {esc(row["path"])}</code></p><dl class="facts">{shown}</dl>'
        + (f'<h2>Problems</h2><ul class="problems">{problems}</ul>' if problems else "")
        + f'<h2>Request headers</h2><table class="headers">{headers}</table>'
        + _body("Request body", entry.body, "request-body")
        + _body("Response body", entry.response_body, "response-body")
    )
    return layout(f"Request #{entry.number}", body, page="requests")


# Contexts and conversations ----------------------------------------------------------------


def _state_cell(context: Context) -> str:
    state = context.execution_state
    return "" if state is None else f"{state.status} ({state.agent_name})"


def contexts_page(mock: WachtMock) -> str:
    sections = []
    for deployment in sorted(mock.store.deployments()):
        contexts = list(mock.store.contexts(deployment))
        if not contexts:
            continue
        rows = "".join(
            f'<tr><td><a href="{UI}/contexts/{esc(deployment)}/{esc(c.id)}">{esc(c.title)}</a>'
            f"</td><td><code>{esc(c.id)}</code></td><td>{esc(c.status)}</td>"
            f"<td>{esc(_state_cell(c))}</td><td>{c.executions}</td>"
            f"<td>{esc(c.updated_at.isoformat(timespec='seconds'))}</td></tr>"
            for c in contexts
        )
        sections.append(
            f"<section><h2>Deployment <code>{esc(deployment)}</code> ({len(contexts)})</h2>"
            '<div class="scroll"><table class="contexts"><thead><tr><th>Title</th><th>Id</th>'
            "<th>Status</th><th>Execution state</th><th>Executions</th><th>Updated</th></tr>"
            f"</thead><tbody>{rows}</tbody></table></div></section>"
        )
    body = "".join(sections) or '<p class="empty" id="no-contexts">No contexts.</p>'
    return layout("Contexts", body, page="contexts")


def block_html(block: Block) -> str:
    if isinstance(block, TextBlock):
        return f'<p class="block text">{esc(block.text)}</p>'
    if isinstance(block, ReasoningBlock):
        return (
            '<details class="block reasoning"><summary>Reasoning</summary>'
            f"<p>{esc(block.text)}</p></details>"
        )
    if isinstance(block, ToolCallBlock):
        return (
            f'<div class="block tool-call"><span class="label">Tool call</span> '
            f'<code>{esc(block.name)}</code> <span class="call-id">{esc(block.call_id)}</span>'
            f"<pre>{esc(json.dumps(block.args, indent=2, ensure_ascii=False))}</pre></div>"
        )
    if isinstance(block, ToolResultBlock):
        content = (
            block.content
            if isinstance(block.content, str)
            else json.dumps(block.content, indent=2, ensure_ascii=False)
        )
        return (
            f'<div class="block tool-result"><span class="label">Tool result</span> '
            f'<span class="call-id">{esc(block.call_id)}</span><pre>{esc(content)}</pre></div>'
        )
    assert isinstance(block, FileBlock)
    name = esc(block.file)
    return f'<div class="block file"><span class="label">File</span> <code>{name}</code></div>'


def _turn(turn: Turn) -> str:
    blocks = "".join(block_html(block) for block in turn.blocks)
    return (
        f'<li class="turn {esc(turn.role)}"><span class="role">{esc(turn.role)}</span>{blocks}</li>'
    )


def _outcome(context: Context, execution_id: str) -> str:
    state = context.execution_state
    if state is None or state.execution_id != execution_id:
        return ""
    text = f"Outcome: {state.status}"
    pending = state.pending_input_request
    if pending is not None:
        text += f" ({pending.kind}): {pending.message}"
    if state.error_message:
        text += f": {state.error_message}" + (f" ({state.error_code})" if state.error_code else "")
    return f'<p class="outcome {esc(state.status)}">{esc(text)}</p>'


def broken_streams(entries: Iterable[Entry], context_id: str) -> list[Entry]:
    """The requests on this context whose stream broke: cut, errored, dropped or left."""
    marker = f"/{context_id}/"
    return [
        e
        for e in entries
        if marker in e.path + "/"
        and (e.outcome or e.status == 0 or "\nevent: error" in "\n" + e.response_body)
    ]


@dataclass(frozen=True)
class ExecutionsSeen:
    """What the control API knows of a context's executions: the listing (None when it has
    none) and each one's run state (None: not recorded)."""

    listing: list[Any] | None
    runs: dict[str, Any]


def conversation_page(
    mock: WachtMock, context: Context, turns: Sequence[Turn], seen: ExecutionsSeen
) -> str:
    executions: dict[str, list[Turn]] = {}
    listed = {
        str(item.get("execution_id")): item for item in seen.listing or [] if isinstance(item, dict)
    }
    for execution_id in listed:
        executions[execution_id] = []
    for turn in turns:
        executions.setdefault(turn.execution_id, []).append(turn)
    state = context.execution_state
    if state is not None:
        executions.setdefault(state.execution_id, [])
    sections = []
    for number, (execution_id, its_turns) in enumerate(executions.items(), start=1):
        shown = "".join(_turn(turn) for turn in its_turns)
        about = _listed(listed.get(execution_id))
        sections.append(
            f'<section class="execution" data-execution-id="{esc(execution_id)}">'
            f"<h2>Execution {number} <code>{esc(execution_id)}</code>{about}</h2>"
            f'<ol class="turns">{shown}</ol>{_outcome(context, execution_id)}'
            '<details class="run-state"><summary>What the agent saw (run state)</summary>'
            f"{run_state_html(seen.runs.get(execution_id))}</details></section>"
        )
    broken = broken_streams(mock.journal.entries(), context.id)
    streams = "".join(
        f'<li><a href="{UI}/requests/{e.number}">#{e.number}</a> '
        f"{esc(e.outcome or ('dropped' if e.status == 0 else 'ended with an error event'))}"
        f"{': ' + esc(_stream_error(e)) if _stream_error(e) else ''}</li>"
        for e in broken
    )
    facts = (
        f'<dl class="facts"><dt>Deployment</dt><dd><code>{esc(context.deployment_id)}</code></dd>'
        f"<dt>Status</dt><dd>{esc(context.status)}</dd>"
        f"<dt>Execution state</dt><dd>{esc(_state_cell(context)) or 'none'}</dd>"
        + (
            f"<dt>System instructions</dt><dd>{esc(context.system_instructions)}</dd>"
            if context.system_instructions
            else ""
        )
        + "</dl>"
    )
    body = (
        f'<p><a href="{UI}/contexts">← Contexts</a></p>{facts}<div id="conversation">'
        + ("".join(sections) or '<p class="empty">No executions yet.</p>')
        + "</div>"
        + (f'<h2>Broken streams</h2><ul class="broken-streams">{streams}</ul>' if broken else "")
    )
    return layout(f"Conversation: {context.title}", body, page="contexts")


def _listed(item: dict[str, Any] | None) -> str:
    if item is None:
        return ""
    said = [
        str(item[key]) for key in ("agent_name", "kind", "status", "stop_reason") if item.get(key)
    ]
    return f' <span class="about">{esc(" · ".join(said))}</span>'


def run_state_html(run: Any) -> str:
    """An execution's run state (the Context the agent was given), or that none was recorded."""
    if not isinstance(run, dict):
        return '<p class="empty run-state-body">Run state not recorded.</p>'
    parts = []
    for key, title in (("system", "System"), ("guides", "Guides")):
        blocks = run.get(key) or []
        if blocks:
            parts.append(f"<h3>{title}</h3>" + "".join(_seed_block(b) for b in blocks))
    history = run.get("history") or []
    if history:
        turns = "".join(
            f'<li class="turn {esc(t.get("role", ""))}"><span class="role">'
            f"{esc(t.get('role', ''))}</span>"
            + "".join(_seed_block(b) for b in t.get("blocks") or [])
            + "</li>"
            for t in history
            if isinstance(t, dict)
        )
        parts.append(f'<h3>History ({len(history)} turns)</h3><ol class="turns">{turns}</ol>')
    for key, title in (
        ("task", "Task"),
        ("tools", "Tools"),
        ("policy", "Policy"),
        ("response_format", "Response format"),
        ("metadata", "Metadata"),
    ):
        if run.get(key):
            shown = json.dumps(run[key], indent=2, ensure_ascii=False)
            parts.append(f"<h3>{title}</h3><pre>{esc(shown)}</pre>")
    return f'<div class="run-state-body">{"".join(parts) or "Empty."}</div>'


def _seed_block(block: Any) -> str:
    """A run state's block (the seed's own shape) as the conversation shows blocks."""
    if not isinstance(block, dict):
        return f"<pre>{esc(block)}</pre>"
    kind = block.get("type")
    if kind == "text":
        return block_html(TextBlock(str(block.get("text", ""))))
    if kind == "reasoning":
        return block_html(ReasoningBlock(str(block.get("text", ""))))
    if kind == "tool_call" and isinstance(block.get("args"), dict):
        return block_html(
            ToolCallBlock(str(block.get("call_id", "")), str(block.get("name", "")), block["args"])
        )
    if kind == "tool_result":
        return block_html(ToolResultBlock(str(block.get("call_id", "")), block.get("content")))
    if kind == "file":
        return block_html(FileBlock(str(block.get("name", ""))))
    shown = json.dumps(block, indent=2, ensure_ascii=False)
    return f'<div class="block"><span class="label">{esc(kind)}</span><pre>{esc(shown)}</pre></div>'


def _stream_error(entry: Entry) -> str:
    events, _ = read_events(entry.response_body.encode())
    errors = [event.data for event in events if event.event == "error"]
    if not errors:
        return ""
    try:
        return str(json.loads(errors[-1])["errors"][0]["message"])
    except (ValueError, KeyError, IndexError, TypeError):
        return errors[-1]


# Agents ------------------------------------------------------------------------------------


def _plan(plan: Plan, positions: dict[str, int]) -> str:
    if isinstance(plan, Fixed):
        return f"one reply: <q>{esc((plan.reply.text or plan.reply.ask or '…')[:120])}</q>"
    assert isinstance(plan, ReplySequence)
    ran = "; ".join(f"{esc(d)}: {n} of {len(plan.replies)} used" for d, n in positions.items())
    return f"a sequence of {len(plan.replies)} (then {esc(plan.when_exhausted)})" + (
        f' <span class="progress">{ran}</span>' if ran else " <span>not started</span>"
    )


def _positions(script: AgentScript, key: int) -> dict[str, int]:
    """How far each deployment's run has gone in plan `key` (a rule's index, or -1)."""
    runs = dict(getattr(script, "_runs", {}))
    return {
        (tenant or "no deployment"): run.positions[key]
        for tenant, run in runs.items()
        if key in run.positions
    }


def _script(script: AgentScript, owner: str | None) -> str:
    rules = "".join(
        f"<li>when {esc(rule.when.describe())}: {_plan(rule.plan, _positions(script, i))}</li>"
        for i, rule in enumerate(script.rules)
    )
    fallback: Plan | None = getattr(script, "_fallback", None)
    own = (
        f"<p>Otherwise {_plan(fallback, _positions(script, -1))}.</p>"
        if fallback is not None
        else "<p>Otherwise the default agent answers.</p>"
    )
    calls = "".join(
        f"<tr><td>{esc(r.call.kind)}</td><td>{esc(r.call.message or '')}</td>"
        f"<td><code>{esc(r.call.context.id)}</code></td><td>{r.call.turn}</td>"
        f"<td>{esc('' if r.reply is None else r.reply.text[:200])}</td></tr>"
        for r in script.calls[-50:]
    )
    log = (
        f'<h3>Calls ({script.call_count}; the last 50 shown)</h3><div class="scroll">'
        '<table class="calls"><thead><tr><th>Kind</th><th>Message</th><th>Context</th>'
        f"<th>Turn</th><th>Reply</th></tr></thead><tbody>{calls}</tbody></table></div>"
        if calls
        else "<p>Not called yet.</p>"
    )
    whose = f" (deployment <code>{esc(owner)}</code> only)" if owner else ""
    strict = " · strict" if script.strict else ""
    return (
        f'<section class="agent"><h2>{esc(script.name)}{whose}{strict}</h2>'
        f"{f'<ol class=rules>{rules}</ol>' if rules else ''}{own}{log}</section>"
    )


def agents_page(mock: WachtMock) -> str:
    engine = mock.engine
    shared: dict[str, AgentScript] = dict(getattr(engine, "_scripts", {}))
    own: dict[str, dict[str, AgentScript]] = dict(getattr(engine, "_own", {}))
    sections = [_script(shared[name], None) for name in sorted(shared)]
    for deployment in sorted(own):
        sections += [_script(s, deployment) for _, s in sorted(own[deployment].items())]
    seed = "0 (the default)" if engine.seed is None else str(engine.seed)
    body = (
        f"<p>The default agent answers any agent without a script, seeded with <b>{esc(seed)}"
        f"</b>{'; strict mode is on: an unscripted agent is a 404' if engine.strict else ''}.</p>"
        + ("".join(sections) or '<p class="empty" id="no-agents">No scripted agents.</p>')
    )
    return layout("Agents", body, page="agents")


# Actions -----------------------------------------------------------------------------------


def actions_page(mock: WachtMock) -> str:
    # Each action is made by the page's script: its buttons stay disabled until the script
    # has taken the forms over (a click before that would submit the form as a plain GET).
    deployments = _options(mock.store.deployments())
    seed = "" if mock.engine.seed is None else str(mock.engine.seed)
    checked = " checked" if mock.engine.strict else ""
    body = (
        "<p>Each action is a call of the control API, made by this page on your behalf.</p>"
        '<output id="action-result" role="status" aria-live="polite"></output>'
        '<section class="card"><h2>Reset</h2><form data-action="reset">'
        '<label for="reset-deployment">Deployment</label> <select id="reset-deployment" '
        f'name="deployment_id"><option value="">all</option>{deployments}</select> '
        '<button type="submit" disabled>Reset</button></form></section>'
        '<section class="card"><h2>Load a fixture document</h2><form data-action="fixtures">'
        '<label for="fixture-text">YAML (contexts, agents, faults)</label>'
        '<textarea id="fixture-text" name="document" rows="10" required spellcheck="false">'
        '</textarea><button type="submit" disabled>Load</button></form></section>'
        '<section class="card"><h2>Settings</h2><form data-action="settings">'
        f'<label>Seed <input name="seed" inputmode="numeric" value="{esc(seed)}" '
        'placeholder="none"></label>'
        f'<label><input type="checkbox" name="strict_agents"{checked}> Strict agents</label>'
        '<button type="submit" disabled>Apply</button></form></section>'
        '<section class="card"><h2>Inject a fault</h2><form data-action="faults">'
        '<label for="fault-text">A rule or a list, in YAML</label>'
        '<textarea id="fault-text" name="document" rows="4" required spellcheck="false">'
        "{operation: list, status: 503, times: 1}</textarea>"
        '<button type="submit" disabled>Inject</button></form></section>'
    )
    return layout("Actions", body, page="actions")
