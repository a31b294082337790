"""The objects the mock keeps: execution contexts and the turns of their conversations.

Plain frozen dataclasses: the store hands them out, the views render them; nothing here knows
about HTTP or JSON parsing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from wacht_mock.agents.blocks import (
    Block,
    FeedbackBlock,
    FileBlock,
    ReasoningBlock,
    Signal,
    TextBlock,
    ToolCallBlock,
    ToolResultBlock,
    text_of,
)

if TYPE_CHECKING:
    from wacht_mock.agents import RenderedReply
    from wacht_mock.agents.call import PackedTurn

#: A context's status: the guide's three, or the platform's run states (see `profiles`).
Status = Literal[
    "active",
    "inactive",
    "archived",
    "idle",
    "running",
    "waiting_for_input",
    "interrupted",
    "completed",
    "failed",
]
ExecutionStatus = Literal["completed", "waiting_for_input", "failed", "interrupted"]
PendingKind = Literal["question", "approval", "function_result"]
Role = Literal["user", "assistant", "tool", "system"]


@dataclass(frozen=True, slots=True)
class PendingInput:
    """What a `waiting_for_input` run waits for: an answer, an approval, or a tool's result."""

    message: str
    kind: PendingKind = "question"
    request_message_id: str | None = None
    execution_id: str | None = None
    tool_calls: tuple[ToolCallBlock, ...] = ()


@dataclass(frozen=True, slots=True)
class ExecutionState:
    """What a context remembers of its last execution."""

    execution_id: str
    conversation_id: str
    agent_name: str
    status: ExecutionStatus
    pending_input_request: PendingInput | None = None
    error_message: str | None = None
    error_code: int | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """An AI execution context of one deployment."""

    id: str
    deployment_id: str
    title: str
    system_instructions: str | None
    context_group: str | None
    status: Status
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    completed_at: datetime | None = None
    execution_state: ExecutionState | None = None
    conversation_id: str | None = None
    executions: int = 0
    #: Tools an `approval_response` allowed for good (`allow_always`) in this context.
    always_allowed: frozenset[str] = frozenset()
    #: The rest of a run paused for an approval or a client's tool result (never rendered).
    held: RenderedReply | None = None
    #: Its JSON text once encoded (`views.context_bytes`): a context is frozen and replaced on
    #: any change, so the text stays right while it lives. Kept on the context itself, not in a
    #: cache beside it: no object of its own for the garbage collector to visit.
    encoded: bytes | None = field(default=None, init=False, compare=False, repr=False)


Frozen = TypeVar("Frozen")


def _replacer(cls: type[Frozen]) -> Callable[[Frozen, dict[str, Any]], Frozen]:
    """`dataclasses.replace` for `cls`, at a third of its cost: the fields are looked up once,
    not on every call (a context is replaced on every execution). `changes` is used up; a name
    that is not a field is a `TypeError`, as with `replace`."""
    names = [spec.name for spec in fields(cls) if spec.init]  # type: ignore[arg-type]
    given = ", ".join(f"pop({name!r}) if {name!r} in changes else current.{name}" for name in names)
    source = (
        "def replaced(current, changes):\n"
        "    pop = changes.pop\n"
        f"    made = cls({given})\n"
        "    if changes:\n"
        "        raise TypeError(f'{cls.__name__} has no field(s) {sorted(changes)}')\n"
        "    return made\n"
    )
    namespace: dict[str, Any] = {"cls": cls}
    exec(source, namespace)  # as `dataclasses` makes `__init__`
    made: Callable[[Frozen, dict[str, Any]], Frozen] = namespace["replaced"]
    return made


#: A context with some fields changed: `replace_context(context, {"title": "New"})`.
replace_context = _replacer(Context)


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn of a context's conversation.

    `content` is given as the turn's blocks. A turn of one text block (most turns) keeps only
    its text: one object for the garbage collector to visit, not a turn, a tuple and a block;
    `blocks` gives it back as a block.
    """

    id: str
    execution_id: str
    role: Role
    created_at: datetime
    content: tuple[Block, ...] | str = ()

    def __post_init__(self) -> None:
        content = self.content
        if isinstance(content, str):
            return
        if type(content) is not tuple:
            content = tuple(content)
        if len(content) == 1 and type(content[0]) is TextBlock:
            object.__setattr__(self, "content", content[0].text)
        elif content is not self.content:
            object.__setattr__(self, "content", content)

    def packed(self) -> PackedTurn:
        """The turn as a plain tuple, for a `Transcript` (`Turn.unpacked` makes it again)."""
        return (self.role, self.content, self.id, self.execution_id, self.created_at)

    @classmethod
    def unpacked(cls, packed: PackedTurn) -> Turn:
        role, content, turn_id, execution_id, created_at = packed
        return cls(turn_id, execution_id, role, created_at, content)

    @property
    def blocks(self) -> tuple[Block, ...]:
        content = self.content
        return (TextBlock(content),) if isinstance(content, str) else content

    @property
    def text(self) -> str:
        """The turn's text blocks, joined."""
        content = self.content
        return content if isinstance(content, str) else text_of(content)


__all__ = [
    "Block",
    "Context",
    "ExecutionState",
    "ExecutionStatus",
    "FeedbackBlock",
    "FileBlock",
    "PendingInput",
    "PendingKind",
    "ReasoningBlock",
    "Role",
    "Signal",
    "Status",
    "TextBlock",
    "ToolCallBlock",
    "ToolResultBlock",
    "Turn",
    "replace_context",
]
