"""Recording what an upstream answers, as fixture files the mock loads unedited.

The proxy hands each exchange to a `FixtureRecorder`; it keeps, per deployment (under a
key alias), the contexts as last seen with their ids, timestamps and history, and per agent the
replies as rules matched on the request that produced them (message, execution kind, context).
Files are written after every recorded exchange: `deployment.<alias>.yaml` and
`agent.<name>.yaml`, in a stable order and format, merged with what the folder already held
(a newer answer to the same request replaces the older one; the same request answered again in
one session becomes a sequence of replies).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import yaml

from wacht_mock._version import __version__
from wacht_mock.core.cassette import DEFAULT_KEY_ALIAS, RecordedContext, Scrubber, dump_yaml
from wacht_mock.core.sse import SseEvent

logger = logging.getLogger("wacht_mock.proxy")

COLLECTION = "/ai/execution-contexts"
_ITEM = re.compile(r"^/ai/execution-contexts/([^/]+)(/execute|/messages)?/?$")
KINDS = ("new_message", "continue", "stream")
#: Execute errors written as faults: the upstream's own failures. Other errors (bad body, unknown
#: context, inactive context, auth) are what the mock answers by itself on replay.
FAULT_STATUSES = frozenset({408, 429})
PAGE = 100
RuleKey = tuple[str, str, str]  # context id, kind, message ("" for continue)


def parse_timing(text: str) -> float | None:
    """`exact` (1.0), `scaled:F` (F), `none` (None): how stream timing is kept."""
    if text == "none":
        return None
    if text == "exact":
        return 1.0
    name, _, factor = text.partition(":")
    try:
        value = float(factor) if name == "scaled" else -1.0
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ValueError(f"--record-timing is exact, scaled:F (F >= 0) or none, not {text!r}")
    return value


@dataclass
class _Agent:
    rules: dict[RuleKey, list[dict[str, Any]]] = field(default_factory=dict)


class FixtureRecorder:
    """Turns exchanges into fixture files under `directory`."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        upstream: str,
        key_alias: str = DEFAULT_KEY_ALIAS,
        timing: str = "none",
        on_write: Callable[[list[Path]], None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.on_write = on_write
        self.scrubber = Scrubber(key_alias)
        self.alias = key_alias
        self.timing = parse_timing(timing)
        self.upstream = _shown_url(upstream)
        self.written = 0
        self._lock = threading.Lock()
        self._contexts: dict[str, dict[str, Any]] = {}
        self._agents: dict[str, _Agent] = {}
        self._fresh: set[tuple[str, RuleKey]] = set()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._read_existing()

    # -- what the proxy calls ---------------------------------------------------------------

    def capture(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> Capture | None:
        """A capture for an exchange worth recording (None for the others)."""
        authorization = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() == "bearer" and key.strip():
            self.scrubber.learn(key.strip())
        matched = _ITEM.match(path)
        if path.rstrip("/") == COLLECTION and method in ("GET", "POST"):
            return Capture(self, method, None, None, body)
        if matched and (matched.group(2), method) in (
            (None, "GET"),
            (None, "PATCH"),
            (None, "DELETE"),
            ("/execute", "POST"),
            ("/messages", "GET"),
        ):
            return Capture(self, method, matched.group(1), matched.group(2), body)
        return None

    def learn_key(self, key: str) -> None:
        """A key that must never be written (the upstream's, when the proxy sends its own)."""
        self.scrubber.learn(key)

    # -- the recorded state -----------------------------------------------------------------

    def seen(self, context: Mapping[str, Any], *, created_by: Any = None) -> None:
        known = self._contexts.get(str(context.get("id")))
        entry = {key: context.get(key) for key in _CONTEXT_FIELDS if key in context}
        entry["history"] = known["history"] if known else []
        previous = known.get("created_by") if known else None
        if created_by is not None or previous is not None:
            entry["created_by"] = created_by if created_by is not None else previous
        self._contexts[str(context["id"])] = entry

    def history(self, context_id: str, turns: Iterable[Mapping[str, Any]], *, whole: bool) -> None:
        entry = self._contexts.get(context_id)
        if entry is None:
            return
        known = {} if whole else {str(t["id"]): t for t in entry["history"]}
        known.update({str(turn["id"]): dict(turn) for turn in turns})
        entry["history"] = sorted(known.values(), key=lambda t: _id_order(str(t["id"])))

    def deleted(self, context_id: str) -> None:
        entry = self._contexts.get(context_id)
        if entry is not None and "created_by" not in entry:
            del self._contexts[context_id]  # a context the replay creates again stays

    def reply(self, agent: str, key: RuleKey, reply: dict[str, Any]) -> None:
        rules = self._agents.setdefault(agent, _Agent()).rules
        if (agent, key) in self._fresh:
            rules[key].append(reply)
        else:
            self._fresh.add((agent, key))
            rules[key] = [reply]

    def write(self) -> None:
        """Write every file (atomically, each in one go); `on_write` hears which changed."""
        changed: list[Path] = []
        with self._lock:
            if self._contexts:
                contexts = [
                    self._context_document(c)
                    for _, c in sorted(self._contexts.items(), key=lambda i: _id_order(i[0]))
                ]
                document: dict[str, Any] = {"deployments": {self.alias: {"contexts": contexts}}}
                changed += self._write(f"deployment.{self.alias}.yaml", document)
            for name, agent in sorted(self._agents.items()):
                rules = [_rule(key, replies) for key, replies in sorted(agent.rules.items())]
                document = {"agents": {name: {"strict": True, "rules": rules}}}
                changed += self._write(f"agent.{_slug(name)}.yaml", document)
            self.written += 1
        if changed and self.on_write is not None:
            self.on_write(changed)

    # -- internals --------------------------------------------------------------------------

    def _context_document(self, entry: dict[str, Any]) -> dict[str, Any]:
        document = dict(self.scrubber.value(entry))
        RecordedContext.model_validate(document)  # the shape the mock reads
        return document

    def _write(self, name: str, document: dict[str, Any]) -> list[Path]:
        text = dump_yaml(self.scrubber.value(document), self._provenance())
        target = self.directory / name
        if target.exists() and target.read_text("utf-8") == text:
            return []
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, target)
        return [target]

    def _provenance(self) -> list[str]:
        day = dt.datetime.now(dt.UTC).date().isoformat()
        return [
            f"Recorded by wacht-mock {__version__} from {self.upstream} on {day}.",
            f"API keys are written as {self.alias}; key-shaped values are masked.",
        ]

    def _read_existing(self) -> None:
        for path in sorted(self.directory.glob("*.yaml")):
            try:
                document = yaml.safe_load(path.read_text("utf-8")) or {}
                self._merge_existing(document)
            except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}: cannot merge into this recording: {exc}") from None

    def _merge_existing(self, document: dict[str, Any]) -> None:
        for deployment in (document.get("deployments") or {}).values():
            for context in deployment.get("contexts") or []:
                if "id" in context:
                    self._contexts[str(context["id"])] = dict(context)
        for name, agent in (document.get("agents") or {}).items():
            rules = self._agents.setdefault(name, _Agent()).rules
            for rule in agent.get("rules") or []:
                when = rule["when"]
                key = (str(when["context_id"]), when["kind"], when.get("message", ""))
                rules[key] = list(rule["sequence"]) if "sequence" in rule else [rule["reply"]]


