"""The whole state as JSON, and back: a snapshot to restore.

Scripts are code (callables, rules) and stay out of it; contexts, their conversations and the
id counter go in, so that export, reset and import give back identical lists and histories.

An import is checked whole against one strict model (the API's own rules: decimal snowflake ids
that fit in 63 bits, RFC 3339 timestamps in range, the contract's types and lengths, no id
twice) and the new state is built aside, then swapped in one step: a refused snapshot changes
nothing. Each context is checked and built on its own, so a large import run in a worker thread
lets the event loop answer other requests meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
)

from wacht_mock.core.wire import escape
from wacht_mock.service.models import (
    Block,
    Context,
    ExecutionState,
    ExecutionStatus,
    FeedbackBlock,
    FileBlock,
    PendingInput,
    ReasoningBlock,
    Role,
    Signal,
    Status,
    TextBlock,
    ToolCallBlock,
    ToolResultBlock,
    Turn,
)
from wacht_mock.service.store import Store
from wacht_mock.service.views import context_json, turn_json

VERSION = 1
# The contract's bounds on the fields a snapshot holds (the same as the API's requests).
Title = Annotated[str, Field(max_length=255)]
Group = Annotated[str, Field(max_length=255)]
Instructions = Annotated[str, Field(max_length=65_536)]
AgentName = Annotated[str, Field(min_length=1, max_length=255)]
#: The largest id: snowflakes are signed 64-bit integers.
MAX_ID = 2**63 - 1
_ID = re.compile(r"0|[1-9][0-9]{0,18}")  # ASCII digits only ("²" is no digit here)
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
#: Timestamps are instants from 1970 to the end of year 9999, in UTC.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


class SnapshotError(ValueError):
    """A snapshot that cannot be imported; `str(error)` names the place (a JSON pointer)."""


def _snowflake(value: str) -> str:
    if not _ID.fullmatch(value) or int(value) > MAX_ID:
        raise ValueError(
            "expected a decimal id of at most 63 bits (ASCII digits, no leading zero), "
            f"got {_preview(value)}"
        )
    return value


def _moment(value: Any) -> datetime:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError(f"expected an RFC 3339 timestamp with a zone, got {_preview(value)}")
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        moment = None
    if moment is None or moment < EARLIEST:
        raise ValueError(f"expected a time from 1970 to 9999 (in UTC), got {_preview(value)}")
    return moment


Id = Annotated[str, AfterValidator(_snowflake)]
Moment = Annotated[datetime, PlainValidator(_moment)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class _Call(_Strict):
    id: str
    name: str
    args: dict[str, Any]


class _Pending(_Strict):
    message: str
    kind: Literal["question", "approval", "function_result"] = "question"
    request_message_id: Id | None = None
    execution_id: Id | None = None
    tool_calls: list[_Call] = Field(default_factory=list)


class _Error(_Strict):
    message: str
    code: int


class _State(_Strict):
    execution_id: Id
    conversation_id: Id
    agent_name: AgentName
    status: ExecutionStatus
    pending_input_request: _Pending | None
    error: _Error | None


class _Context(_Strict):
    id: Id
    deployment_id: Id
    title: Title
    system_instructions: Instructions | None
    context_group: Group | None
    status: Status
    created_at: Moment
    updated_at: Moment
    last_activity_at: Moment
    completed_at: Moment | None
    execution_state: _State | None


class _Text(_Strict):
    type: Literal["text"]
    text: str


class _File(_Strict):
    type: Literal["file"]
    file: str


class _ToolCall(_Strict):
    type: Literal["tool_call"]
    call_id: str
    name: str
    args: dict[str, Any]


class _ToolResult(_Strict):
    type: Literal["tool_result"]
    call_id: str
    content: Any


class _Reasoning(_Strict):
    type: Literal["reasoning"]
    text: str


class _Signal(_Strict):
    kind: str
    message: str
    data: Any = None


class _Feedback(_Strict):
    type: Literal["feedback"]
    signals: list[_Signal]


_AnyBlock = _Text | _File | _ToolCall | _ToolResult | _Reasoning | _Feedback
_Block = Annotated[_AnyBlock, Field(discriminator="type")]


class _Turn(_Strict):
    id: Id
    execution_id: Id
    role: Role
    created_at: Moment
    blocks: list[_Block]


class _Item(_Strict):
    context: _Context
    conversation_id: Id | None
    executions: Annotated[int, Field(ge=0)]
    turns: list[_Turn]


class _Outline(_Strict):
    """The snapshot's frame; each context under it is checked on its own (see `_Item`)."""

    version: Literal[1]
    deployments: dict[Id, list[dict[str, Any]]]


_ITEM = TypeAdapter(_Item)
Restored = tuple[Context, tuple[Turn, ...]]


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


def import_state(store: Store, snapshot: Any) -> int:
    """Replace the store's contents with a snapshot; returns how many contexts it holds.

    Raises `SnapshotError` (naming the place) and changes nothing if any part is wrong.
    """
    restored = list(read_snapshot(snapshot))
    highest = max((_highest(context, turns) for context, turns in restored), default=0)
    store.replace_all(restored)
    store.ids.advance_past(highest)
    return len(restored)


