"""The ASGI middleware that writes every request into the journal, and what routes tell it."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wacht_mock.core.errors import ApiError
from wacht_mock.core.journal import (
    BODY_LIMIT,
    QUERY_LIMIT,
    Entry,
    Journal,
    RawBody,
    clip,
    clip_headers,
)
from wacht_mock.core.masking import mask_header, mask_text

#: One line per request, at INFO (WARNING for an error inside the server).
request_log = logging.getLogger("wacht_mock.requests")
#: Where a bug in the mock is logged, with its traceback.
logger = logging.getLogger("wacht_mock")

#: Statuses whose response ends with its head: a client may act on them before any body message.
BODILESS = frozenset({204, 304})
_FACTS = "wacht_mock.facts"


@dataclass
class Facts:
    """What the handlers learn about a request that its bytes do not say, for its journal entry.

    One per request, on its ASGI scope: `facts` finds it (and makes it, for a request the
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
    """The `Facts` of the request whose `scope` this is."""
    found: Facts = scope.setdefault(_FACTS, Facts())
    return found


class Recorder:
    """Records method, path, query, masked headers, bodies, status, timing and script step.

    Requests under `skip_prefix` (the control API) are not the client's traffic: not recorded.

    Handlers tell it what the request's bytes do not say through its `Facts`.

    With `answer_errors`, it is also the one wrapper that catches what escapes the app: a bug
    becomes a JSON 500 in the error envelope (logged, its traceback in the entry's error),
    recorded like any answer; once a response has started, the exception goes on up.

    Bodies are kept as the bytes that came, up to what the journal shows (`RawBody` past it):
    they are decoded, clipped and masked when the journal is read, not on the request's path.
    """

    def __init__(
        self, app: ASGIApp, journal: Journal, skip_prefix: str, *, answer_errors: bool = False
    ) -> None:
        self.app = app
        self.journal = journal
        self.skip_prefix = skip_prefix
        self.answer_errors = answer_errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(self.skip_prefix):
            if self.answer_errors:
                await self._answered(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        scope[_FACTS] = Facts()
        started, clock = time.time(), time.perf_counter()
        request_body, response_body = bytearray(), bytearray()
        sizes = [0, 0]  # the whole request body, the whole response body
        status = 0
        recorded = False
        head_only = scope["method"] == "HEAD"

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
                    (_kept(request_body, sizes[0]), _kept(response_body, sizes[1])),
                )
                self.journal.record(entry)
                log_request(entry)

        async def receiving() -> Message:
            message = await receive()
            # Only what the journal shows is kept, never the whole of a large upload.
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                sizes[0] += len(chunk)
                if len(request_body) < BODY_LIMIT:
                    request_body.extend(chunk[: BODY_LIMIT - len(request_body)])
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.body":
                # Capped: a long stream's events cannot grow one entry without end.
                chunk = message.get("body", b"")
                sizes[1] += len(chunk)
                if len(response_body) < BODY_LIMIT:
                    response_body.extend(chunk[: BODY_LIMIT - len(response_body)])
                if not message.get("more_body", False):
                    record()  # before the client can see the end of the response
            elif kind == "http.response.start":
                status = message["status"]
                if status in BODILESS or head_only:
                    record()  # the client sees the whole response with its head
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        except Exception as exc:
            if self.answer_errors:
                _log_bug(scope, exc)
                if not status:  # nothing reached the client yet: a 500 can still answer
                    await _server_error(scope, receive, sending)
                    return
            record("".join(traceback.format_exception_only(exc)).strip())
            raise
        except BaseException as exc:
            record("".join(traceback.format_exception_only(exc)).strip())
            raise
        finally:
            record()

    async def _answered(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app's answer, not recorded; a bug a JSON 500 while no response has started."""
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            _log_bug(scope, exc)
            if started:
                raise
            await _server_error(scope, receive, send)


#: What a client sees of a bug in the mock; the log and the journal entry say more.
SERVER_ERROR = "Internal server error in the mock (see its log)"


def _log_bug(scope: Scope, exc: Exception) -> None:
    logger.error("internal error on %s %s", scope.get("method"), scope.get("path"), exc_info=exc)
    facts(scope).error = "".join(traceback.format_exception(exc, limit=-3)).strip()


async def _server_error(scope: Scope, receive: Receive, send: Send) -> None:
    await ApiError(SERVER_ERROR, status=500).response()(scope, receive, send)


def _kept(data: bytearray, length: int) -> bytes | RawBody:
    """A body for the journal: its bytes when they are the whole of it, else what was kept of
    it and how long it was."""
    return bytes(data) if len(data) == length else RawBody(bytes(data), length)


def _entry(
    number: int,
    scope: Scope,
    times: tuple[float, float],
    status: int,
    error: str | None,
    bodies: tuple[bytes | RawBody, bytes | RawBody],
) -> Entry:
    notes = facts(scope)
    (started, clock), (body, response) = times, bodies
    query = scope.get("query_string", b"")
    # Every field is given, of the right type: set at once rather than through the frozen
    # dataclass's `__init__`, which sets them one `object.__setattr__` each.
    entry: Entry = object.__new__(Entry)
    entry.__dict__.update(
        number=number,
        started_at=started,
        method=scope["method"],
        path=mask_text(scope["path"]),
        query=clip(query, QUERY_LIMIT, "latin-1") if query else "",
        headers=_headers(scope),
        body=body,
        status=0 if notes.dropped else status,
        response_body=response,
        duration_ms=round((time.perf_counter() - clock) * 1000, 3),
        deployment_id=notes.deployment_id,
        agent_name=notes.agent_name,
        script=notes.script,
        violations=tuple(map(mask_text, notes.violations)) if notes.violations else (),
        error=_masked(error or notes.error),
        fault=notes.fault,
        outcome=notes.outcome,
    )
    return entry


def log_request(entry: Entry) -> None:
    """`POST /ai/execution-contexts/7/execute 200 2.1 ms support-bot [rule 1 …]`, one line.

    The record carries the entry (`wacht_request`; `request_fields` for a structured
    log). It is handed to the logger's handlers directly: a request line has no caller worth
    looking up on every request. Once `send_request_lines_to` has a sink (`serve`'s text
    log), the line goes to the sink instead, as text: the logger's level still decides, its
    handlers and filters are not asked.
    """
    level = logging.WARNING if entry.error else logging.INFO
    if not request_log.isEnabledFor(level):
        return
    target = f"{entry.path}?{entry.query}" if entry.query else entry.path
    status = str(entry.status) if entry.status else "dropped"
    line = f"{entry.method} {target} {status} {entry.duration_ms:.1f} ms"
    if entry.agent_name or entry.script or entry.fault or entry.violations or entry.error:
        parts = [line]
        if entry.agent_name:
            parts.append(entry.agent_name)
        parts += [f"[{note}]" for note in (entry.script, entry.fault) if note]
        parts += [f"({violation})" for violation in entry.violations]
        if entry.error:
            parts.append(f"error: {entry.error.splitlines()[-1]}")
        line = " ".join(parts)
    sink = _line_sink
    if sink is None:
        request_log.handle(_request_record(level, line, entry))
    else:
        sink(level, line)


#: Takes a request line as its level and text, in place of a record through `logging`.
RequestLineSink = Callable[[int, str], None]
_line_sink: RequestLineSink | None = None


def send_request_lines_to(sink: RequestLineSink | None) -> None:
    """Hand request lines to `sink` as text, not through `logging`'s handlers; None (the
    default) gives them back to `logging`.

    For a log whose one reader writes text (`serve`'s): a record made, dispatched and
    formatted for every request was most of a request line's cost. Whether the line is
    wanted is still the logger's to say (its level), and its text is the same.
    """
    global _line_sink
    _line_sink = sink


#: What every request line's record has in common, worked out once (`LogRecord.__init__`
#: works out the same file and module names, and looks up the thread, for every record).
_RECORD_COMMON = logging.LogRecord(
    request_log.name, logging.INFO, __file__, 0, "", (), None
).__dict__
_STARTED = logging._startTime  # type: ignore[attr-defined]  # seconds (3.11), or nanoseconds
_STARTED_NS = _STARTED if isinstance(_STARTED, int) else int(_STARTED * 1e9)


def _request_record(level: int, line: str, entry: Entry) -> logging.LogRecord:
    """The record of a request line: what `Logger.makeRecord` gives, the request's entry on it
    (`wacht_request`), at a fifth of the cost."""
    record = logging.LogRecord.__new__(logging.LogRecord)
    now = time.time_ns()
    fields = record.__dict__
    fields.update(_RECORD_COMMON)
    fields["msg"], fields["levelno"], fields["levelname"] = line, level, logging.getLevelName(level)
    fields["created"] = now / 1e9
    fields["msecs"] = (now % 1_000_000_000) // 1_000_000 + 0.0
    fields["relativeCreated"] = (now - _STARTED_NS) / 1e6
    fields["thread"], fields["threadName"] = threading.get_ident(), threading.current_thread().name
    fields["wacht_request"] = entry
    return record


def request_fields(entry: Entry) -> dict[str, Any]:
    """A request line's fields, for a structured log."""
    return {
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


#: Headers as the journal shows them, by the headers as sent: a client sends the same ones
#: request after request, so they are masked and clipped once. Emptied when full.
_SHOWN_HEADERS: dict[tuple[tuple[bytes, bytes], ...], dict[str, str]] = {}
SHOWN_HEADERS_KEPT = 256
SHOWN_HEADERS_LARGEST = 4096  # bytes of a header set worth remembering (at most 1 MiB in all)


def _headers(scope: Scope) -> dict[str, str]:
    sent = scope.get("headers", ())
    try:
        key = tuple(sent)
        shown = _SHOWN_HEADERS.get(key)
    except TypeError:  # pairs given as lists (some ASGI test clients): not kept
        return _shown_headers(sent)
    if shown is None:
        shown = _shown_headers(sent)
        if sum(len(name) + len(value) for name, value in key) <= SHOWN_HEADERS_LARGEST:
            if len(_SHOWN_HEADERS) >= SHOWN_HEADERS_KEPT:
                _SHOWN_HEADERS.clear()
            _SHOWN_HEADERS[key] = shown
    return dict(shown)  # each entry its own: a reader may change it


def _shown_headers(sent: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    headers = []
    for raw_name, raw_value in sent:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers.append((name, mask_header(name, value)))
    return clip_headers(headers)


def _masked(text: str | None) -> str | None:
    return None if text is None else mask_text(text)
