"""JSON text read strictly: what a careful server accepts, and why it refuses the rest.

Duplicate keys, ``NaN``/``Infinity``, lone UTF-16 surrogates, invalid UTF-8, integers of more
than 4,300 digits and absurd nesting are errors, each with a message that says where. Used by
the mock for request bodies and by the contract validator for any body it reads; it knows
nothing of HTTP.
"""

from __future__ import annotations

import json
from typing import Any

SNIPPET = 24
MAX_DIGITS = 4300  # Python's own limit on converting digits to an int


class JsonTextError(ValueError):
    """Text that is not acceptable JSON; ``str(error)`` says why and where."""


def decode(raw: bytes, what: str = "Request body") -> Any:
    """``raw`` as Python data, or a :class:`JsonTextError` whose message starts with ``what``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonTextError(f"{what} is not valid UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_int=_integer,
        )
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise JsonTextError(f"{what} is not valid JSON: {exc.msg} at {where}{_near(exc)}") from None
    except RecursionError:
        raise JsonTextError(f"{what} is nested too deeply") from None
    except _Refused as exc:
        raise JsonTextError(f"{what} {exc}") from None
    _check_strings(data, what)
    return data


class _Refused(Exception):
    pass


def _near(exc: json.JSONDecodeError) -> str:
    if not exc.doc:
        return ""
    start = max(0, exc.pos - SNIPPET // 2)
    snippet = exc.doc[start : start + SNIPPET]
    return f" (near {snippet!r})" if snippet.strip() else ""


def _integer(digits: str) -> int:
    if len(digits) > MAX_DIGITS:
        raise _Refused(f"holds a number of {len(digits)} digits (at most {MAX_DIGITS})")
    return int(digits)


def _no_constant(name: str) -> Any:
    raise _Refused(f"is not valid JSON: {name} is not a JSON number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f"has the key {key!r} twice")
        result[key] = value
    return result


def _check_strings(data: Any, what: str) -> None:
    """Refuse lone surrogates (``"\\ud800"``): no text can hold them."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and not item.isascii():
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise JsonTextError(f"{what} holds a lone UTF-16 surrogate") from None
