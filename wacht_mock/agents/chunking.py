"""How a reply's text is cut into stream chunks; the chunks concatenate back to the text."""

from __future__ import annotations

import re
from typing import Literal

from .errors import InvalidScript

Chunking = Literal["word", "char"] | int | tuple[str, ...]
"""`word`, `char`, a chunk size, or the chunks themselves (as a recorded stream had them)."""

_WORD = re.compile(r"\s*\S+\s*")


def split_chunks(text: str, chunking: Chunking) -> tuple[str, ...]:
    """`word`: each word with the whitespace around it; `char`: one character each;
    an int: pieces of that many characters; chunks given: those, if they make up the text
    (else words). Empty text gives no chunks."""
    if isinstance(chunking, tuple):
        return chunking if "".join(chunking) == text else split_chunks(text, "word")
    if isinstance(chunking, int):
        return tuple(text[start : start + chunking] for start in range(0, len(text), chunking))
    if chunking == "char":
        return tuple(text)
    return tuple(_WORD.findall(text)) or ((text,) if text else ())


def check_chunking(chunking: object) -> None:
    """Raise `InvalidScript` unless `chunking` is "word", "char", a positive int or chunks."""
    if isinstance(chunking, tuple) and all(isinstance(c, str) and c for c in chunking):
        return
    if chunking in ("word", "char"):
        return
    if isinstance(chunking, bool) or not isinstance(chunking, int) or chunking < 1:
        expected = 'must be "word", "char", a positive int or a list of texts'
        raise InvalidScript.at("", f"{expected}, not {chunking!r}")
