"""The request journal: every request and its response, in a bounded ring buffer.

A long run cannot grow memory without end: past ``size`` entries, or past ``max_bytes`` of
recorded text, the oldest go; every part of an entry is clipped (bodies, header values, the
headers as a whole, the query string). Readable from Python (:meth:`Journal.entries`), from the
control API, and printed for a failing test.
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
#: What an entry keeps of one header value, of all its headers together, and of the query string.
HEADER_LIMIT = 1024
HEADERS_LIMIT = 8 * 1024
QUERY_LIMIT = 4 * 1024
DEFAULT_JOURNAL_SIZE = 2000
#: What the journal's entries may hold in all (their text, roughly: an entry's ``size``).
DEFAULT_JOURNAL_BYTES = 32 * 1024 * 1024
#: What an entry costs beyond its text (the objects themselves), for ``Entry.size``.
_ENTRY_OVERHEAD = 1024


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
    #: The injected fault that answered (or delayed, or dropped) this request.
    fault: str | None = None
    #: How the exchange ended when the client did not see all of it (a stream it left).
    outcome: str | None = None

    @property
    def size(self) -> int:
        """Roughly what the entry holds, in bytes (what the journal's byte bound counts)."""
        texts = (self.path, self.query, self.body, self.response_body, self.script, self.error)
        headers = sum(len(name) + len(value) for name, value in self.headers.items())
        return _ENTRY_OVERHEAD + headers + sum(len(t) for t in (*texts, *self.violations) if t)

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
        if self.fault:
            line += f" [{self.fault}]"
        notes = [note for note in (self.error, self.outcome) if note]
        for problem in (*self.violations, *notes):
            line += f"\n    {problem}"
        return line


@dataclass
class Journal:
    """A thread-safe ring buffer of :class:`Entry`, bounded in entries and in bytes."""

    size: int = DEFAULT_JOURNAL_SIZE
    max_bytes: int = DEFAULT_JOURNAL_BYTES
    _entries: deque[Entry] = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _count: int = field(init=False, default=0)
    _bytes: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError("the journal holds at least one entry")
        if self.max_bytes < 1:
            raise ValueError("max_bytes: the journal holds at least one byte")
        self._entries = deque()

    def next_number(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def record(self, entry: Entry) -> None:
        """Keep an entry; the oldest go while there are too many or they hold too much (the
        newest entry is always kept)."""
        with self._lock:
            self._entries.append(entry)
            self._bytes += entry.size
            while len(self._entries) > 1 and (
                len(self._entries) > self.size or self._bytes > self.max_bytes
            ):
                self._bytes -= self._entries.popleft().size

    @property
    def bytes(self) -> int:
        """What the entries held now take, by :attr:`Entry.size`."""
        return self._bytes

    def entries(self, since: int = 0) -> list[Entry]:
        """Entries still held, oldest first; ``since`` keeps those numbered above it."""
        with self._lock:
            return [entry for entry in self._entries if entry.number > since]

    def clear(self, deployment_id: str | None = None) -> None:
        """Forget every entry, or only the requests of ``deployment_id``."""
        with self._lock:
            if deployment_id is None:
                self._entries.clear()
            else:
                kept = [entry for entry in self._entries if entry.deployment_id != deployment_id]
                self._entries = deque(kept)
            self._bytes = sum(entry.size for entry in self._entries)

    @property
    def total(self) -> int:
        """How many requests were ever recorded (including those the ring dropped)."""
        return self._count

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())


def clip(
    data: bytes, limit: int = BODY_LIMIT, encoding: str = "utf-8", *, size: int | None = None
) -> str:
    """The first ``limit`` bytes as text, key-shaped values masked; when there were more, a note
    of how many (``size``, when ``data`` is only the start of what there was)."""
    size = len(data) if size is None else size
    text = mask_text(data[:limit].decode(encoding, "replace"))
    return text + (f"… ({size} bytes)" if size > limit else "")


def clip_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Each value to :data:`HEADER_LIMIT`, all of them to about :data:`HEADERS_LIMIT`: past it,
    the rest are dropped and counted under the name ``…``."""
    kept: dict[str, str] = {}
    used = dropped = 0
    for name, value in headers:
        if len(value) > HEADER_LIMIT:
            value = f"{value[:HEADER_LIMIT]}… ({len(value)} characters)"
        if used + len(name) + len(value) > HEADERS_LIMIT:
            dropped += 1
            continue
        used += len(name) + len(value)
        kept[name] = value
    if dropped:
        kept["…"] = f"{dropped} more headers not kept"
    return kept
