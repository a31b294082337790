"""Snowflake-style ids: 64-bit integers written as decimal strings, monotonic and unique."""

from __future__ import annotations

import threading
import time

from wacht_mock.core.clock import Clock, SystemClock

#: 2020-01-01T00:00:00Z in milliseconds, the epoch of the ids' time part.
EPOCH_MS = 1_577_836_800_000
SEQUENCE_BITS = 22


class SnowflakeIds:
    """Makes ids whose high bits are milliseconds since `EPOCH_MS`.

    Every id is greater than the one before, whatever the clock does, so ids sort in
    creation order; ids from one generator never repeat across deployments.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last = 0
        self._lock = threading.Lock()
        # The wall clock's milliseconds without a datetime made and read back for each id.
        self._millis = _wall_millis if type(clock) is SystemClock else self._clock_millis

    def _clock_millis(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    def next_int(self) -> int:
        millis = self._millis() - EPOCH_MS
        candidate = max(millis, 0) << SEQUENCE_BITS
        with self._lock:
            self._last = max(candidate, self._last + 1)
            return self._last

    def next(self) -> str:
        return str(self.next_int())

    def advance_past(self, value: int) -> None:
        """Never hand out `value` or anything below it (after a snapshot is restored)."""
        with self._lock:
            self._last = max(self._last, value)


def _wall_millis() -> int:
    return time.time_ns() // 1_000_000
