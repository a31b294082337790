"""What every benchmark shares: bounded timing loops, result rows and the markdown table.

Every loop is bounded twice, by a count and by a time budget, so that a slow machine gets fewer
samples rather than a run that never ends. Subject and baseline are measured in alternating
rounds, so that drift (a busy neighbour, a frequency change) hits both alike.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

KEY = "wk_test_benchmark"
AUTH = {"Authorization": f"Bearer {KEY}"}
#: What a suite could not measure, and why; printed under the table.
NOTES: list[str] = []


@dataclass(frozen=True)
class Budget:
    """How many samples to take at most, and for how long at most (per side of a comparison)."""

    count: int
    seconds: float
    rounds: int = 5


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure, its baseline from the same run, and its target."""

    group: str
    name: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    higher_is_better: bool = False

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def time_calls(call: Callable[[], object], count: int, seconds: float) -> list[float]:
    """Durations of up to ``count`` calls, stopping early once ``seconds`` have passed.

    A call that returns a float has measured itself (say, up to its first byte): that is kept.
    """
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    for _ in range(count):
        started = time.perf_counter()
        own = call()
        ended = time.perf_counter()
        samples.append(own if isinstance(own, float) else ended - started)
        if ended > deadline:
            break
    return samples


async def time_async_calls(
    call: Callable[[], Awaitable[object]], count: int, seconds: float
) -> list[float]:
    """:func:`time_calls` for coroutines."""
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    for _ in range(count):
        started = time.perf_counter()
        own = await call()
        ended = time.perf_counter()
        samples.append(own if isinstance(own, float) else ended - started)
        if ended > deadline:
            break
    return samples


def compare(
    subject: Callable[[], object], baseline: Callable[[], object], budget: Budget
) -> tuple[list[float], list[float]]:
    """Both sides in alternating rounds, after a short warm-up of each."""
    warm = warmup_count(budget)
    time_calls(subject, warm, budget.seconds)
    time_calls(baseline, warm, budget.seconds)
    ours: list[float] = []
    theirs: list[float] = []
    per_round, round_seconds = _per_round(budget)
    for _ in range(budget.rounds):
        ours += time_calls(subject, per_round, round_seconds)
        theirs += time_calls(baseline, per_round, round_seconds)
    return ours, theirs


async def compare_async(
    subject: Callable[[], Awaitable[object]],
    baseline: Callable[[], Awaitable[object]],
    budget: Budget,
) -> tuple[list[float], list[float]]:
    """:func:`compare` for coroutines."""
    warm = warmup_count(budget)
    await time_async_calls(subject, warm, budget.seconds)
    await time_async_calls(baseline, warm, budget.seconds)
    ours: list[float] = []
    theirs: list[float] = []
    per_round, round_seconds = _per_round(budget)
    for _ in range(budget.rounds):
        ours += await time_async_calls(subject, per_round, round_seconds)
        theirs += await time_async_calls(baseline, per_round, round_seconds)
    return ours, theirs


def warmup_count(budget: Budget) -> int:
    """How many calls of each side :func:`compare` makes before it starts timing."""
    return max(1, budget.count // 20)


def _per_round(budget: Budget) -> tuple[int, float]:
    return max(1, budget.count // budget.rounds), budget.seconds / budget.rounds


class quiet_gc:
    """Collect garbage, then keep the collector off while timing (and on again after)."""

    def __enter__(self) -> None:
        gc.collect()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        gc.enable()


# -- the table ------------------------------------------------------------------------------


def render_table(rows: Sequence[Row]) -> str:
    """The rows as one markdown table, grouped in the order they came."""
    lines = [
        "| Measure | wacht-mock | Baseline (same run) | Ratio | Target | Verdict |",
        "|---|---:|---|---:|---|---|",
    ]
    for row in rows:
        lines.append(
            "| "
            + " | ".join(
                (
                    f"{row.group}: {row.name}",
                    format_value(row.value, row.unit),
                    _baseline_cell(row),
                    _ratio_cell(row),
                    row.target or "-",
                    _verdict(row),
                )
            )
            + " |"
        )
    return "\n".join(lines)


def _baseline_cell(row: Row) -> str:
    if row.baseline is None:
        return row.baseline_name or "-"
    return f"{row.baseline_name} {format_value(row.baseline, row.unit)}"


def _ratio_cell(row: Row) -> str:
    ratio = row.ratio
    if ratio is None:
        return "-"
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.1g}x"


def _verdict(row: Row) -> str:
    verdict = {True: "met", False: "gap", None: ""}[row.met]
    if row.note:
        return f"{verdict}: {row.note}" if verdict else row.note
    return verdict or "-"


def format_value(value: float, unit: str) -> str:
    """Seconds scaled to a readable unit; other units as given."""
    if value != value:  # NaN: nothing was measured
        return "n/a"
    if unit == "s":
        if value < 1e-3:
            return f"{value * 1e6:.0f} µs"
        if value < 1:
            return f"{value * 1e3:.2f} ms"
        return f"{value:.2f} s"
    if unit == "B":
        if value >= 1024 * 1024:
            return f"{value / (1024 * 1024):.1f} MiB"
        return f"{value:,.0f} B"
    if unit == "%":
        return f"{value:.1f}%"
    if unit in ("req/s", "cases/s"):
        return f"{value:,.0f} {unit}"
    return f"{value:,.2f} {unit}"
