"""Faults a reply can carry. Plain data: the HTTP layer acts on them."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal

from .errors import InvalidScript

StreamFaultMode = Literal["cut", "error", "drop"]
STREAM_FAULT_MODES: tuple[StreamFaultMode, ...] = ("cut", "error", "drop")
ERROR_STATUSES = frozenset(status.value for status in HTTPStatus if status >= 400)


@dataclass(frozen=True)
class HttpFault:
    """Answer with an HTTP error (in the error envelope) instead of the reply.

    `message` defaults to the status phrase; `retry_after` (seconds, for the
    `Retry-After` header) defaults to 1 for a 429.
    """

    status: int
    message: str | None = None
    retry_after: int | None = None

    def __post_init__(self) -> None:
        _check_status(self.status)
        _check_retry_after(self.retry_after)
        if self.message is None:
            object.__setattr__(self, "message", HTTPStatus(self.status).phrase)
        if self.retry_after is None and self.status == HTTPStatus.TOO_MANY_REQUESTS:
            object.__setattr__(self, "retry_after", 1)


@dataclass(frozen=True)
class StreamFault:
    """Break a stream after `after_events` events (counting from `message_start`).

    `cut`: the stream ends cleanly without `message_end`; `error`: an `error` event
    (envelope with `message` and `code`) ends it; `drop`: the connection is dropped.
    """

    after_events: int
    mode: StreamFaultMode = "cut"
    message: str = "Stream interrupted"
    code: int = 500

    def __post_init__(self) -> None:
        if self.mode not in STREAM_FAULT_MODES:
            raise InvalidScript.at("mode", f"must be one of cut, error, drop, not {self.mode!r}")
        if self.after_events < 0:
            raise InvalidScript.at("after_events", "must be 0 or more")
        _check_status(self.code, "code")


Fault = HttpFault | StreamFault


def _check_status(status: int, name: str = "status") -> None:
    if status not in ERROR_STATUSES:
        raise InvalidScript.at(name, f"must be an HTTP error status (4xx or 5xx), not {status}")


def _check_retry_after(retry_after: int | None) -> None:
    if retry_after is not None and retry_after < 0:
        raise InvalidScript.at("retry_after", "must be 0 or more seconds")
