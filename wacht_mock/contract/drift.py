"""The drift report: which field of which operation broke the contract, and how often.

Violations are grouped by direction, operation, place and rule; array indexes and event numbers
are folded (`/data/3/status` counts as `/data/*/status`), so a field that drifts in every item
of every page is one line with a count, not a thousand lines.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from wacht_mock.contract.violations import Violation

_INDEX = re.compile(r"/\d+(?=[/:\s]|$)")
_EVENT = re.compile(r"^event \d+ ")


@dataclass(frozen=True)
class DriftItem:
    """One kind of drift: where it was seen, how often, and the last example of it."""

    direction: str
    operation: str
    where: str
    rule: str
    count: int
    example: str

    def line(self) -> str:
        return f"{self.count:>6}  {self.direction:<8}  {self.operation}  {self.example}"


def fold_indexes(text: str) -> str:
    """Array indexes in JSON pointers folded: `/data/3/status` reads `/data/*/status`."""
    return _INDEX.sub("/*", text)


def folded(violation: Violation) -> str:
    """Where a violation sits, with indexes and event numbers folded."""
    location = _EVENT.sub("event ", violation.location)
    return f"{location} {fold_indexes(violation.pointer)}".strip()


@dataclass
class DriftReport:
    """Counts of violations seen, safe to feed from several threads."""

    _counts: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    _examples: dict[tuple[str, str, str, str], str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, violations: Iterable[Violation]) -> None:
        with self._lock:
            for violation in violations:
                key = (violation.direction, violation.operation, folded(violation), violation.rule)
                self._counts[key] = self._counts.get(key, 0) + 1
                self._examples[key] = violation.message

    def items(self) -> list[DriftItem]:
        """Every kind of drift, the most frequent first."""
        with self._lock:
            found = [
                DriftItem(*key, count=count, example=self._examples[key])
                for key, count in self._counts.items()
            ]
        return sorted(found, key=lambda item: (-item.count, item.operation, item.where))

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def __len__(self) -> int:
        return len(self._counts)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._examples.clear()

    def text(self) -> str:
        """The report as printed when the proxy stops."""
        items = self.items()
        if not items:
            return "Contract drift: none seen"
        head = f"Contract drift: {_count(self.total, 'violation')} of {_count(len(items), 'kind')}"
        columns = f"{'times':>6}  {'seen in':<8}  operation  last example"
        return "\n".join([head, columns, *(item.line() for item in items)])


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
