"""Text for people: a value in short, a long text cut, the name that was probably meant."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any

#: How long a value shown in a message may be.
PREVIEW = 60


def preview(value: Any, limit: int = PREVIEW) -> str:
    """A value as short JSON text: `"abc"`, `7`, `null`, `{"a": 1, ...`."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return shorten(text, limit)


def shorten(text: str, limit: int = 80) -> str:
    """`text`, or its first `limit - 3` characters and `...`."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice `name` was most likely meant to be, if one is close enough."""
    found = difflib.get_close_matches(str(name), [c for c in choices if c != name], n=1)
    return found[0] if found else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`did you mean 'title'?`, or nothing when no choice is close."""
    close = closest(name, choices)
    return f"did you mean {close!r}?" if close else ""
