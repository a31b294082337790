"""The record of an agent's calls: called, call_count, calls, last."""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from .call import AgentCall
from .rendered import RenderedReply


class CallRecord(NamedTuple):
    """One call and the reply it got (None when the engine raised instead)."""

    call: AgentCall
    reply: RenderedReply | None


#: How many calls an agent's log keeps (the newest); a long run must not grow without end.
CALL_LOG_SIZE = 1000


class CallLog:
    """Calls in order, the newest :data:`CALL_LOG_SIZE` kept; ``call_count`` counts them all.

    Not locked itself: its owner holds the engine's lock.
    """

    def __init__(self, size: int = CALL_LOG_SIZE) -> None:
        self._records: deque[CallRecord] = deque(maxlen=size)
        self._count = 0

    def record(self, call: AgentCall, reply: RenderedReply | None) -> None:
        """Add a call."""
        self._records.append(CallRecord(call, reply))
        self._count += 1

    def clear(self) -> None:
        """Forget every call."""
        self._records.clear()
        self._count = 0

    @property
    def call_count(self) -> int:
        """How many calls were made (including those the log no longer holds)."""
        return self._count

    @property
    def calls(self) -> list[CallRecord]:
        """A copy of the calls still held, oldest first."""
        return list(self._records)

    @property
    def last(self) -> CallRecord | None:
        """The latest call, if any."""
        return self._records[-1] if self._records else None
