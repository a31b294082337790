"""Reading a JSON request body safely: its size, its type, its syntax."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from .errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

MAX_BODY_BYTES = 1024 * 1024


async def read_json(request: Request, *, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """The parsed body, or a 415/413/400 that says what is wrong with it."""
    _check_content_type(request.headers.get("content-type"))
    raw = await _read_capped(request, max_bytes)
    return parse_json(raw)


def _check_content_type(content_type: str | None) -> None:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        got = repr(content_type) if content_type else "no Content-Type"
        raise UnsupportedMediaType(f"Request body must be application/json, got {got}")


async def _read_capped(request: Request, max_bytes: int) -> bytes:
    too_large = PayloadTooLarge(f"Request body is larger than {max_bytes} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes) -> Any:
    """JSON text as Python data; duplicate keys and absurd nesting are errors too."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"Request body is not valid UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise BadRequest(f"Request body is not valid JSON: {exc.msg} at {where}") from None
    except RecursionError:
        raise BadRequest("Request body is nested too deeply") from None
    _check_strings(data)
    return data


def _no_constant(name: str) -> Any:
    raise BadRequest(f"Request body is not valid JSON: {name} is not a JSON number")


def _check_strings(data: Any) -> None:
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
                raise BadRequest("Request body holds a lone UTF-16 surrogate") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise BadRequest(f"Request body has the key {key!r} twice")
        result[key] = value
    return result
