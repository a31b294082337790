from __future__ import annotations

import pytest

from wacht_mock.core.errors import Unauthorized
from wacht_mock.service.auth import KeyPolicy, deployment_id_for


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   "])
def test_missing_key(header: str | None) -> None:
    with pytest.raises(Unauthorized, match="API key required"):
        KeyPolicy().authenticate(header)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer sk_live_abc",
        "Bearer wk_live_",
        "Bearer wk_prod_abc",
        "Basic wk_live_a",
        "Bearer wk_live_a-b",
    ],
)
def test_malformed_key(header: str) -> None:
    with pytest.raises(Unauthorized, match="Invalid API key"):
        KeyPolicy().authenticate(header)


def test_each_key_is_its_own_stable_deployment() -> None:
    policy = KeyPolicy()
    live = policy.authenticate("Bearer wk_live_abc")
    test = policy.authenticate("bearer wk_test_abc")
    assert live.deployment_id != test.deployment_id
    assert live.deployment_id == deployment_id_for("wk_live_abc")
    assert live.deployment_id.isdigit()


def test_a_configured_key_set_refuses_other_keys() -> None:
    policy = KeyPolicy(["wk_test_one"])
    assert policy.authenticate("Bearer wk_test_one").api_key == "wk_test_one"
    with pytest.raises(Unauthorized, match="Invalid API key"):
        policy.authenticate("Bearer wk_test_two")


def test_a_configured_key_must_be_well_formed() -> None:
    with pytest.raises(ValueError, match="not a well-formed"):
        KeyPolicy(["secret"])


def test_a_key_let_in_is_remembered_and_a_huge_header_is_not() -> None:
    policy = KeyPolicy()
    short = "Bearer wk_test_" + "a" * 20
    huge = "Bearer wk_test_" + "b" * 5000
    assert policy.authenticate(short) is policy.authenticate(short)  # looked up, not re-made
    assert policy.authenticate(huge).api_key == huge.removeprefix("Bearer ")
    assert policy.authenticate(huge) is not policy.authenticate(huge)  # checked each time
    with pytest.raises(Unauthorized):
        policy.authenticate("Bearer not-a-key")
    with pytest.raises(Unauthorized):  # a refused value is not remembered either
        policy.authenticate("Bearer not-a-key")