_CONTEXT_FIELDS = (
    "id",
    "title",
    "system_instructions",
    "context_group",
    "status",
    "created_at",
    "updated_at",
    "last_activity_at",
    "completed_at",
    "execution_state",
)


Fetch = Callable[[str], Awaitable[Any]]
"""`async (path) -> parsed JSON`: a GET to the upstream with the request's credentials."""


class Capture:
    """One exchange being recorded: the request, stream events as they pass, then the answer."""

    def __init__(
        self,
        recorder: FixtureRecorder,
        method: str,
        context_id: str | None,
        sub: str | None,
        body: bytes,
    ) -> None:
        self.recorder = recorder
        self.method = method
        self.context_id = context_id
        self.sub = sub
        self.body = body
        self.request: Any = None
        self.started = time.monotonic()
        self.events: list[tuple[float, SseEvent]] = []

    def event(self, event: SseEvent) -> None:
        """A stream event, as it passes (its offset from the request kept for the timing)."""
        self.events.append((time.monotonic() - self.started, event))

    async def finish(
        self,
        status: int,
        headers: Mapping[str, str],
        content: bytes | None,
        fetch: Fetch,
        *,
        complete: bool = True,
        dropped: bool = False,
    ) -> None:
        """Record the answer (`content` None for a stream); problems are logged, not raised."""
        failed = status >= 400 and not (self.sub == "/execute" and _is_fault(status))
        if failed:
            return  # the mock gives the same answer to the same bad request by itself
        try:
            self.request = _json(self.body)  # read once the upstream accepted it
            if self.sub == "/execute":
                await self._execution(status, headers, content, fetch, complete, dropped)
            else:
                self._record(status, content)
            self.recorder.write()
        except (ValueError, KeyError, TypeError, AttributeError, OSError, httpx.HTTPError) as exc:
            logger.warning("could not record %s %s: %r", self.method, self.context_id, exc)

    # -- plain requests ---------------------------------------------------------------------

    def _record(self, status: int, content: bytes | None) -> None:
        """Contexts and histories, from what the upstream answered."""
        recorder = self.recorder
        if self.method == "DELETE" and status == 204 and self.context_id:
            recorder.deleted(self.context_id)
            return
        if status != 200 or content is None:
            return
        answer = _json(content)
        if self.sub == "/messages" and self.context_id:
            recorder.history(self.context_id, answer["data"], whole=False)
        elif self.context_id is None and self.method == "GET":
            for context in answer["data"]:
                recorder.seen(context)
        elif self.context_id is None:  # a create
            recorder.seen(answer, created_by=_as_object(self.request))
        else:
            recorder.seen(answer)

    # -- executions -------------------------------------------------------------------------

    async def _execution(
        self,
        status: int,
        headers: Mapping[str, str],
        content: bytes | None,
        fetch: Fetch,
        complete: bool,
        dropped: bool,
    ) -> None:
        agent, kind, message = _execute_request(self.request)
        assert self.context_id is not None
        if status >= 400:
            reply = _http_fault(status, headers, content or b"")
            self.recorder.reply(agent, (self.context_id, kind, message or ""), reply)
            return
        if content is not None:
            answer = _json(content)
            fault = None
        else:
            answer, fault = self._stream_answer(complete, dropped)
        context, turns = await self._afterwards(fetch, self.context_id)
        reply = _reply(answer, context, turns)
        if content is None:
            reply["chunking"] = [
                json.loads(e.data)["text"] for _, e in self.events if e.event == "content_delta"
            ] or "word"
            if self.recorder.timing is not None:
                reply["timing"] = [round(at * self.recorder.timing, 3) for at, _ in self.events]
        if fault is not None:
            reply["fault"] = fault
        self.recorder.reply(agent, (self.context_id, kind, message or ""), reply)

    async def _afterwards(self, fetch: Fetch, context_id: str) -> tuple[Any, list[Any]]:
        """The context and its history after the execution (tool results, the ask, the state).

        Without them (an upstream that does not answer these reads) the reply is still recorded.
        """
        try:
            context = await fetch(f"{COLLECTION}/{context_id}")
            turns = await _all_turns(fetch, context_id)
        except (ValueError, KeyError, TypeError, httpx.HTTPError) as exc:
            logger.warning("recorded without the context's history (%s): %r", context_id, exc)
            return None, []
        self.recorder.seen(context)
        self.recorder.history(context_id, turns, whole=True)
        return context, turns

    def _stream_answer(self, complete: bool, dropped: bool) -> tuple[Any, dict[str, Any] | None]:
        """The message_end body, or (for a broken stream) a body made of what came, and a fault."""
        names = [event.event for _, event in self.events]
        if "message_end" in names:
            return _json(self.events[names.index("message_end")][1].data.encode()), None
        text = "".join(
            json.loads(e.data)["text"] for _, e in self.events if e.event == "content_delta"
        )
        calls = [json.loads(e.data) for _, e in self.events if e.event == "tool_call"]
        answer = {"status": "failed", "response": {"content": text, "tool_calls": calls}}
        if "error" in names:
            error = json.loads(self.events[names.index("error")][1].data)["errors"][0]
            fault = {
                "mode": "error",
                "after_events": names.index("error"),
                "code": error["code"],
                "message": error["message"],
            }
        else:
            mode = "drop" if dropped or not complete else "cut"
            fault = {"mode": mode, "after_events": len(names)}
        return answer, fault


