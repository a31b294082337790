"""Reading README.md's examples, so that tests can run them and compare what they print."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
ANY = "…"


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    expected: str | None  # the ```json block right after it, if any


def blocks(language: str, marker: str = "") -> list[Block]:
    """README blocks in ``language`` that contain ``marker``, each with the output shown after."""
    fences = [(m.group(1), m.group(2)) for m in FENCE.finditer(README.read_text("utf-8"))]
    found = []
    for index, (lang, code) in enumerate(fences):
        if lang == language and marker in code:
            after = fences[index + 1] if index + 1 < len(fences) else None
            expected = after[1] if after and after[0] == "json" else None
            found.append(Block(lang, code, expected))
    return found


def json_values(text: str) -> list[Any]:
    """Every JSON value in ``text``, one after another."""
    decoder = json.JSONDecoder()
    values, position = [], 0
    text = text.strip()
    while position < len(text):
        value, position = decoder.raw_decode(text, position)
        values.append(value)
        while position < len(text) and text[position].isspace():
            position += 1
    return values


def matches(expected: Any, actual: Any) -> bool:
    """``"…"`` matches any value; inside a longer string, any text."""
    if expected == ANY:
        return True
    if isinstance(expected, str) and ANY in expected and isinstance(actual, str):
        pattern = ".*".join(re.escape(part) for part in expected.split(ANY))
        return re.fullmatch(pattern, actual, re.S) is not None
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            matches(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(matches, expected, actual))
    return bool(expected == actual and type(expected) is type(actual))
