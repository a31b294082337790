"""JSON views of the store's objects: what the wire format says, and nothing else."""

from __future__ import annotations

import contextlib
import json
import weakref
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

from starlette.responses import Response

from wacht_mock.core.clock import rfc3339
from wacht_mock.service.execution import Execution
from wacht_mock.service.models import Block, Context, ExecutionState, Turn
from wacht_mock.service.store import Page

Item = TypeVar("Item")


@lru_cache(maxsize=4096)
def timestamp(moment: datetime) -> str:
    """:func:`rfc3339`, remembered: the same contexts are rendered again on every read.

    Formatting a datetime costs about twenty times a cache hit, and a page of twenty contexts
    formats sixty of them. The cache is bounded (about 1 MiB when full).
    """
    return rfc3339(moment)


def context_json(context: Context) -> dict[str, Any]:
    """An ``AiExecutionContext``."""
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


#: Encoded contexts, by identity. Contexts are immutable (a change makes a new one), so an
#: entry is right for as long as its context lives; it goes when the context goes (the weak
#: reference's callback), and the oldest goes first past the bound.
_ENCODED: dict[int, tuple[weakref.ref[Context], bytes]] = {}
ENCODED_LIMIT = 4096


def encode(content: object) -> bytes:
    """JSON as Starlette's ``JSONResponse`` writes it (compact, UTF-8, no NaN)."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


def context_bytes(context: Context) -> bytes:
    """:func:`context_json`, encoded, and remembered until the context changes."""
    key = id(context)
    cached = _ENCODED.get(key)
    if cached is not None and cached[0]() is context:
        return cached[1]
    encoded = encode(context_json(context))
    if len(_ENCODED) >= ENCODED_LIMIT:
        with contextlib.suppress(StopIteration, KeyError, RuntimeError):  # another thread won
            del _ENCODED[next(iter(_ENCODED))]
    _ENCODED[key] = (weakref.ref(context, lambda ref: _forget(key, ref)), encoded)
    return encoded


def _forget(key: int, gone: weakref.ref[Context]) -> None:
    """A context died: its entry goes (unless the slot already holds a newer one)."""
    cached = _ENCODED.get(key)
    if cached is not None and cached[0] is gone:
        _ENCODED.pop(key, None)


def json_response(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def context_response(context: Context) -> Response:
    return json_response(context_bytes(context))


def context_page_response(page: Page[Context]) -> Response:
    """The page of :func:`page_json`, assembled from the contexts' cached encodings."""
    more = b"true" if page.has_more else b"false"
    head = b'{"data":[' + b",".join(context_bytes(context) for context in page.data)
    tail = b'],"has_more":%s,"limit":%d,"offset":%d}' % (more, page.limit, page.offset)
    return json_response(head + tail)


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
        "pending_input_request": None if pending is None else {"message": pending},
        "error": None if error is None else {"message": error, "code": state.error_code},
    }


def turn_json(turn: Turn) -> dict[str, Any]:
    """One turn of a conversation, blocks typed by ``type``."""
    return {
        "id": turn.id,
        "execution_id": turn.execution_id,
        "role": turn.role,
        "created_at": timestamp(turn.created_at),
        "blocks": [block_json(block) for block in turn.blocks],
    }


def block_json(block: Block) -> dict[str, Any]:
    return asdict(block)


def page_json(page: Page[Item], render: Callable[[Item], dict[str, Any]]) -> dict[str, Any]:
    """``{data, has_more, limit, offset}``."""
    return {
        "data": [render(item) for item in page.data],
        "has_more": page.has_more,
        "limit": page.limit,
        "offset": page.offset,
    }


def execution_json(execution: Execution) -> dict[str, Any]:
    """The ``ExecuteResponse`` body (also the data of a stream's ``message_end``)."""
    reply = execution.reply
    return {
        "execution_id": execution.execution_id,
        "conversation_id": execution.conversation_id,
        "status": execution.status,
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
