"""The ASGI middleware that writes every request into the journal."""

from __future__ import annotations

import time
import traceback
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wacht_mock.core.journal import Entry, Journal, clip
from wacht_mock.core.masking import mask_header, mask_text

#: Statuses whose response ends with its head: a client may act on them before any body message.
BODILESS = frozenset({204, 304})


class Recorder:
    """Records method, path, query, masked headers, bodies, status, timing and script step.

    Requests under ``skip_prefix`` (the control API) are not the client's traffic: not recorded.

    Routes leave notes for it in ``scope["state"]``: ``deployment_id``, ``agent_name``,
    ``script`` (the step that answered) and ``violations`` (what the request broke).
    """

    def __init__(self, app: ASGIApp, journal: Journal, skip_prefix: str) -> None:
        self.app = app
        self.journal = journal
        self.skip_prefix = skip_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip_prefix):
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        started, clock = time.time(), time.perf_counter()
        request_body, response_body = bytearray(), bytearray()
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
                    (bytes(request_body), bytes(response_body)),
                )
                self.journal.record(entry)

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(request_body) < 2 * 65536:
                request_body.extend(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if status in BODILESS or scope["method"] == "HEAD":
                    record()  # the client sees the whole response with its head
            elif message["type"] == "http.response.body":
                response_body.extend(message.get("body", b"")[:65536])
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


def _entry(
    number: int,
    scope: Scope,
    times: tuple[float, float],
    status: int,
    error: str | None,
    bodies: tuple[bytes, bytes],
) -> Entry:
    notes: dict[str, Any] = scope.get("state", {})
    (started, clock), (body, response) = times, bodies
    return Entry(
        number=number,
        started_at=started,
        method=scope["method"],
        path=mask_text(scope["path"]),
        query=mask_text(scope.get("query_string", b"").decode("latin-1")),
        headers=_headers(scope),
        body=clip(body),
        status=status,
        response_body=clip(response),
        duration_ms=round((time.perf_counter() - clock) * 1000, 3),
        deployment_id=notes.get("deployment_id"),
        agent_name=notes.get("agent_name"),
        script=notes.get("script"),
        violations=tuple(mask_text(note) for note in notes.get("violations", ())),
        error=_masked(error or notes.get("error")),
        outcome=notes.get("outcome"),
    )


def _headers(scope: Scope) -> dict[str, str]:
    headers = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = mask_header(name, value)
    return headers


def _masked(text: str | None) -> str | None:
    return None if text is None else mask_text(text)
