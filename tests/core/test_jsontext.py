"""Writing JSON text: one encoder for every body, error and event the mock sends."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wacht_mock.core.jsontext import JsonTextError, decode, encode, nesting

#: What Starlette's `JSONResponse` writes.
STARLETTE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode

TEXT = st.text(st.characters(exclude_categories=("Cs",)))  # lone surrogates are no text
NO_FLOATS = st.none() | st.booleans() | st.integers(-(10**40), 10**40) | TEXT
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def values(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves, lambda inner: st.lists(inner) | st.dictionaries(TEXT, inner), max_leaves=25
    )


@settings(max_examples=300, deadline=None)
@given(values(NO_FLOATS))
def test_a_value_without_floats_is_written_byte_for_byte_as_starlette_writes_it(
    value: Any,
) -> None:
    assert encode(value) == STARLETTE(value).encode()


@settings(max_examples=300, deadline=None)
@given(values(NO_FLOATS | FLOATS))
def test_every_value_reads_back_as_itself(value: Any) -> None:
    assert json.loads(encode(value)) == value


@pytest.mark.parametrize(
    ("number", "written"),
    [(5e-05, b"[0.00005]"), (1.5e-07, b"[1.5e-7]"), (1e16, b"[1e+16]"), (-0.0, b"[-0.0]")],
)
def test_a_float_is_written_as_its_shortest_text(number: float, written: bytes) -> None:
    assert encode([number]) == written
    assert json.loads(written) == [number]
    assert math.copysign(1, json.loads(written)[0]) == math.copysign(1, number)


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_a_number_json_cannot_write_is_an_error_not_invalid_json(number: float) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        encode({"value": [number]})


def test_a_text_that_names_them_is_written_not_refused() -> None:
    value = {"note": "NaN and Infinity are no JSON numbers"}
    assert encode(value) == STARLETTE(value).encode()


def test_the_longest_integer_a_body_may_hold_is_written_whole() -> None:
    number = -(10**4299)  # 4,300 digits and a sign: the longest the reader takes
    assert encode({"n": number}) == b'{"n":' + str(number).encode() + b"}"


def test_nesting_deeper_than_the_fast_encoder_goes_is_written_as_json_does() -> None:
    value: Any = "bottom"
    for _ in range(300):
        value = {"a": [value]}
    assert encode(value) == STARLETTE(value).encode()


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


BRACKETY = st.text(st.sampled_from('[]{}"\\ab\u00e9'))  # strings full of what is no nesting


@settings(max_examples=300, deadline=None)
@given(values(NO_FLOATS | BRACKETY))
def test_nesting_is_counted_on_the_bytes_as_deep_as_the_value_goes(value: Any) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False, indent=1)):
        assert nesting(text.encode()) == depth_of(value)


def test_a_wide_body_or_brackets_in_its_text_are_no_nesting() -> None:
    wide = json.dumps({"rows": [{"n": n} for n in range(500)], "t": "[{" * 300}).encode()
    assert decode(wide, max_depth=3) == json.loads(wide)
    with pytest.raises(JsonTextError, match=r"nested deeper than 2 levels \(at /rows/0\)"):
        decode(wide, max_depth=2)
