"""The record of an agent's calls: called, call_count, calls, last."""

from __future__ import annotations

from typing import NamedTuple

from .call import AgentCall
from .rendered import RenderedReply


class CallRecord(NamedTuple):
    """One call and the reply it got (None when the engine raised instead)."""

    call: AgentCall
    reply: RenderedReply | None


class CallLog:
    """Calls in order. Not locked itself: its owner holds the engine's lock."""

    def __init__(self) -> None:
        self._records: list[CallRecord] = []

    def record(self, call: AgentCall, reply: RenderedReply | None) -> None:
        """Add a call."""
        self._records.append(CallRecord(call, reply))

    def clear(self) -> None:
        """Forget every call."""
        self._records.clear()

    @property
    def call_count(self) -> int:
        """How many calls were made."""
        return len(self._records)

    @property
    def calls(self) -> list[CallRecord]:
        """A copy of the calls, oldest first."""
        return list(self._records)

    @property
    def last(self) -> CallRecord | None:
        """The latest call, if any."""
        return self._records[-1] if self._records else None
