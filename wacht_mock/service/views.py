"""JSON views of the store's objects: what the wire format says, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

from starlette.responses import Response

from wacht_mock.agents.blocks import block_json
from wacht_mock.core.clock import rfc3339
from wacht_mock.core.jsontext import encode
from wacht_mock.service.execution import Execution
from wacht_mock.service.models import Context, ExecutionState, PendingInput, Turn
from wacht_mock.service.store import Page

Item = TypeVar("Item")


@lru_cache(maxsize=4096)
def timestamp(moment: datetime) -> str:
    """`rfc3339`, remembered: the same contexts are rendered again on every read.

    Formatting a datetime costs about twenty times a cache hit, and a page of twenty contexts
    formats sixty of them. The cache is bounded (about 1 MiB when full).
    """
    return rfc3339(moment)


def context_json(context: Context) -> dict[str, Any]:
    """An `AiExecutionContext`."""
    return {
        "id": context.id,
        "deployment_id": context.deployment_id,
        "title": context.title,
        "system_instructions": context.system_instructions,
        "context_group": context.context_group,
        "status": context.status,
        "created_at": timestamp(context.created_at),
        "updated_at": timestamp(context.updated_at),
        "last_activity_at": timestamp(context.last_activity_at),
        "completed_at": timestamp(context.completed_at) if context.completed_at else None,
        "execution_state": execution_state_json(context.execution_state),
    }


def context_bytes(context: Context) -> bytes:
    """`context_json` as UTF-8 JSON text, encoded once per context (lists and reads of an
    unchanged context send the same bytes again)."""
    encoded = context.encoded
    if encoded is None:
        encoded = encode(context_json(context))
        object.__setattr__(context, "encoded", encoded)  # a cache, not a change: see `Context`
    return encoded


class JsonBytes(Response):
    """A JSON response whose body is already encoded.

    Its two headers are made here: the bytes `Response` writes for a JSON body, without the
    checks for what such a body never has (a status without a body, a text type's charset).
    """

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = [
            (b"content-length", b"%d" % len(body)),
            (b"content-type", b"application/json"),
        ]


def json_response(data: Any) -> Response:
    """`data` as a JSON response (`core.jsontext.encode`: as Starlette's `JSONResponse` writes
    it, but for a float's shortest text)."""
    return JsonBytes(encode(data))


def context_response(context: Context) -> Response:
    """An `AiExecutionContext` response."""
    return JsonBytes(context_bytes(context))


def context_page_response(page: Page[Context]) -> Response:
    """A page of contexts: `{data, has_more, limit, offset}`, from each one's encoded text."""
    items = b",".join([context_bytes(context) for context in page.data])
    more = b"true" if page.has_more else b"false"
    tail = b'],"has_more":%s,"limit":%d,"offset":%d}' % (more, page.limit, page.offset)
    return JsonBytes(b'{"data":[' + items + tail)


def pending_json(pending: PendingInput) -> dict[str, Any]:
    """What a waiting run waits for; a plain question is `{"message"}` alone."""
    found: dict[str, Any] = {"message": pending.message}
    if pending.kind == "question":
        return found
    found["kind"] = pending.kind
    if pending.request_message_id is not None:
        found["request_message_id"] = pending.request_message_id
    if pending.execution_id is not None:
        found["execution_id"] = pending.execution_id
    found["tool_calls"] = [
        {"id": call.call_id, "name": call.name, "args": call.args} for call in pending.tool_calls
    ]
    return found


def execution_state_json(state: ExecutionState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    pending = state.pending_input_request
    error = state.error_message
    return {
        "execution_id": state.execution_id,
        "conversation_id": state.conversation_id,
        "agent_name": state.agent_name,
        "status": state.status,
        "pending_input_request": None if pending is None else pending_json(pending),
        "error": None if error is None else {"message": error, "code": state.error_code},
    }


def turn_json(turn: Turn) -> dict[str, Any]:
    """One turn of a conversation, blocks typed by `type`."""
    return {
        "id": turn.id,
        "execution_id": turn.execution_id,
        "role": turn.role,
        "created_at": timestamp(turn.created_at),
        "blocks": [block_json(block) for block in turn.blocks],
    }


def page_json(page: Page[Item], render: Callable[[Item], dict[str, Any]]) -> dict[str, Any]:
    """`{data, has_more, limit, offset}`."""
    return {
        "data": [render(item) for item in page.data],
        "has_more": page.has_more,
        "limit": page.limit,
        "offset": page.offset,
    }


def execution_json(execution: Execution) -> dict[str, Any]:
    """The `ExecuteResponse` body (also the data of a stream's `message_end`)."""
    reply = execution.reply
    found: dict[str, Any] = {
        "execution_id": execution.execution_id,
        "conversation_id": execution.conversation_id,
        "status": execution.status,
        "response": None,
    }
    if reply is None:  # a cancel ends a run without a reply
        return found
    return {
        **found,
        "response": {
            "message_id": execution.message_id,
            "role": "assistant",
            "content": reply.text,
            "tool_calls": [
                {"id": call.id, "name": call.name, "args": call.args} for call in reply.tool_calls
            ],
            "reasoning": reply.reasoning,
            "structured_output": reply.structured_output,
            "usage": {
                "input_tokens": reply.usage.input_tokens,
                "output_tokens": reply.usage.output_tokens,
            },
            "stop_reason": reply.stop_reason,
        },
    }