async def _all_turns(fetch: Fetch, context_id: str) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = await fetch(f"{COLLECTION}/{context_id}/messages?limit={PAGE}&offset={offset}")
        turns += page["data"]
        offset += len(page["data"])
        if not page.get("has_more") or not page["data"]:
            return turns


def _execute_request(request: Any) -> tuple[str, str, str | None]:
    """Agent, kind and message of an execute body (null variants, as some clients send, skipped)."""
    variants = {k: v for k, v in request["execution_type"].items() if k in KINDS and v is not None}
    if len(variants) != 1:
        raise ValueError("not one execution_type variant")
    ((kind, variant),) = variants.items()
    message = variant.get("message") if isinstance(variant, dict) else None
    return str(request["agent_name"]), kind, message


def _reply(answer: Any, context: Any, turns: list[dict[str, Any]]) -> dict[str, Any]:
    """A reply in the fixture's shape, holding everything the upstream's answer had."""
    response = answer.get("response") or {}
    execution_id = answer.get("execution_id")
    results = {
        block.get("call_id"): block.get("content")
        for turn in turns
        if turn.get("execution_id") == execution_id
        for block in turn.get("blocks", [])
        if block.get("type") == "tool_result"
    }
    reply: dict[str, Any] = {"text": _literal(response.get("content") or "")}
    if response.get("reasoning") is not None:
        reply["reasoning"] = _literal(response["reasoning"])
    calls = []
    for call in response.get("tool_calls") or []:
        item = {"name": call["name"], "args": _literal(call.get("args") or {}), "id": call["id"]}
        if call["id"] in results:
            item["result"] = results[call["id"]]
        calls.append(item)
    if calls:
        reply["tool_calls"] = calls
    if response.get("structured_output") is not None:
        reply["structured_output"] = response["structured_output"]
    usage = response.get("usage")
    if usage:
        reply["usage"] = {key: usage[key] for key in ("input_tokens", "output_tokens")}
    if response.get("stop_reason"):
        reply["stop_reason"] = response["stop_reason"]
    status = answer.get("status")
    state = (context or {}).get("execution_state") or {}
    pending = state.get("pending_input_request") or {}
    if status == "waiting_for_input" and pending.get("message"):
        reply["ask"] = _literal(pending["message"])
        reply["status"] = "waiting_for_input"
    elif status == "completed":
        reply["status"] = "completed"
    return reply


