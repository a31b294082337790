"""Scrubbing what recordings write, and their stable YAML."""

from __future__ import annotations

import pytest
import yaml

from wacht_mock.core.cassette import MASK, Scrubber, dump_yaml


def test_a_key_seen_becomes_the_alias_and_key_shaped_values_are_masked() -> None:
    scrubber = Scrubber("wk_test_alias")
    scrubber.learn("wk_live_RealSecret123")
    scrubbed = scrubber.value(
        {
            "text": "use wk_live_RealSecret123 or wk_test_otherKey99",
            "nested": [
                "sk-abcdefghijklmnopqrstuvwx",
                "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4",
                "Authorization: Bearer abc.def-ghi_jkl",
                "ghp_abcdefghijklmnopqrstuvwxyz012345",
                "AKIAIOSFODNN7EXAMPLE",
            ],
            "wk_live_RealSecret123": 1,
            "plain": "Your order A1 has shipped",
        }
    )
    assert scrubbed == {
        "text": f"use wk_test_alias or {MASK}",
        "nested": [MASK, MASK, f"Authorization: {MASK}", MASK, MASK],
        "wk_test_alias": 1,
        "plain": "Your order A1 has shipped",
    }


def test_an_alias_must_be_a_test_key() -> None:
    with pytest.raises(ValueError, match="a key alias is a well-formed test key"):
        Scrubber("recorded")


def test_yaml_is_stable_and_reads_back_the_same() -> None:
    document = {"b": {"id": "0042", "when": "2026-01-01T00:00:00Z"}, "a": ["x\ny", 1.5, None]}
    text = dump_yaml(document, ["Recorded by a test."])
    assert text == dump_yaml(dict(document), ["Recorded by a test."])
    assert text.startswith("# Recorded by a test.\nb:\n")  # the order given, not sorted
    assert yaml.safe_load(text) == document  # ids and times stay strings
