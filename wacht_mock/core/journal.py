"""The request journal: every request and its response, in a bounded ring buffer.

A long run cannot grow memory without end: past ``size`` entries the oldest go. Readable from
Python (:meth:`Journal.entries`), from the control API, and printed for a failing test.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

BODY_LIMIT = 16 * 1024
DEFAULT_JOURNAL_SIZE = 2000


@dataclass(frozen=True)
class Entry:
    """One request and what the mock answered.

    Recording is cheap: the bodies are kept as the bytes that went by (the first
    :data:`BODY_LIMIT` bytes, with their full sizes) and the headers as ASGI pairs, but for
    ``Authorization``, masked at once (``authorization``); ``body``, ``response_body`` and
    ``headers`` decode and clip them when first read.
    """

    number: int
    started_at: float
    method: str
    path: str
    query: str
    raw_headers: tuple[tuple[bytes, bytes], ...] = field(repr=False)
    raw_body: bytes = field(repr=False)
    status: int
    raw_response_body: bytes = field(repr=False)
    duration_ms: float
    body_size: int = 0
    response_size: int = 0
    authorization: str | None = None
    deployment_id: str | None = None
    agent_name: str | None = None
    script: str | None = None
    violations: tuple[str, ...] = ()
    error: str | None = None

    @cached_property
    def headers(self) -> dict[str, str]:
        """Lower-case names; the API key masked (``Bearer wk_test_…f123``)."""
        raw = self.raw_headers
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}
        if self.authorization is not None:
            headers["authorization"] = self.authorization
        return headers

    @cached_property
    def body(self) -> str:
        """The request body as text, clipped at :data:`BODY_LIMIT` bytes."""
        return clip(self.raw_body, self.body_size)

    @cached_property
    def response_body(self) -> str:
        """The response body as text, clipped at :data:`BODY_LIMIT` bytes."""
        return clip(self.raw_response_body, self.response_size)

    def as_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in SHOWN_FIELDS}
        data["violations"] = list(self.violations)
        return data

    def summary(self) -> str:
        """``POST /ai/execution-contexts/1/execute -> 200 (support-bot: rule 1)``."""
        target = self.path + (f"?{self.query}" if self.query else "")
        line = f"#{self.number} {self.method} {target} -> {self.status}"
        if self.script:
            line += f" [{self.script}]"
        for problem in (*self.violations, *([self.error] if self.error else [])):
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


#: What an entry shows (``as_dict``, the control API), in order: the decoded views of the bytes.
SHOWN_FIELDS = (
    *("number", "started_at", "method", "path", "query", "headers", "body", "status"),
    *("response_body", "duration_ms", "deployment_id", "agent_name", "script", "violations"),
    "error",
)


def mask_key(value: str) -> str:
    """``Bearer wk_test_abcdef123`` → ``Bearer wk_test_…f123``."""
    scheme, _, key = value.partition(" ")
    if not key:
        return "…"
    prefix = key[: key.find("_", 3) + 1] if key.startswith("wk_") else ""
    return f"{scheme} {prefix}…{key[-4:]}"


def clip(data: bytes, size: int | None = None) -> str:
    """The first :data:`BODY_LIMIT` bytes of ``data`` as text, and how long it was if longer."""
    size = len(data) if size is None else size
    text = data[:BODY_LIMIT].decode("utf-8", "replace")
    return text + (f"… ({size} bytes)" if size > BODY_LIMIT else "")
