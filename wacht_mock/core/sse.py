"""Reading Server-Sent Events, a chunk at a time, as the HTML standard frames them.

Lines end in `\\n`, `\\r\\n` or `\\r`; a blank line dispatches the event; `data` lines
join with `\\n`; lines starting with `:` are comments. An event's `id` here is the one its own
block set (`None` if it set none), which is what a contract about ids needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SseEvent:
    """One dispatched event."""

    event: str
    data: str
    id: str | None = None
    retry: int | None = None

    def as_object(self) -> dict[str, Any]:
        """The event as the contract's event schema sees it: `{event, data, id?, retry?}`."""
        value: dict[str, Any] = {"event": self.event, "data": self.data}
        if self.id is not None:
            value["id"] = self.id
        if self.retry is not None:
            value["retry"] = self.retry
        return value

    def encode(self) -> bytes:
        """The event framed again (`event`, `id`, `retry`, one `data` line per line)."""
        lines = [f"event: {self.event}"]
        lines += [f"id: {self.id}"] if self.id is not None else []
        lines += [f"retry: {self.retry}"] if self.retry is not None else []
        lines += [f"data: {line}" for line in self.data.split("\n")]
        return ("\n".join(lines) + "\n\n").encode("utf-8")


@dataclass
class _Block:
    event: str = ""
    data: list[str] = field(default_factory=list)
    id: str | None = None
    retry: int | None = None
    seen: bool = False


class SseReader:
    """Feed it bytes as they arrive; it returns the events each chunk completed."""

    def __init__(self) -> None:
        self._buffer = b""
        self._block = _Block()

    def feed(self, chunk: bytes) -> list[SseEvent]:
        self._buffer += chunk
        dispatched = []
        for line in self._complete_lines():
            event = self._line(line)
            if event is not None:
                dispatched.append(event)
        return dispatched

    @property
    def pending(self) -> bool:
        """Whether bytes of an event that was never dispatched are waiting (a cut stream)."""
        return bool(self._buffer.strip()) or self._block.seen

    def _complete_lines(self) -> list[str]:
        lines: list[str] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                return lines
            end, after = cut
            lines.append(self._buffer[:end].decode("utf-8", "replace"))
            self._buffer = self._buffer[after:]

    def _line(self, line: str) -> SseEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        block = self._block
        block.seen = True
        if name == "event":
            block.event = value
        elif name == "data":
            block.data.append(value)
        elif name == "id" and "\0" not in value:
            block.id = value
        elif name == "retry" and value.isdigit():
            block.retry = int(value)
        return None

    def _dispatch(self) -> SseEvent | None:
        block, self._block = self._block, _Block()
        if not block.data:
            return None
        return SseEvent(block.event or "message", "\n".join(block.data), block.id, block.retry)


def _line_end(buffer: bytes) -> tuple[int, int] | None:
    """`(end of the line, start of the next)` for the first complete line, if there is one."""
    newline, carriage = buffer.find(b"\n"), buffer.find(b"\r")
    if carriage == -1 or -1 < newline < carriage:
        return None if newline == -1 else (newline, newline + 1)
    if carriage + 1 == len(buffer):
        return None  # a "\r\n" may be split across chunks: wait for the next byte
    return carriage, carriage + (2 if buffer[carriage + 1] == 0x0A else 1)


def read_events(body: bytes) -> tuple[list[SseEvent], bool]:
    """Every event of a whole stream, and whether it ended cleanly (no half-written event)."""
    reader = SseReader()
    events = reader.feed(body)
    if body.endswith(b"\r"):
        events += reader.feed(b"\n")
    return events, not reader.pending
