"""The objects the mock keeps: execution contexts and the turns of their conversations.

Plain frozen dataclasses: the store hands them out, the views render them; nothing here knows
about HTTP or JSON parsing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Status = Literal["active", "inactive", "archived"]
STATUSES: tuple[Status, ...] = ("active", "inactive", "archived")
ExecutionStatus = Literal["completed", "waiting_for_input", "failed"]
Role = Literal["user", "assistant", "tool", "system"]


@dataclass(frozen=True, slots=True)
class ExecutionState:
    """What a context remembers of its last execution."""

    execution_id: str
    conversation_id: str
    agent_name: str
    status: ExecutionStatus
    pending_input_request: str | None = None
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


@dataclass(frozen=True, slots=True)
class TextBlock:
    text: str
    type: Literal["text"] = "text"


@dataclass(frozen=True, slots=True)
class FileBlock:
    file: str
    type: Literal["file"] = "file"


@dataclass(frozen=True, slots=True)
class ToolCallBlock:
    call_id: str
    name: str
    args: dict[str, Any]
    type: Literal["tool_call"] = "tool_call"


@dataclass(frozen=True, slots=True)
class ToolResultBlock:
    call_id: str
    content: Any
    type: Literal["tool_result"] = "tool_result"


@dataclass(frozen=True, slots=True)
class ReasoningBlock:
    text: str
    type: Literal["reasoning"] = "reasoning"


Block = TextBlock | FileBlock | ToolCallBlock | ToolResultBlock | ReasoningBlock


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
        return "".join(b.text for b in self.blocks if isinstance(b, TextBlock))
