"""The whole state as JSON, and back: a snapshot to restore.

Scripts are code (callables, rules) and stay out of it; contexts, their conversations and the
id counter go in, so that export, reset and import give back identical lists and histories.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args

from wacht_mock.service.models import (
    Block,
    Context,
    ExecutionState,
    FileBlock,
    ReasoningBlock,
    Status,
    TextBlock,
    ToolCallBlock,
    ToolResultBlock,
    Turn,
)
from wacht_mock.service.store import Store
from wacht_mock.service.views import context_json, turn_json

VERSION = 1
BLOCKS: dict[str, type[Block]] = {
    "text": TextBlock,
    "file": FileBlock,
    "tool_call": ToolCallBlock,
    "tool_result": ToolResultBlock,
    "reasoning": ReasoningBlock,
}


def export_state(store: Store) -> dict[str, Any]:
    """Every deployment's contexts (with what the API does not show) and their histories."""
    deployments: dict[str, Any] = {}
    for deployment_id in store.deployments():
        contexts = []
        for context in store.contexts(deployment_id):
            turns = store.turns(deployment_id, context.id)
            contexts.append(
                {
                    "context": context_json(context),
                    "conversation_id": context.conversation_id,
                    "executions": context.executions,
                    "turns": [turn_json(turn) for turn in turns],
                }
            )
        deployments[deployment_id] = contexts
    return {"version": VERSION, "deployments": deployments}


def import_state(store: Store, snapshot: dict[str, Any]) -> int:
    """Replace the store's contents with a snapshot; returns how many contexts it holds."""
    if snapshot.get("version") != VERSION:
        raise ValueError(f"not a wacht-mock snapshot of version {VERSION}")
    restored = [
        (_context(item), tuple(_turn(turn) for turn in item["turns"]))
        for items in snapshot["deployments"].values()
        for item in items
    ]
    for context, turns in restored:  # everything checked before anything is replaced
        _check_ids(context, turns)
    store.reset()
    for context, turns in restored:
        store.restore(context, turns)
        store.ids.advance_past(int(context.id))
        for turn in turns:
            store.ids.advance_past(int(turn.id))
    return len(restored)


def parse_context(
    context: dict[str, Any], turns: list[dict[str, Any]], conversation_id: str | None = None
) -> tuple[Context, tuple[Turn, ...]]:
    """A context and its turns from their API JSON (``KeyError``, ``ValueError`` if wrong)."""
    executions = len({turn["execution_id"] for turn in turns})
    item = {"context": context, "conversation_id": conversation_id, "executions": executions}
    parsed, history = _context(item), tuple(_turn(turn) for turn in turns)
    _check_ids(parsed, history)
    return parsed, history


def _check_ids(context: Context, turns: tuple[Turn, ...]) -> None:
    for value in (context.id, context.deployment_id, *(turn.id for turn in turns)):
        if not (isinstance(value, str) and value.isdigit()):
            raise ValueError(f"ids are decimal strings, got {value!r}")
    if context.status not in get_args(Status):
        raise ValueError(f"unknown status {context.status!r}")


def _time(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamps need a time zone, got {text!r}")
    return moment


def _context(item: dict[str, Any]) -> Context:
    data = item["context"]
    return Context(
        id=data["id"],
        deployment_id=data["deployment_id"],
        title=data["title"],
        system_instructions=data["system_instructions"],
        context_group=data["context_group"],
        status=data["status"],
        created_at=_required_time(data["created_at"]),
        updated_at=_required_time(data["updated_at"]),
        last_activity_at=_required_time(data["last_activity_at"]),
        completed_at=_time(data["completed_at"]),
        execution_state=_state(data["execution_state"]),
        conversation_id=item["conversation_id"],
        executions=item["executions"],
    )


def _required_time(text: str) -> datetime:
    moment = _time(text)
    if moment is None:
        raise ValueError("a required timestamp is null")
    return moment


def _state(data: dict[str, Any] | None) -> ExecutionState | None:
    if data is None:
        return None
    pending, error = data["pending_input_request"], data["error"]
    return ExecutionState(
        execution_id=data["execution_id"],
        conversation_id=data["conversation_id"],
        agent_name=data["agent_name"],
        status=data["status"],
        pending_input_request=None if pending is None else pending["message"],
        error_message=None if error is None else error["message"],
        error_code=None if error is None else error["code"],
    )


def _turn(data: dict[str, Any]) -> Turn:
    blocks = tuple(_block(block) for block in data["blocks"])
    return Turn(
        data["id"], data["execution_id"], data["role"], _required_time(data["created_at"]), blocks
    )


def _block(data: dict[str, Any]) -> Block:
    fields = {key: value for key, value in data.items() if key != "type"}
    return BLOCKS[data["type"]](**fields)
