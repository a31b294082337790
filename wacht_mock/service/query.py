"""Query parameters, read strictly: a bad value is a 400 that names the parameter."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection

from starlette.datastructures import QueryParams

from wacht_mock.core.errors import BadRequest

_DIGITS = re.compile(r"[0-9]{1,4000}")
MAX_LIMIT = 100
DEFAULT_LIMIT = 50


def _single(params: QueryParams, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"Query parameter {name!r} was given {len(values)} times; give it once")
    return values[0] if values else None


def integer(params: QueryParams, name: str, *, default: int, low: int, high: int | None) -> int:
    """A whole number in ``[low, high]`` written in plain digits."""
    raw = _single(params, name)
    if raw is None:
        return default
    bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
    value = int(raw) if _DIGITS.fullmatch(raw) else None
    if value is None or value < low or (high is not None and value > high):
        raise BadRequest(f"Query parameter {name!r}: expected an integer {bounds}, got {raw!r}")
    return value


def choice(params: QueryParams, name: str, choices: Collection[str]) -> str | None:
    raw = _single(params, name)
    if raw is not None and raw not in choices:
        expected = ", ".join(choices)
        raise BadRequest(f"Query parameter {name!r}: expected one of {expected}, got {raw!r}")
    return raw


def text(params: QueryParams, name: str) -> str | None:
    return _single(params, name)


def paging(params: QueryParams) -> tuple[int, int]:
    """``(limit, offset)``: limit 1-100 (default 50), offset >= 0 (default 0)."""
    limit = integer(params, "limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    offset = integer(params, "offset", default=0, low=0, high=None)
    return limit, offset


def unknown(params: QueryParams, known: Collection[str]) -> list[str]:
    """A note for each parameter the contract does not name (the real service ignores them,
    so the mock answers as it would; a typo such as ``stauts`` still deserves a word)."""
    notes = []
    for name in dict.fromkeys(key for key, _ in params.multi_items() if key not in known):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        notes.append(f"contract violation: unknown query parameter {name!r} (ignored){hint}")
    return notes
