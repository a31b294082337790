"""The record of an agent's calls: called, call_count, calls, last."""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Iterable
from typing import NamedTuple

from .call import AgentCall
from .rendered import RenderedReply
from .runstate import RunState


class CallRecord(NamedTuple):
    """One call and the reply it got (None when the engine raised instead)."""

    call: AgentCall
    reply: RenderedReply | None

    @property
    def run_state(self) -> RunState | None:
        """What the model was given in this call (tools, history, task, …)."""
        return self.call.run_state


#: How many calls an agent's log keeps (the newest), per tenant; a long run must not grow
#: without end.
CALL_LOG_SIZE = 1000

#: The order of every call made in this process, so that tenants' logs merge in call order.
_ORDER = itertools.count()


class CallLog:
    """Calls in order, the newest `size` kept; `call_count` counts them all.

    A record holds the call as the engine got it (its history a shared view, not a copy).
    Not locked itself: its owner holds the engine's lock.
    """

    def __init__(self, size: int = CALL_LOG_SIZE) -> None:
        self._records: deque[tuple[int, CallRecord]] = deque(maxlen=size)
        self._count = 0

    def record(self, call: AgentCall, reply: RenderedReply | None) -> None:
        """Add a call."""
        self._records.append((next(_ORDER), CallRecord(call, reply)))
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
        return [record for _, record in self._records]

    @property
    def last(self) -> CallRecord | None:
        """The latest call, if any."""
        return self._records[-1][1] if self._records else None

    @staticmethod
    def merged(logs: Iterable[CallLog], size: int) -> list[CallRecord]:
        """The newest `size` calls of several logs together, oldest first."""
        every = heapq.merge(*(log._records for log in logs), key=lambda item: item[0])
        return [record for _, record in deque(every, maxlen=size)]

    @staticmethod
    def latest(logs: Iterable[CallLog]) -> CallRecord | None:
        """The latest call of several logs."""
        lasts = [log._records[-1] for log in logs if log._records]
        return max(lasts, key=lambda item: item[0])[1] if lasts else None
