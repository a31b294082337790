"""An execution as Server-Sent Events, paced and faulted as its script says.

Events: ``message_start`` (ids), ``content_delta`` (``{"text"}`` chunks), ``tool_call`` (one per
call), ``message_end`` (the JSON body the non-streaming call returns) and ``error`` (the error
envelope) for a fault mid-stream. Framing is sse-starlette's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
from sse_starlette import ServerSentEvent
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from wacht_mock.agents import StreamFault
from wacht_mock.core.errors import error_envelope
from wacht_mock.service.execution import Execution
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
        text = json.dumps(self.data, separators=(",", ":"), ensure_ascii=False)
        return bytes(ServerSentEvent(text, event=self.name, id=str(number), sep="\n").encode())


def events(execution: Execution) -> Iterator[Event]:
    """Every event of a clean stream, in order."""
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


#: Told how many of how many events a client received before it went away.
Interrupted = Callable[[int, int], None]


class EventStream(Response):
    """The response of a streamed execution; it stops as soon as its client disconnects."""

    media_type = "text/event-stream"

    def __init__(self, execution: Execution, on_interrupt: Interrupted | None = None) -> None:
        super().__init__(status_code=200, media_type=self.media_type)
        self.execution = execution
        self.on_interrupt = on_interrupt
        self.delivered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        planned = list(self._planned())
        finished = False
        async with anyio.create_task_group() as group:

            async def until_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()

            group.start_soon(until_disconnect)
            await self._send_all(planned, send)
            finished = True
            group.cancel_scope.cancel()
        if not finished:
            self._interrupted(scope, sum(event is not None for event in planned))

    async def _send_all(self, planned: list[Event | None], send: Send) -> None:
        reply = self.execution.reply
        await asyncio.sleep(reply.latency)
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        for number, event in enumerate(planned, start=1):
            if event is None:
                return  # a dropped connection: the response never completes
            if number > 1 and event.name == "content_delta":
                await asyncio.sleep(reply.chunk_delay)
            await send(
                {"type": "http.response.body", "body": event.encode(number), "more_body": True}
            )
            self.delivered = number
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _interrupted(self, scope: Scope, total: int) -> None:
        """The client went before the end: the journal and the context say what it received."""
        scope.setdefault("state", {})["outcome"] = interruption(self.delivered, total)
        if self.on_interrupt is not None:
            self.on_interrupt(self.delivered, total)

    def _planned(self) -> Iterator[Event | None]:
        """The clean events, or those before the fault and then the fault (never past the end)."""
        planned = list(events(self.execution))
        fault = self.execution.stream_fault
        if fault is None:
            yield from planned
            return
        yield from planned[: min(fault.after_events, len(planned) - 1)]
        yield from _fault_events(fault)


def _fault_events(fault: StreamFault) -> Iterator[Event | None]:
    if fault.mode == "error":
        yield Event("error", error_envelope(fault.message, fault.code))
    elif fault.mode == "drop":
        yield None


def interruption(delivered: int, total: int) -> str:
    """``interrupted: the client disconnected after 3 of 9 events``."""
    return f"interrupted: the client disconnected after {delivered} of {total} events"
