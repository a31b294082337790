"""The ASGI middleware that writes every request into the journal."""

from __future__ import annotations

import time
import traceback
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wacht_mock.core.journal import BODY_LIMIT, Entry, Journal, mask_key

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
        # The journal keeps the first BODY_LIMIT bytes of each body and its size: chunks are
        # kept (not copied) until that much has gone by, then only counted.
        request_chunks: list[bytes] = []
        response_chunks: list[bytes] = []
        sizes = [0, 0]  # request, response
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
                    (b"".join(request_chunks), b"".join(response_chunks)),
                    sizes,
                )
                self.journal.record(entry)

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                if sizes[0] < BODY_LIMIT:
                    request_chunks.append(chunk)
                sizes[0] += len(chunk)
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.body":
                chunk = message.get("body", b"")
                if sizes[1] < BODY_LIMIT:
                    response_chunks.append(chunk)
                sizes[1] += len(chunk)
                if not message.get("more_body", False):
                    record()  # before the client can see the end of the response
            elif kind == "http.response.start":
                status = message["status"]
                if status in BODILESS or scope["method"] == "HEAD":
                    record()  # the client sees the whole response with its head
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
    sizes: list[int],
) -> Entry:
    notes: dict[str, Any] = scope.get("state", {})
    (started, clock), (body, response) = times, bodies
    headers, authorization = _headers(scope)
    return Entry(
        number=number,
        started_at=started,
        method=scope["method"],
        path=scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        raw_headers=headers,
        raw_body=body[:BODY_LIMIT],
        status=status,
        raw_response_body=response[:BODY_LIMIT],
        duration_ms=round((time.perf_counter() - clock) * 1000, 3),
        deployment_id=notes.get("deployment_id"),
        agent_name=notes.get("agent_name"),
        script=notes.get("script"),
        violations=tuple(notes.get("violations", ())),
        error=error or notes.get("error"),
        body_size=sizes[0],
        response_size=sizes[1],
        authorization=authorization,
    )


def _headers(scope: Scope) -> tuple[tuple[tuple[bytes, bytes], ...], str | None]:
    """The headers as they came (ASGI names are lower case) but the key, and the key masked."""
    raw = scope.get("headers", ())
    masked = None
    for name, value in raw:
        if name == b"authorization":
            masked = mask_key(value.decode("latin-1"))
    if masked is None:
        return tuple(raw), None
    return tuple(pair for pair in raw if pair[0] != b"authorization"), masked
