"""A rendered reply: what the HTTP layer turns into JSON or a stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .blocks import Signal
from .chunking import Chunking, split_chunks
from .faults import Fault
from .kinds import ReplyStatus, StopReason
from .usage import Usage

if TYPE_CHECKING:
    from .call import AgentCall
    from .runstate import RunState


@dataclass(frozen=True)
class RenderedToolCall:
    """A tool call with its final id and arguments; `result` counts only if `has_result`."""

    id: str
    name: str
    args: dict[str, Any]
    result: Any = None
    has_result: bool = False
    requires_approval: bool = False
    client_executed: bool = False


@dataclass(frozen=True)
class RenderedReply:
    """One agent turn, fully rendered.

    `source` says what in the script produced it (for the journal); `fault`, when
    set, is for the HTTP layer to act on; `latency` and `chunk_delay` are seconds;
    `feedback` is appended after the agent's turn as a tool-role turn.
    """

    text: str
    tool_calls: tuple[RenderedToolCall, ...]
    reasoning: str | None
    structured_output: Any
    usage: Usage
    stop_reason: StopReason
    status: ReplyStatus
    ask: str | None
    latency: float
    chunk_delay: float
    chunking: Chunking
    fault: Fault | None
    source: str
    timing: tuple[float, ...] | None = None
    feedback: tuple[Signal, ...] = ()
    #: The call this reply answers, as the engine gave it to the script.
    call: AgentCall | None = field(default=None, compare=False, repr=False)

    @property
    def run_state(self) -> RunState | None:
        """What the model was given in the run this reply answers."""
        return None if self.call is None else self.call.run_state

    def chunks(self) -> tuple[str, ...]:
        """The text cut into stream chunks; they concatenate back to `text`."""
        return split_chunks(self.text, self.chunking)
