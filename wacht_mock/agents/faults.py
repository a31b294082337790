"""Faults a reply can carry. Plain data: the HTTP layer acts on them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus

from .errors import InvalidScript, at
from .kinds import StreamFaultMode
from .shapes import FaultSpec, parse_fault

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
    `StreamFault("error", after_events=2)`, as a fixture file writes it.
    """

    mode: StreamFaultMode = "cut"
    after_events: int = 0
    message: str = "Stream interrupted"
    code: int = 500

    def __post_init__(self) -> None:
        if not isinstance(self.mode, str):
            raise TypeError(
                f"StreamFault takes the mode first: StreamFault('cut', after_events=2), "
                f"not {self.mode!r}"
            )
        if self.mode not in STREAM_FAULT_MODES:
            raise InvalidScript.at("mode", f"must be one of cut, error, drop, not {self.mode!r}")
        if self.after_events < 0:
            raise InvalidScript.at("after_events", "must be 0 or more")
        _check_status(self.code, "code")


Fault = HttpFault | StreamFault


def as_fault(value: object) -> Fault | None:
    """A fault from a `Fault`, None, or a mapping in the fixture file's shape; else `TypeError`."""
    if value is None or isinstance(value, HttpFault | StreamFault):
        return value
    if isinstance(value, Mapping):
        with at("fault"):
            return fault_from_spec(parse_fault(value))
    raise TypeError(
        f"fault is an HttpFault, a StreamFault or a mapping such as {{'status': 429}}, "
        f"not {value!r}"
    )


def fault_from_spec(spec: FaultSpec) -> Fault:
    """The fault a checked `FaultSpec` describes."""
    if spec.status is not None:
        return HttpFault(spec.status, spec.message, spec.retry_after)
    assert spec.mode is not None  # the spec checked it
    assert spec.after_events is not None
    extras = spec.model_dump(include={"message", "code"}, exclude_none=True)
    return StreamFault(spec.mode, spec.after_events, **extras)


def _check_status(status: int, name: str = "status") -> None:
    if status not in ERROR_STATUSES:
        raise InvalidScript.at(name, f"must be an HTTP error status (4xx or 5xx), not {status}")


def _check_retry_after(retry_after: int | None) -> None:
    if retry_after is not None and retry_after < 0:
        raise InvalidScript.at("retry_after", "must be 0 or more seconds")
