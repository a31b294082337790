"""Query parameters, read strictly: a bad value is a 400 that names the parameter."""

from __future__ import annotations

import re
from collections.abc import Collection

from starlette.datastructures import QueryParams

from wacht_mock.contract.rules import DEFAULT_LIMIT
from wacht_mock.core.errors import BadRequest
from wacht_mock.core.text import did_you_mean
from wacht_mock.service.profiles import DialectProfile
from wacht_mock.service.requests import is_platform_status, platform_status_hint

_DIGITS = re.compile(r"[0-9]{1,4000}")
MAX_LIMIT = 100


def _single(params: QueryParams, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"Query parameter {name!r} was given {len(values)} times; give it once")
    return values[0] if values else None


def integer(params: QueryParams, name: str, *, default: int, low: int, high: int | None) -> int:
    """A whole number in `[low, high]` written in plain digits."""
    raw = _single(params, name)
    if raw is None:
        return default
    bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
    value = int(raw) if _DIGITS.fullmatch(raw) else None
    if value is None or value < low or (high is not None and value > high):
        raise BadRequest(f"Query parameter {name!r}: expected an integer {bounds}, got {raw!r}")
    return value


def status(params: QueryParams, profile: DialectProfile) -> str | None:
    """The `status` filter: one of the guide's statuses, or (platform) any string at all."""
    raw = _single(params, "status")
    if raw is None or profile.lenient or raw in profile.statuses:
        return raw
    if is_platform_status(raw):
        raise BadRequest(f"Query parameter 'status': {platform_status_hint(raw, profile)}")
    expected = ", ".join(profile.statuses)
    raise BadRequest(f"Query parameter 'status': expected one of {expected}, got {raw!r}")


def text(params: QueryParams, name: str) -> str | None:
    return _single(params, name)


def paging(params: QueryParams, max_limit: int) -> tuple[int, int]:
    """`(limit, offset)`: limit 1 to `max_limit` (default 50), offset >= 0 (default 0)."""
    limit = integer(params, "limit", default=DEFAULT_LIMIT, low=1, high=max_limit)
    offset = integer(params, "offset", default=0, low=0, high=None)
    return limit, offset


def unknown(params: QueryParams, known: Collection[str]) -> list[str]:
    """A note for each parameter the contract does not name (the real service ignores them,
    so the mock answers as it would; a typo such as `stauts` still deserves a word)."""
    notes = []
    for name in dict.fromkeys(key for key, _ in params.multi_items() if key not in known):
        hint = did_you_mean(name, known)
        hint = f"; {hint}" if hint else ""
        notes.append(f"contract violation: unknown query parameter {name!r} (ignored){hint}")
    return notes
