"""Parsing request bodies: every bad body is a 4xx that says why."""

from __future__ import annotations

import pytest

from wacht_mock.core.body import parse_json
from wacht_mock.core.errors import BadRequest


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"{", "not valid JSON"),
        (b'{"title": "a"', "not valid JSON"),
        (b"\xff\xfe", "not valid UTF-8"),
        (b'{"a": 1, "a": 2}', "the key 'a' twice"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"title": "\\ud800"}', "lone UTF-16 surrogate"),
        (b"\x00", "not valid JSON"),
        (b"\xef\xbb\xbf{}", "Unexpected UTF-8 BOM"),
    ],
)
def test_bad_bodies(raw: bytes, expected: str) -> None:
    with pytest.raises(BadRequest, match=expected):
        parse_json(raw)


def test_good_body_with_a_surrogate_pair() -> None:
    assert parse_json(b'{"title": "\\ud83d\\ude00"}') == {"title": "\N{GRINNING FACE}"}
