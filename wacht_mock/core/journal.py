"""The request journal: every request and its response, in a bounded ring buffer.

A long run cannot grow memory without end: past `size` entries, or past `max_bytes` of
recorded text, the oldest go; every part of an entry is clipped (bodies, header values, the
headers as a whole, the query string). Readable from Python (`Journal.entries`), from the
control API, and printed for a failing test.

Recording is on every request's path, reading is not: the recorder keeps a body as the bytes
that came (a body longer than `BODY_LIMIT` as a `RawBody`: its first bytes and its whole
length), and an entry decodes, clips and masks it the first time it is read. What it will
hold is counted when it is recorded, so the byte bound holds before any entry is read.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, TypeVar, overload

from wacht_mock.core.defaults import DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE
from wacht_mock.core.masking import mask_key, mask_text

_T = TypeVar("_T")

__all__ = ["Entry", "Journal", "RawBody", "Subscription", "clip", "mask_key"]

BODY_LIMIT = 16 * 1024
#: What an entry keeps of one header value, of all its headers together, and of the query string.
HEADER_LIMIT = 1024
HEADERS_LIMIT = 8 * 1024
QUERY_LIMIT = 4 * 1024
#: What an entry costs beyond its text (the objects themselves), for `Entry.size`.
_ENTRY_OVERHEAD = 1024
#: Entries a subscriber may fall behind by before the oldest are dropped, and subscribers at once.
SUBSCRIPTION_BACKLOG = 256
MAX_SUBSCRIBERS = 16


#: What the note on a clipped body (`… (N bytes)`) may add to its text, for `Entry.size`.
_NOTE_ROOM = 32


class RawBody:
    """A body as it came, read as text only when asked: its first `BODY_LIMIT` bytes and
    the length of the whole."""

    __slots__ = ("data", "length")

    def __init__(self, data: bytes, length: int) -> None:
        self.data = data[:BODY_LIMIT]
        self.length = length

    def __len__(self) -> int:
        """At least the length of `text` (decoding and masking never lengthen it)."""
        return len(self.data) + (_NOTE_ROOM if self.length > len(self.data) else 0)

    def text(self) -> str:
        """What `clip` makes of the whole body: clipped, keys masked, its length noted."""
        text = mask_text(self.data.decode("utf-8", "replace"))
        return text + (f"… ({self.length} bytes)" if self.length > len(self.data) else "")


class _worked_out_once(Generic[_T]):  # a decorator, named like one
    """`functools.cached_property` without the lock it takes on every first read in Python
    3.11 (3.12 dropped it): the value is kept in the instance's `__dict__`, which a frozen
    dataclass has."""

    def __init__(self, work: Callable[[Any], _T]) -> None:
        self.work = work
        self.name = work.__name__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _worked_out_once[_T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.work(instance)
        return value


class _BodyText:
    """An entry's body field: given as text, as the bytes of a whole body, or as a `RawBody`
    (a clipped one); read as text (decoded the first time, then kept). Bytes are one object
    fewer for the garbage collector to visit than a `RawBody`, on every request."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, entry: None, owner: type | None = None) -> _BodyText: ...
    @overload
    def __get__(self, entry: Entry, owner: type | None = None) -> str: ...
    def __get__(self, entry: Entry | None, owner: type | None = None) -> str | _BodyText:
        if entry is None:
            raise AttributeError(self.name)  # no default: the field is required
        value: str | bytes | RawBody = entry.__dict__[self.name]
        if isinstance(value, str):
            return value
        text = value.text() if isinstance(value, RawBody) else RawBody(value, len(value)).text()
        entry.__dict__[self.name] = text
        return text

    def __set__(self, entry: Entry, value: str | bytes | RawBody) -> None:
        entry.__dict__[self.name] = value


