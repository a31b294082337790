"""Clocks: the wall clock, and a frozen one for byte-identical bodies."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the time, in UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that starts at `start` and moves by `step` each time it is read.

    With `step=timedelta(0)` time stands still; the default of one millisecond keeps
    timestamps distinct and ordered while staying reproducible from run to run.
    """

    def __init__(self, start: datetime, step: timedelta = timedelta(milliseconds=1)) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._next = start.astimezone(UTC)
        self._step = step
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            current = self._next
            self._next = current + self._step
            return current

    @classmethod
    def parse(cls, text: str) -> FrozenClock:
        """A frozen clock from an RFC 3339 timestamp such as `2026-01-01T00:00:00Z`."""
        return cls(datetime.fromisoformat(text.replace("Z", "+00:00")))


def rfc3339(moment: datetime) -> str:
    """`2026-11-20T23:24:22.123456Z`: RFC 3339, UTC, microseconds."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"  # without its "+00:00"
