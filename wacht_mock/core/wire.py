"""Values on the wire, read as the contract types them: headers, media types, parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

#: Where the mock's control API lives; requests under it are not the client's traffic.
CONTROL_PREFIX = "/_mock"


@dataclass(frozen=True)
class Request:
    """What a client sent, as the rules need it (the parsed query and JSON body)."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    path_params: dict[str, str] = field(default_factory=dict)
    json: Any = None


def media_type(content_type: str | None) -> str:
    """`application/json` for `Application/JSON; charset=utf-8`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header's value, whatever the case of its name."""
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


_INTEGER = re.compile(r"-?[0-9]{1,30}")


def typed_value(raw: str, schema: dict[str, Any]) -> tuple[Any, str]:
    """A parameter's text as its schema's type, or the reason it is not."""
    kind = schema.get("type")
    if kind == "integer":
        return (int(raw), "") if _INTEGER.fullmatch(raw) else (None, "an integer")
    if kind == "number":
        try:
            return float(raw), ""
        except ValueError:
            return None, "a number"
    if kind == "boolean":
        return (raw == "true", "") if raw in ("true", "false") else (None, "true or false")
    return raw, ""


def escape(part: str) -> str:
    """A key as one JSON pointer segment."""
    return part.replace("~", "~0").replace("/", "~1")


def unescape(part: str) -> str:
    """One JSON pointer segment as the key it names."""
    return part.replace("~1", "/").replace("~0", "~")


def routing_path(raw_path: bytes) -> str:
    """The path to route on: each segment decoded, an encoded slash (`%2F`) kept as it came.

    `/ai/execution-contexts/1%2Fmessages` names the context `1%2Fmessages` (an unknown id),
    never the messages of context `1`.
    """
    pieces = _ENCODED_SLASH.split(raw_path.decode("latin-1"))
    return "".join(piece if index % 2 else unquote(piece) for index, piece in enumerate(pieces))


_ENCODED_SLASH = re.compile("(%2[Ff])")
