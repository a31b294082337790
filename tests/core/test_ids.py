"""Ids: their high bits are the clock's milliseconds, and each is greater than the last."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from wacht_mock.core.clock import FrozenClock, SystemClock
from wacht_mock.core.ids import EPOCH_MS, SEQUENCE_BITS, SnowflakeIds


def test_an_id_of_the_wall_clock_holds_its_milliseconds() -> None:
    ids = SnowflakeIds(SystemClock())
    before = time.time_ns() // 1_000_000
    made = [ids.next_int() for _ in range(1000)]
    after = time.time_ns() // 1_000_000
    assert made == sorted(set(made))
    assert before - EPOCH_MS <= made[0] >> SEQUENCE_BITS <= made[-1] >> SEQUENCE_BITS
    assert made[-1] >> SEQUENCE_BITS <= after - EPOCH_MS


def test_an_id_of_another_clock_holds_that_clocks_milliseconds() -> None:
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    ids = SnowflakeIds(FrozenClock(start))
    first, second = ids.next_int(), ids.next_int()
    assert first >> SEQUENCE_BITS == int(start.timestamp() * 1000) - EPOCH_MS
    assert second >> SEQUENCE_BITS == (first >> SEQUENCE_BITS) + 1  # the clock moved 1 ms
    text = ids.next()
    assert text.isdigit()
    assert int(text) > second
