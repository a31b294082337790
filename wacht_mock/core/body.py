"""Reading a JSON request body safely: its size, its type, its syntax."""

from __future__ import annotations

from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from wacht_mock.core.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from wacht_mock.core.jsontext import JsonTextError, decode
from wacht_mock.core.wire import media_type as parsed_media_type

MAX_BODY_BYTES = 1024 * 1024
#: How deep an API body may nest: serde's limit, which the platform server's JSON reader had.
MAX_BODY_DEPTH = 128


async def read_json(
    request: Request, *, max_bytes: int = MAX_BODY_BYTES, max_depth: int | None = None
) -> Any:
    """The parsed body, or a 415/413/400 that says what is wrong with it."""
    return parse_json(await read_json_bytes(request, max_bytes=max_bytes), max_depth=max_depth)


async def read_json_bytes(request: Request, *, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The body of a JSON request, unparsed (to parse elsewhere), or a 415/413."""
    _check_content_type(request.headers.get("content-type"))
    return await _read_capped(request, max_bytes)


def _check_content_type(content_type: str | None) -> None:
    media_type = parsed_media_type(content_type)
    if media_type != "application/json" and not media_type.endswith("+json"):
        got = repr(content_type) if content_type else "no Content-Type"
        raise UnsupportedMediaType(f"Request body must be application/json, got {got}")


async def read_body(request: Request, *, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The body, of any type, or a 413 once it is over `max_bytes` (never read whole)."""
    return await _read_capped(request, max_bytes)


async def read_optional_json(
    request: Request, *, absent: Any, max_bytes: int = MAX_BODY_BYTES
) -> Any:
    """The parsed body (`null` too), or `absent` when none was sent (whatever its type); a
    415/413/400 that says what is wrong with it else."""
    raw = await _read_capped(request, max_bytes)
    if not raw:
        return absent
    _check_content_type(request.headers.get("content-type"))
    return parse_json(raw)


async def _read_capped(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    kept: bytes | None = getattr(request, "_body", None)  # read already, by Starlette's body()
    if kept is None:
        # Kept where Starlette's own `body()` keeps it, so that its `body()` and `stream()`
        # give these bytes again rather than wait for a body the client already sent.
        kept = request._body = await _received(request.receive, max_bytes)
    elif len(kept) > max_bytes:
        raise _too_large(max_bytes)
    return kept


async def _received(receive: Receive, max_bytes: int) -> bytes:
    """The body's chunks, read from `receive` as they come (what Starlette's `stream()` does,
    without an async generator's turns: a few microseconds of every request with a body)."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":  # `http.disconnect`: the client went away
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if chunk:  # a last message often has none
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes)
            chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)  # one piece: not copied


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Request body is larger than {max_bytes} bytes")


def parse_json(raw: bytes, *, max_depth: int | None = None) -> Any:
    """JSON text as Python data; duplicate keys and absurd nesting are errors too."""
    try:
        return decode(raw, max_depth=max_depth)
    except JsonTextError as exc:
        raise BadRequest(str(exc)) from None
