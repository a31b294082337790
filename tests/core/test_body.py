"""Parsing request bodies: every bad body is a 4xx that says why."""

from __future__ import annotations

import pytest
from starlette.requests import ClientDisconnect, Request

from wacht_mock.core.body import parse_json, read_body, read_json
from wacht_mock.core.errors import BadRequest


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"{", "not valid JSON"),
        (b'{"title": "a"', "not valid JSON"),
        (b"\xff\xfe", "not valid UTF-8"),
        (b'{"a": 1, "a": 2}', "the key 'a' twice"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": 1e400}', "number 1e400 is out of range"),
        (b'{"a": [-2.5E+999]}', "number -2.5E\\+999 is out of range"),
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


def test_numbers_at_the_edge_of_the_range_are_kept() -> None:
    assert parse_json(b"[1.7976931348623157e308, 5e-324, 1e-400]") == [
        1.7976931348623157e308,
        5e-324,
        0.0,
    ]


def test_an_integer_of_4300_digits_is_taken_with_its_sign_and_one_more_is_not() -> None:
    assert parse_json(b"-1" + b"0" * 4299) == -(10**4299)  # the sign is no digit
    with pytest.raises(BadRequest, match="a number of 4301 digits"):
        parse_json(b"-1" + b"0" * 4300)


@pytest.mark.anyio
async def test_a_body_read_once_is_given_again_by_starlette_without_a_second_receive() -> None:
    messages = [
        {"type": "http.request", "body": b'{"title": ', "more_body": True},
        {"type": "http.request", "body": b'"a"}', "more_body": False},
    ]

    async def receive() -> dict[str, object]:
        if not messages:
            raise AssertionError("the body was asked for again")
        return messages.pop(0)

    scope = {"type": "http", "method": "POST", "headers": [(b"content-type", b"application/json")]}
    request = Request(scope, receive)
    assert await read_json(request) == {"title": "a"}
    assert await request.body() == b'{"title": "a"}'
    assert [chunk async for chunk in request.stream()] == [b'{"title": "a"}', b""]


@pytest.mark.anyio
async def test_a_client_gone_before_its_body_came_is_a_disconnect() -> None:
    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    with pytest.raises(ClientDisconnect):
        await read_body(request)