def parse_context(
    context: dict[str, Any], turns: list[dict[str, Any]], conversation_id: str | None = None
) -> tuple[Context, tuple[Turn, ...]]:
    """A context and its turns from their API JSON, held to the snapshot's strict model
    (a `SnapshotError` names the place)."""
    executions = len({turn.get("execution_id") for turn in turns if isinstance(turn, dict)})
    data = {
        "context": context,
        "conversation_id": conversation_id,
        "executions": executions,
        "turns": turns,
    }
    try:
        item = _ITEM.validate_python(data)
    except ValidationError as exc:
        raise SnapshotError(_describe(exc, ())) from None
    return _context(item), tuple(_turn(turn) for turn in item.turns)


def read_snapshot(snapshot: Any) -> Iterator[Restored]:
    """The contexts and histories of a snapshot, every one checked; see `import_state`."""
    try:
        outline = _Outline.model_validate(snapshot)
    except ValidationError as exc:
        raise SnapshotError(_describe(exc, ())) from None
    contexts: set[str] = set()
    turn_ids: set[str] = set()
    for deployment_id, items in outline.deployments.items():
        for index, data in enumerate(items):
            where = ("deployments", deployment_id, index)
            try:
                item = _ITEM.validate_python(data)
            except ValidationError as exc:
                raise SnapshotError(_describe(exc, where)) from None
            _check_unique(item, deployment_id, where, contexts, turn_ids)
            yield _context(item), tuple(_turn(turn) for turn in item.turns)


def _check_unique(
    item: _Item, deployment_id: str, where: tuple[Any, ...], contexts: set[str], turns: set[str]
) -> None:
    context = item.context
    if context.deployment_id != deployment_id:
        raise SnapshotError(
            f"{_pointer((*where, 'context', 'deployment_id'))}: {context.deployment_id} is not "
            f"the deployment {deployment_id} it is listed under"
        )
    if context.id in contexts:
        raise SnapshotError(f"{_pointer((*where, 'context', 'id'))}: context {context.id} twice")
    contexts.add(context.id)
    for number, turn in enumerate(item.turns):
        if turn.id in turns:
            raise SnapshotError(
                f"{_pointer((*where, 'turns', number, 'id'))}: turn {turn.id} twice"
            )
        turns.add(turn.id)


def _highest(context: Context, turns: Iterable[Turn]) -> int:
    state = context.execution_state
    ids = [context.id, context.conversation_id, *(t.id for t in turns)]
    ids += [t.execution_id for t in turns]
    ids += [state.execution_id, state.conversation_id] if state else []
    return max(int(value) for value in ids if value is not None)


def _context(item: _Item) -> Context:
    data, state = item.context, item.context.execution_state
    return Context(
        id=data.id,
        deployment_id=data.deployment_id,
        title=data.title,
        system_instructions=data.system_instructions,
        context_group=data.context_group,
        status=data.status,
        created_at=data.created_at,
        updated_at=data.updated_at,
        last_activity_at=data.last_activity_at,
        completed_at=data.completed_at,
        execution_state=None if state is None else _state(state),
        conversation_id=item.conversation_id,
        executions=item.executions,
    )


def _state(data: _State) -> ExecutionState:
    pending, error = data.pending_input_request, data.error
    return ExecutionState(
        execution_id=data.execution_id,
        conversation_id=data.conversation_id,
        agent_name=data.agent_name,
        status=data.status,
        pending_input_request=None if pending is None else _pending(pending),
        error_message=None if error is None else error.message,
        error_code=None if error is None else error.code,
    )


def _pending(data: _Pending) -> PendingInput:
    calls = tuple(ToolCallBlock(call.id, call.name, call.args) for call in data.tool_calls)
    return PendingInput(data.message, data.kind, data.request_message_id, data.execution_id, calls)


def _turn(data: _Turn) -> Turn:
    blocks = tuple(_block(block) for block in data.blocks)
    return Turn(data.id, data.execution_id, data.role, data.created_at, blocks)


def _block(data: _AnyBlock) -> Block:
    if isinstance(data, _Text):
        return TextBlock(data.text)
    if isinstance(data, _File):
        return FileBlock(data.file)
    if isinstance(data, _ToolCall):
        return ToolCallBlock(data.call_id, data.name, data.args)
    if isinstance(data, _ToolResult):
        return ToolResultBlock(data.call_id, data.content)
    if isinstance(data, _Feedback):
        signals = tuple(Signal(s.kind, s.message, s.data) for s in data.signals)
        return FeedbackBlock(signals)
    return ReasoningBlock(data.text)


def _describe(exc: ValidationError, where: tuple[Any, ...]) -> str:
    """The first problems, one clause each: `/deployments/1/0/context/id: expected …`."""
    problems = [
        f"{_pointer((*where, *error['loc']))}: {error['msg'].removeprefix('Value error, ')}"
        for error in exc.errors(include_url=False)
    ]
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return "; ".join(problems[:3]) + more


def _pointer(loc: Iterable[Any]) -> str:
    return "/" + "/".join(escape(str(part)) for part in loc)


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
