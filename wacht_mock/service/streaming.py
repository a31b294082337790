"""An execution as Server-Sent Events, paced and faulted as its script says.

Events: `message_start` (ids), `content_delta` (`{"text"}` chunks), `tool_call` (one per
call), `message_end` (the JSON body the non-streaming call returns) and `error` (the error
envelope) for a fault mid-stream. Framing is `SseEvent`'s, the one
encoder the proxy uses too.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from wacht_mock.agents import StreamFault
from wacht_mock.core.errors import error_envelope
from wacht_mock.core.jsontext import encode
from wacht_mock.core.recording import facts
from wacht_mock.core.sse import SseEvent
from wacht_mock.service.execution import Execution, ExecutionService
from wacht_mock.service.views import execution_json

_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


@dataclass(frozen=True)
class Event:
    name: str
    data: dict[str, Any]

    def encode(self, number: int) -> bytes:
        return SseEvent(self.name, encode(self.data).decode(), str(number)).encode()


def events(execution: Execution) -> Iterator[Event]:
    """Every event of a clean stream, in order."""
    assert execution.reply is not None  # a stream always carries a reply
    yield Event(
        "message_start",
        {
            "execution_id": execution.execution_id,
            "conversation_id": execution.conversation_id,
            "message_id": execution.message_id,
        },
    )
    for chunk in execution.reply.chunks():
        yield Event("content_delta", {"text": chunk})
    for call in execution.reply.tool_calls:
        yield Event("tool_call", {"id": call.id, "name": call.name, "args": call.args})
    yield Event("message_end", execution_json(execution))


class EventStream(Response):
    """The response of a streamed execution.

    It ends early in two ways: its client disconnects (it stops at once; the journal and the
    context say how many events the client had), or a `cancel` arrives for its context (it
    sends a last `message_end` whose status is `interrupted`, holding only the text sent).
    """

    media_type = "text/event-stream"

    def __init__(self, execution: Execution, service: ExecutionService) -> None:
        super().__init__(status_code=200, media_type=self.media_type)
        self.execution = execution
        self.service = service
        self.delivered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        planned = list(self._planned())
        cancelled = self.service.stream_started(self.execution)
        finished = False
        try:
            async with anyio.create_task_group() as group:

                async def until_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(until_disconnect)
                await self._send_all(planned, send, cancelled)
                finished = True
                group.cancel_scope.cancel()
        finally:
            self.service.stream_ended(self.execution, cancelled)
        if not finished:
            outcome = interruption(self.delivered, sum(event is not None for event in planned))
            facts(scope).outcome = outcome
            self.service.interrupted(self.execution, outcome)

    async def _send_all(
        self, planned: list[Event | None], send: Send, cancelled: threading.Event
    ) -> None:
        reply = self.execution.reply
        assert reply is not None  # a stream always carries a reply
        started = asyncio.get_running_loop().time()
        await asyncio.sleep(0 if reply.timing else reply.latency)
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        delivered: list[str] = []
        for number, event in enumerate(planned, start=1):
            if event is None:
                return  # a dropped connection: the response never completes
            if reply.timing:  # recorded pacing: each event at its offset from the request
                offset = reply.timing[min(number, len(reply.timing)) - 1]
                await asyncio.sleep(started + offset - asyncio.get_running_loop().time())
            elif number > 1 and event.name == "content_delta":
                await asyncio.sleep(reply.chunk_delay)
            if cancelled.is_set():  # a `cancel` arrived: end as the client saw it
                event = Event("message_end", _interrupted(self.execution, "".join(delivered)))
            elif event.name == "content_delta":
                delivered.append(event.data["text"])
            body = event.encode(number)
            await send({"type": "http.response.body", "body": body, "more_body": True})
            self.delivered = number
            if cancelled.is_set():
                break
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _planned(self) -> Iterator[Event | None]:
        """The clean events, or those before the fault and then the fault (never past the end)."""
        planned = list(events(self.execution))
        fault = self.execution.stream_fault
        if fault is None:
            yield from planned
            return
        yield from planned[: min(fault.after_events, len(planned) - 1)]
        yield from _fault_events(fault)


def _interrupted(execution: Execution, delivered: str) -> dict[str, Any]:
    """The `message_end` of a cancelled stream: its status, and only the text it sent."""
    data = execution_json(execution)
    data["status"] = "interrupted"
    data["response"] = {**data["response"], "content": delivered, "tool_calls": []}
    return data


def _fault_events(fault: StreamFault) -> Iterator[Event | None]:
    if fault.mode == "error":
        yield Event("error", error_envelope(fault.message, fault.code))
    elif fault.mode == "drop":
        yield None


def interruption(delivered: int, total: int) -> str:
    """`interrupted: the client disconnected after 3 of 9 events`."""
    return f"interrupted: the client disconnected after {delivered} of {total} events"