def _is_fault(status: int) -> bool:
    return status in FAULT_STATUSES or status >= 500


def _http_fault(status: int, headers: Mapping[str, str], content: bytes) -> dict[str, Any]:
    fault: dict[str, Any] = {"status": status}
    with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
        fault["message"] = _json(content)["errors"][0]["message"]
    retry = {k.lower(): v for k, v in headers.items()}.get("retry-after", "")
    if retry.isdigit():
        fault["retry_after"] = int(retry)
    return {"fault": fault}


def _rule(key: RuleKey, replies: list[dict[str, Any]]) -> dict[str, Any]:
    context_id, kind, message = key
    when: dict[str, Any] = {"context_id": context_id, "kind": kind}
    if kind != "continue":
        when["message"] = message
    if len(replies) == 1:
        return {"when": when, "reply": replies[0]}
    return {"when": when, "sequence": replies, "when_exhausted": "repeat_last"}


def _literal(value: Any) -> Any:
    """Recorded text kept as written: braces doubled, so the mock does not read templates."""
    if isinstance(value, str):
        return value.replace("{", "{{").replace("}", "}}")
    if isinstance(value, dict):
        return {key: _literal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_literal(item) for item in value]
    return value


def _json(raw: bytes) -> Any:
    return json.loads(raw.decode("utf-8")) if raw else None


def _as_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("a create body is a JSON object")
    return value


def _id_order(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (1 << 64, value)


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", name).strip(".") or "agent"
    if slug == name:
        return slug
    return f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def _shown_url(url: str) -> str:
    """The upstream without credentials or query (it is written into every file)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
