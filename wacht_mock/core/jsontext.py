"""JSON text read strictly: what a careful server accepts, and why it refuses the rest; and
JSON text written as every part of the mock writes it.

Duplicate keys, `NaN`/`Infinity`, numbers past a double's range, lone UTF-16 surrogates,
invalid UTF-8, integers of more than 4,300 digits and absurd nesting are errors, each with a
message that says where. Used by the mock for request bodies and by the contract validator for
any body it reads; it knows nothing of HTTP.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import PydanticSerializationError, to_json

SNIPPET = 24
MAX_DIGITS = 4300  # Python's own limit on converting digits to an int


class JsonTextError(ValueError):
    """Text that is not acceptable JSON; `str(error)` says why and where."""


def decode(raw: bytes, what: str = "Request body", *, max_depth: int | None = None) -> Any:
    """`raw` as Python data, or a `JsonTextError` whose message starts with `what`.

    With `max_depth`, arrays and objects nested deeper than that are refused too.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonTextError(f"{what} is not valid UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):  # as `json.loads` says it (the decoder itself does not look)
        raise JsonTextError(
            f"{what} is not valid JSON: Unexpected UTF-8 BOM (decode using utf-8-sig) "
            "at line 1 column 1"
        )
    try:
        data = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise JsonTextError(f"{what} is not valid JSON: {exc.msg} at {where}{_near(exc)}") from None
    except RecursionError:
        limit = f"deeper than {max_depth} levels" if max_depth else "too deeply"
        raise JsonTextError(f"{what} is nested {limit}") from None
    except _Refused as exc:
        raise JsonTextError(f"{what} {exc}") from None
    # Nesting deeper than `max_depth` needs that many brackets, and is measured on the bytes
    # (a walk of every value would cost a wide body as much as a deep one); a lone surrogate
    # can only come as a backslash-u escape (the text is valid UTF-8).
    if (
        max_depth is not None
        and raw.count(b"[") + raw.count(b"{") >= max_depth
        and nesting(raw, max_depth) > max_depth
    ):
        where = _deep_place(data, max_depth)
        raise JsonTextError(f"{what} is nested deeper than {max_depth} levels (at {where})")
    if b"\\u" in raw:
        _check_surrogates(data, what)
    return data


def nesting(raw: bytes, limit: int | None = None) -> int:
    """How deep the arrays and objects of valid JSON text `raw` nest (0: none), counted on its
    bytes, each step in C: its escapes, then its strings taken out, its brackets made one kind,
    then peeled a level at a time (an innermost array or object is an adjacent `[]`). Past
    `limit` levels the count stops at `limit + 1`."""
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")  # every `"` left delimits
    outside = b"".join(unescaped.split(b'"')[::2])
    brackets = outside.translate(_ONE_KIND, _NOT_BRACKETS)
    depth = 0
    while brackets and (limit is None or depth <= limit):
        brackets = brackets.replace(b"[]", b"")
        depth += 1
    return depth


_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


def _deep_place(data: Any, max_depth: int) -> str:
    """A JSON pointer to the first value nested `max_depth` deep (shortened past 8 levels)."""
    path: list[str] = []
    item = data
    while len(path) < max_depth:
        children = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in children:
            if isinstance(child, dict | list) and _depth_at_least(child, max_depth - len(path) - 1):
                path.append(str(key).replace("~", "~0").replace("/", "~1"))
                item = child
                break
        else:
            break
    shown = "/".join(path[:8]) + ("/…" if len(path) > 8 else "")
    return "/" + shown


def _depth_at_least(item: Any, levels: int) -> bool:
    pending = [(item, 0)]
    while pending:
        value, depth = pending.pop()
        if depth >= levels:
            return True
        children = value.values() if isinstance(value, dict) else value
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class _Refused(Exception):
    pass


def _near(exc: json.JSONDecodeError) -> str:
    if not exc.doc:
        return ""
    start = max(0, exc.pos - SNIPPET // 2)
    snippet = exc.doc[start : start + SNIPPET]
    return f" (near {snippet!r})" if snippet.strip() else ""


def _integer(text: str) -> int:
    digits = len(text) - text.startswith("-")  # the sign is no digit (nor to `int`)
    if digits > MAX_DIGITS:
        raise _Refused(f"holds a number of {digits} digits (at most {MAX_DIGITS})")
    return int(text)


def _number(text: str) -> float:
    """A JSON number with a fraction or exponent, as a double; one past a double's range is
    refused (Python would make it infinity, which no JSON text can give back)."""
    value = float(text)
    if value in _INFINITIES:
        raise _Refused(f"is not valid JSON: number {text} is out of range")
    return value


_INFINITIES = (float("inf"), float("-inf"))


def _no_constant(name: str) -> Any:
    raise _Refused(f"is not valid JSON: {name} is not a JSON number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f"has the key {key!r} twice")
        result[key] = value
    return result


def _check_surrogates(data: Any, what: str) -> None:
    """Refuse lone surrogates (`"\\ud800"`): no text can hold them."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and not is_text(item):
            raise JsonTextError(f"{what} holds a lone UTF-16 surrogate")


def is_text(value: str) -> bool:
    """Whether `value` can be sent as text: a Python string may hold a lone UTF-16 surrogate
    (`"\\ud800"`), which no UTF-8 text, so no JSON on the wire, can."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: Made once (`json.loads` with hooks makes a decoder on every call).
_DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicates,
    parse_constant=_no_constant,
    parse_int=_integer,
    parse_float=_number,
)


def encode(data: Any) -> bytes:
    """JSON value `data` (dicts with text keys, lists, texts, numbers, booleans, None) as
    compact UTF-8 JSON text, Unicode as is, keys in their order; a `ValueError` for a number
    JSON has no text for (NaN, infinity).

    Written by pydantic-core, about four times faster than `json`: the same bytes as
    Starlette's `JSONResponse`, but for a float's shortest text, which is the same number
    (`0.00005` and `1e-7`, where `json` writes `5e-05` and `1e-07`). What it cannot write
    (nesting past its 255 levels, a lone surrogate) and what it writes as JSON has no number
    (`NaN`, `Infinity`) is left to `json`, which writes it or raises as it always did. Other
    Python objects (a date, a set) are not refused here: what the mock sends is made JSON
    before (a script's values when it is built, a body when it is read).
    """
    try:
        text = to_json(data, inf_nan_mode="constants")
    except PydanticSerializationError:
        return _STRICT(data).encode()
    if b"NaN" in text or b"Infinity" in text:  # a number, or only a text that names one
        return _STRICT(data).encode()
    return text


_STRICT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