@dataclass(frozen=True)
class Entry:
    """One request and what the mock answered."""

    number: int
    started_at: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    # The two bodies are required fields (the descriptor gives no default; mypy cannot tell).
    body: _BodyText = _BodyText()
    status: int  # type: ignore[misc]
    response_body: _BodyText = _BodyText()
    duration_ms: float  # type: ignore[misc]
    deployment_id: str | None = None
    agent_name: str | None = None
    script: str | None = None
    violations: tuple[str, ...] = ()
    error: str | None = None
    #: The injected fault that answered (or delayed, or dropped) this request.
    fault: str | None = None
    #: How the exchange ended when the client did not see all of it (a stream it left).
    outcome: str | None = None

    @_worked_out_once
    def size(self) -> int:
        """Roughly what the entry holds, in bytes (what the journal's byte bound counts); a body
        not read yet counts as the bytes kept of it."""
        headers, fields = self.headers, self.__dict__
        script, error, violations = self.script, self.error, self.violations
        return (
            _ENTRY_OVERHEAD
            + sum(map(len, headers))
            + sum(map(len, headers.values()))
            + len(fields["body"])  # what is kept, text or bytes, not decoded for this
            + len(fields["response_body"])
            + len(self.path)
            + len(self.query)
            + (len(script) if script else 0)
            + (len(error) if error else 0)
            + (sum(map(len, violations)) if violations else 0)
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["violations"] = list(self.violations)
        return data

    def summary(self) -> str:
        """`POST /ai/execution-contexts/1/execute -> 200 (support-bot: rule 1)`."""
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
    """A thread-safe ring buffer of `Entry`, bounded in entries and in bytes."""

    size: int = DEFAULT_JOURNAL_SIZE
    max_bytes: int = DEFAULT_JOURNAL_BYTES
    _entries: deque[Entry] = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _count: int = field(init=False, default=0)
    _bytes: int = field(init=False, default=0)
    _subscribers: list[Subscription] = field(init=False, default_factory=list)

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
            subscribers = tuple(self._subscribers) if self._subscribers else ()
        for subscriber in subscribers:
            subscriber.put(entry)

    def subscribe(
        self, wake: Callable[[], None] | None = None, backlog: int = SUBSCRIPTION_BACKLOG
    ) -> Subscription:
        """Entries recorded from now on, as they come (`wake` is called after each, from the
        recording thread: it must not block); `Subscription.close` ends it. At most
        `MAX_SUBSCRIBERS` at once: past it, a `TooManySubscribers`."""
        with self._lock:
            if len(self._subscribers) >= MAX_SUBSCRIBERS:
                raise TooManySubscribers(f"the journal has {MAX_SUBSCRIBERS} subscribers already")
            subscription = Subscription(self, backlog, wake)
            self._subscribers.append(subscription)
            return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)

    @property
    def subscribers(self) -> int:
        """How many subscriptions are open."""
        return len(self._subscribers)

    @property
    def bytes(self) -> int:
        """What the entries held now take, by `Entry.size`."""
        return self._bytes

    def entries(self, since: int = 0) -> list[Entry]:
        """Entries still held, oldest first; `since` keeps those numbered above it."""
        with self._lock:
            return [entry for entry in self._entries if entry.number > since]

    def clear(self, deployment_id: str | None = None) -> None:
        """Forget every entry, or only the requests of `deployment_id`."""
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


class TooManySubscribers(RuntimeError):
    """Every subscription the journal allows is taken."""


class Subscription:
    """A subscriber's queue: at most `backlog` entries wait; past it the oldest go and
    `take` reports how many were missed."""

    def __init__(
        self, journal: Journal, backlog: int, wake: Callable[[], None] | None = None
    ) -> None:
        if backlog < 1:
            raise ValueError("backlog: a subscription holds at least one entry")
        self._journal = journal
        self._queue: deque[Entry] = deque(maxlen=backlog)
        self._lock = threading.Lock()
        self._wake = wake
        self.missed = 0
        self.closed = False

    def put(self, entry: Entry) -> None:
        """For the journal: queue an entry (never blocks; a full queue drops its oldest)."""
        with self._lock:
            if self.closed:
                return
            if len(self._queue) == self._queue.maxlen:
                self.missed += 1
            self._queue.append(entry)
        if self._wake is not None:
            self._wake()

    def take(self) -> tuple[list[Entry], int]:
        """The entries waiting (oldest first) and how many were dropped since the last take."""
        with self._lock:
            entries, missed = list(self._queue), self.missed
            self._queue.clear()
            self.missed = 0
            return entries, missed

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._queue.clear()
        self._journal._unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def clip(data: bytes, limit: int = BODY_LIMIT, encoding: str = "utf-8") -> str:
    """The first `limit` bytes as text, key-shaped values masked; when there were more, a note
    of how many."""
    text = mask_text(data[:limit].decode(encoding, "replace"))
    return text + (f"… ({len(data)} bytes)" if len(data) > limit else "")


def clip_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Each value to `HEADER_LIMIT`, all of them to about `HEADERS_LIMIT`: past it,
    the rest are dropped and counted under the name `…`."""
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
