"""The ASGI middleware that writes every request into the journal, and what routes tell it."""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wacht_mock.core.journal import BODY_LIMIT, QUERY_LIMIT, Entry, Journal, clip, clip_headers
from wacht_mock.core.masking import mask_header, mask_text

#: One line per request, at INFO (WARNING for an error inside the server).
request_log = logging.getLogger("wacht_mock.requests")

#: Statuses whose response ends with its head: a client may act on them before any body message.
BODILESS = frozenset({204, 304})
_FACTS = "wacht_mock.facts"


@dataclass
class Facts:
    """What the handlers learn about a request that its bytes do not say, for its journal entry.

    One per request, on its ASGI scope: :func:`facts` finds it (and makes it, for a request the
    recorder does not see), handlers fill it in, the recorder reads it once the response ends.
    """

    deployment_id: str | None = None
    agent_name: str | None = None
    script: str | None = None  # the script step that answered
    violations: list[str] = field(default_factory=list)  # what the request broke, in words
    error: str | None = None  # why the mock could not answer (its setup, or a bug)
    fault: str | None = None  # an injected or scripted fault that answered instead
    dropped: bool = False  # the connection was dropped on purpose: no status reached the client
    outcome: str | None = None  # how the exchange ended when the client did not see all of it


def facts(scope: Scope) -> Facts:
    """The :class:`Facts` of the request whose ``scope`` this is."""
    found: Facts = scope.setdefault(_FACTS, Facts())
    return found


class Recorder:
    """Records method, path, query, masked headers, bodies, status, timing and script step.

    Requests under ``skip_prefix`` (the control API) are not the client's traffic: not recorded.

    Handlers tell it what the request's bytes do not say through its :class:`Facts`.
    """

    def __init__(self, app: ASGIApp, journal: Journal, skip_prefix: str) -> None:
        self.app = app
        self.journal = journal
        self.skip_prefix = skip_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip_prefix):
            await self.app(scope, receive, send)
            return
        scope[_FACTS] = Facts()
        started, clock = time.time(), time.perf_counter()
        request_body, response_body = _Start(), _Start()
        status = 0
        recorded = False

        def record(error: str | None = None) -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                entry = _entry(
                    self.journal.next_number(),
                    scope,
                    (started, clock),
                    status,
                    error,
                    (request_body, response_body),
                )
                self.journal.record(entry)
                log_request(entry)

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request_body.add(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if status in BODILESS or scope["method"] == "HEAD":
                    record()  # the client sees the whole response with its head
            elif message["type"] == "http.response.body":
                response_body.add(message.get("body", b""))
                if not message.get("more_body", False):
                    record()  # before the client can see the end of the response
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        except BaseException as exc:
            record("".join(traceback.format_exception_only(exc)).strip())
            raise
        finally:
            record()


class _Start:
    """The start of a body as it passes, as much as an entry shows (`BODY_LIMIT`), and how long
    the whole was.

    Only the start is kept, never the rest: a large upload or a stream of any length costs
    the recorder `BODY_LIMIT` bytes at most, and the entry still says the body's whole size.
    """

    def __init__(self) -> None:
        self.kept = bytearray()
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        room = BODY_LIMIT - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]

    def clipped(self) -> str:
        return clip(bytes(self.kept), size=self.size)


def _entry(
    number: int,
    scope: Scope,
    times: tuple[float, float],
    status: int,
    error: str | None,
    bodies: tuple[_Start, _Start],
) -> Entry:
    notes = facts(scope)
    (started, clock), (body, response) = times, bodies
    return Entry(
        number=number,
        started_at=started,
        method=scope["method"],
        path=mask_text(scope["path"]),
        query=clip(scope.get("query_string", b""), QUERY_LIMIT, "latin-1"),
        headers=_headers(scope),
        body=body.clipped(),
        status=0 if notes.dropped else status,
        response_body=response.clipped(),
        duration_ms=round((time.perf_counter() - clock) * 1000, 3),
        deployment_id=notes.deployment_id,
        agent_name=notes.agent_name,
        script=notes.script,
        violations=tuple(mask_text(note) for note in notes.violations),
        error=_masked(error or notes.error),
        fault=notes.fault,
        outcome=notes.outcome,
    )


def log_request(entry: Entry) -> None:
    """``POST /ai/execution-contexts/7/execute 200 2.1 ms support-bot [rule 1 …]``, one line."""
    level = logging.WARNING if entry.error else logging.INFO
    if not request_log.isEnabledFor(level):
        return
    target = entry.path + (f"?{entry.query}" if entry.query else "")
    status = str(entry.status) if entry.status else "dropped"
    parts = [entry.method, target, status, f"{entry.duration_ms:.1f} ms"]
    if entry.agent_name:
        parts.append(entry.agent_name)
    parts += [f"[{note}]" for note in (entry.script, entry.fault) if note]
    parts += [f"({violation})" for violation in entry.violations]
    if entry.error:
        parts.append(f"error: {entry.error.splitlines()[-1]}")
    fields = {
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "status": entry.status,
        "duration_ms": entry.duration_ms,
        "deployment_id": entry.deployment_id,
        "agent": entry.agent_name,
        "script": entry.script,
        "fault": entry.fault,
        "violations": list(entry.violations),
        "error": entry.error,
    }
    request_log.log(level, " ".join(parts), extra={"wacht_request": fields})


def _headers(scope: Scope) -> dict[str, str]:
    headers = []
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers.append((name, mask_header(name, value)))
    return clip_headers(headers)


def _masked(text: str | None) -> str | None:
    return None if text is None else mask_text(text)
