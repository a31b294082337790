"""Two CI jobs sharing one server: each API key has its own script run state, and its own reset.

Scripts are shared by the server (or declared under a deployment), but where a sequence stands,
the call log and a reset belong to one deployment.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from wacht_mock.service.auth import deployment_id_for
from wacht_mock.service.config import MockConfig

from .support import COLLECTION, Served, message_body, served

TOKEN = "tenants-token"
JOB_A, JOB_B = "wk_test_jobA", "wk_test_jobB"


@pytest.fixture
def shared() -> Iterator[Served]:
    with served(MockConfig(seed=5, control_token=TOKEN)) as fresh:
        fresh.mock.engine.agent("support-bot").replies(["step one", "step two", "step three"])
        yield fresh


def _control(live: Served) -> httpx.Client:
    return httpx.Client(base_url=live.url, headers={"X-Wacht-Mock-Token": TOKEN}, timeout=30)


def _execute(client: httpx.Client, context_id: str, message: str = "Hi") -> Any:
    response = client.post(f"{COLLECTION}/{context_id}/execute", json=message_body(message))
    assert response.status_code == 200, response.text
    return response.json()["response"]


def _new_context(client: httpx.Client) -> str:
    context_id: str = client.post(COLLECTION, json={"title": "CI job"}).json()["id"]
    return context_id


def test_key_b_starts_its_own_sequence_while_key_a_is_midway(shared: Served) -> None:
    with shared.client(JOB_A) as a, shared.client(JOB_B) as b:
        in_a, in_b = _new_context(a), _new_context(b)
        assert _execute(a, in_a)["content"] == "step one"
        assert _execute(b, in_b)["content"] == "step one"  # not job A's second step
        assert _execute(a, in_a)["content"] == "step two"
        assert _execute(b, in_b)["content"] == "step two"


def test_each_key_sees_the_same_generated_replies(shared: Served) -> None:
    with shared.client(JOB_A) as a, shared.client(JOB_B) as b:
        in_a, in_b = _new_context(a), _new_context(b)
        first_a = _execute(a, in_a, "Hello")
        _execute(a, in_a, "Hello")
        first_b = _execute(b, in_b, "Hello")
    assert first_b["content"] == first_a["content"]
    assert first_b["usage"] == first_a["usage"]


def test_the_call_log_can_be_read_per_deployment(shared: Served) -> None:
    with shared.client(JOB_A) as a, shared.client(JOB_B) as b, _control(shared) as control:
        _execute(a, _new_context(a), "from A")
        _execute(b, _new_context(b), "from B")
        url = "/_mock/agents/support-bot/calls"
        only_b = control.get(url, params={"deployment_id": deployment_id_for(JOB_B)}).json()
        everyone = control.get(url).json()
    assert [call["message"] for call in only_b["calls"]] == ["from B"]
    assert only_b["call_count"] == 1
    assert [call["message"] for call in everyone["calls"]] == ["from A", "from B"]
    assert everyone["call_count"] == 2


@pytest.mark.parametrize(
    ("where", "body"),
    [
        ("body", {"api_key": JOB_A}),
        ("body", {"deployment_id": deployment_id_for(JOB_A)}),
        ("query", {"deployment_id": deployment_id_for(JOB_A)}),
    ],
)
def test_resetting_one_deployment_leaves_the_other_alone(
    shared: Served, where: str, body: dict[str, str]
) -> None:
    with shared.client(JOB_A) as a, shared.client(JOB_B) as b, _control(shared) as control:
        in_a, in_b = _new_context(a), _new_context(b)
        _execute(a, in_a)
        _execute(b, in_b)
        if where == "body":
            reset = control.post("/_mock/reset", json=body)
        else:
            reset = control.post("/_mock/reset", params=body)
        assert reset.status_code == 204, reset.text
        assert a.get(f"{COLLECTION}/{in_a}").status_code == 404
        assert a.get(COLLECTION).json()["data"] == []
        assert b.get(f"{COLLECTION}/{in_b}").status_code == 200
        assert _execute(b, in_b)["content"] == "step two"  # B's sequence goes on
        again = _new_context(a)
        assert _execute(a, again)["content"] == "step one"  # A's starts over: the script stays
        calls = control.get("/_mock/agents/support-bot/calls").json()
    assert calls["call_count"] == 3
    assert [c["context_id"] for c in calls["calls"]] == [in_b, in_b, again]
    journal = shared.mock.journal.entries()
    paths = [(entry.method, entry.path) for entry in journal]
    assert ("POST", f"{COLLECTION}/{in_a}/execute") not in paths  # A's, before its reset
    assert ("POST", f"{COLLECTION}/{in_b}/execute") in paths


@pytest.mark.parametrize(
    "body",
    [
        {"api_key": "not-a-key"},
        {"api_key": JOB_A, "deployment_id": deployment_id_for(JOB_A)},
        {"deployment_id": "12x"},
        {"tenant": JOB_A},
        ["wk_test_jobA"],
    ],
)
def test_a_bad_reset_request_is_refused_and_resets_nothing(shared: Served, body: Any) -> None:
    with shared.client(JOB_A) as a, _control(shared) as control:
        context_id = _new_context(a)
        refused = control.post("/_mock/reset", json=body)
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["code"] == 400
        assert a.get(f"{COLLECTION}/{context_id}").status_code == 200


def test_a_fixture_may_script_agents_for_one_deployment(shared: Served) -> None:
    document = {
        "deployments": {
            JOB_A: {"agents": {"support-bot": {"reply": "Only for job A"}}},
        }
    }
    with shared.client(JOB_A) as a, shared.client(JOB_B) as b, _control(shared) as control:
        assert control.post("/_mock/fixtures", json=document).status_code == 200
        assert _execute(a, _new_context(a))["content"] == "Only for job A"
        assert _execute(b, _new_context(b))["content"] == "step one"
        assert control.post("/_mock/reset", json={"api_key": JOB_A}).status_code == 204
        assert _execute(a, _new_context(a))["content"] == "step one"
