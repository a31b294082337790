"""What the engine is told about one agent execution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CallKind = Literal["new_message", "continue", "stream", "user_input_response"]


@dataclass(frozen=True)
class ContextView:
    """What the engine sees of an execution context."""

    id: str
    title: str
    system_instructions: str | None
    context_group: str | None
    status: str


@dataclass(frozen=True)
class HistoryTurn:
    """One turn of the conversation; `text` is its text blocks concatenated."""

    role: str
    text: str


@dataclass(frozen=True)
class AgentCall:
    """One execution of an agent.

    `message` is None for `continue`. `history` holds the turns before this
    execution (not the message of this call). `turn` is the 1-based number of this
    execution in the context.
    """

    agent_name: str
    kind: CallKind
    message: str | None
    files: tuple[str, ...]
    context: ContextView
    history: tuple[HistoryTurn, ...]
    turn: int
