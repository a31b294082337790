"""The request journal: every request and its response, in a bounded ring buffer.

A long run cannot grow memory without end: past ``size`` entries the oldest go. Readable from
Python (:meth:`Journal.entries`), from the control API, and printed for a failing test.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from wacht_mock.core.masking import mask_key, mask_text

__all__ = ["Entry", "Journal", "clip", "mask_key"]

BODY_LIMIT = 16 * 1024
DEFAULT_JOURNAL_SIZE = 2000


@dataclass(frozen=True)
class Entry:
    """One request and what the mock answered."""

    number: int
    started_at: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str
    status: int
    response_body: str
    duration_ms: float
    deployment_id: str | None = None
    agent_name: str | None = None
    script: str | None = None
    violations: tuple[str, ...] = ()
    error: str | None = None
    #: How the exchange ended when the client did not see all of it (a stream it left).
    outcome: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["violations"] = list(self.violations)
        return data

    def summary(self) -> str:
        """``POST /ai/execution-contexts/1/execute -> 200 (support-bot: rule 1)``."""
        target = self.path + (f"?{self.query}" if self.query else "")
        line = f"#{self.number} {self.method} {target} -> {self.status}"
        if self.script:
            line += f" [{self.script}]"
        notes = [note for note in (self.error, self.outcome) if note]
        for problem in (*self.violations, *notes):
            line += f"\n    {problem}"
        return line


@dataclass
class Journal:
    """A thread-safe ring buffer of :class:`Entry`."""

    size: int = DEFAULT_JOURNAL_SIZE
    _entries: deque[Entry] = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _count: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError("the journal holds at least one entry")
        self._entries = deque(maxlen=self.size)

    def next_number(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def record(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, since: int = 0) -> list[Entry]:
        """Entries still held, oldest first; ``since`` keeps those numbered above it."""
        with self._lock:
            return [entry for entry in self._entries if entry.number > since]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @property
    def total(self) -> int:
        """How many requests were ever recorded (including those the ring dropped)."""
        return self._count

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())


def clip(data: bytes) -> str:
    """A body as the journal keeps it: its first 16 KiB, key-shaped values masked."""
    text = mask_text(data[:BODY_LIMIT].decode("utf-8", "replace"))
    return text + (f"… ({len(data)} bytes)" if len(data) > BODY_LIMIT else "")
