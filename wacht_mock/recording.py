"""The ASGI middleware that writes every request into the journal."""

from __future__ import annotations

import time
import traceback
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .journal import Entry, Journal, clip, mask_key


class Recorder:
    """Records method, path, query, masked headers, bodies, status, timing and script step.

    Routes leave notes for it in ``scope["state"]``: ``deployment_id``, ``agent_name``,
    ``script`` (the step that answered) and ``violations`` (what the request broke).
    """

    def __init__(self, app: ASGIApp, journal: Journal) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        started, clock = time.time(), time.perf_counter()
        request_body, response_body = bytearray(), bytearray()
        status = 0
        error: str | None = None

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(request_body) < 2 * 65536:
                request_body.extend(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                response_body.extend(message.get("body", b"")[:65536])
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        except BaseException as exc:
            error = "".join(traceback.format_exception_only(exc)).strip()
            raise
        finally:
            self.journal.record(
                _entry(
                    self.journal.next_number(),
                    scope,
                    started,
                    clock,
                    status,
                    error,
                    bytes(request_body),
                    bytes(response_body),
                )
            )


def _entry(
    number: int,
    scope: Scope,
    started: float,
    clock: float,
    status: int,
    error: str | None,
    body: bytes,
    response: bytes,
) -> Entry:
    notes: dict[str, Any] = scope.get("state", {})
    return Entry(
        number=number,
        started_at=started,
        method=scope["method"],
        path=scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=_headers(scope),
        body=clip(body),
        status=status,
        response_body=clip(response),
        duration_ms=round((time.perf_counter() - clock) * 1000, 3),
        deployment_id=notes.get("deployment_id"),
        agent_name=notes.get("agent_name"),
        script=notes.get("script"),
        violations=tuple(notes.get("violations", ())),
        error=error or notes.get("error"),
    )


def _headers(scope: Scope) -> dict[str, str]:
    headers = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = mask_key(value) if name == "authorization" else value
    return headers
