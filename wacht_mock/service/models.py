"""The objects the mock keeps: execution contexts and the turns of their conversations.

Plain frozen dataclasses: the store hands them out, the views render them; nothing here knows
about HTTP or JSON parsing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

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


@dataclass(frozen=True, slots=True, weakref_slot=True)  # views cache its JSON while it lives
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


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn of a context's conversation."""

    id: str
    execution_id: str
    role: Role
    created_at: datetime
    blocks: tuple[Block, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        """The turn's text blocks, joined."""
        return text_of(self.blocks)


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
]
