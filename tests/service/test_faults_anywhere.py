"""Faults on any operation, from a fixture file: scheduled, seeded, journaled."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.helpers import auth, compact_json
from wacht_mock import MockConfig, ServerThread, WachtMock, create_app
from wacht_mock.service.faults import FaultRule, operation_of, parse_rules

FAULTS = """
faults:
  - {operation: list, status: 503, times: 2}
  - {operation: execute, status: 429, retry_after: 1, probability: 0.2}
  - {method: GET, path: "/ai/execution-contexts/*", latency: 0.2, deployment: wk_test_slow}
  - {operation: create, drop: true, times: 1}
"""


def mock_with(tmp_path: Path, text: str = FAULTS, seed: int = 1) -> WachtMock:
    path = tmp_path / "faults.yaml"
    path.write_text(text)
    return WachtMock(MockConfig(seed=seed, fixtures=[path]))


def test_the_next_two_lists_fail_then_the_third_answers(tmp_path: Path) -> None:
    mock = mock_with(tmp_path)
    with ServerThread(create_app(mock)) as server, httpx.Client(base_url=server.url) as client:
        codes = [client.get("/ai/execution-contexts", headers=auth()).status_code for _ in range(3)]
        failed = client.get("/ai/execution-contexts", headers=auth())
    assert codes == [503, 503, 200]
    assert failed.status_code == 200
    notes = [entry.fault for entry in mock.journal]
    assert notes[:3] == [
        "fault 1 (1 of 2): list: status 503",
        "fault 1 (2 of 2): list: status 503",
        None,
    ]


def test_a_429_fault_sends_retry_after_in_the_envelope(tmp_path: Path) -> None:
    mock = mock_with(tmp_path, "faults:\n  - {operation: get, status: 429, retry_after: 3}\n")
    with ServerThread(create_app(mock)) as server:
        response = httpx.get(f"{server.url}/ai/execution-contexts/1", headers=auth())
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json() == {"errors": [{"message": "Too Many Requests", "code": 429}]}


def test_a_fault_is_written_as_the_mock_writes_its_other_errors(tmp_path: Path) -> None:
    mock = mock_with(tmp_path, "faults:\n  - {operation: list, status: 503, message: Überlastet}\n")
    with ServerThread(create_app(mock)) as server, httpx.Client(base_url=server.url) as client:
        fault = client.get("/ai/execution-contexts", headers=auth())
        missing = client.get("/ai/execution-contexts/nope", headers=auth())
    assert fault.json() == {"errors": [{"message": "Überlastet", "code": 503}]}
    for answer in (fault, missing):
        assert answer.headers["content-type"] == "application/json"
        assert answer.content == compact_json(answer.json())


def execute_codes(mock: WachtMock, calls: int = 30) -> list[int]:
    with (
        ServerThread(create_app(mock)) as server,
        httpx.Client(base_url=server.url, headers=auth()) as client,
    ):
        context = client.post("/ai/execution-contexts", json={"title": "x"})
        url = f"/ai/execution-contexts/{context.json()['id']}/execute"
        body = {"agent_name": "bot", "execution_type": {"new_message": {"message": "hi"}}}
        return [client.post(url, json=body).status_code for _ in range(calls)]


def test_a_probability_fault_repeats_for_the_same_seed(tmp_path: Path) -> None:
    rule = "faults:\n  - {operation: execute, status: 429, probability: 0.3}\n"
    first = execute_codes(mock_with(tmp_path, rule, seed=4))
    again = execute_codes(mock_with(tmp_path, rule, seed=4))
    other = execute_codes(mock_with(tmp_path, rule, seed=5))
    assert first == again
    assert {429, 200} == set(first)
    assert first != other


def test_a_dropped_connection_and_a_latency_for_one_deployment(tmp_path: Path) -> None:
    mock = mock_with(tmp_path)
    with ServerThread(create_app(mock)) as server, httpx.Client(base_url=server.url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/ai/execution-contexts", json={"title": "x"}, headers=auth())
        created = client.post("/ai/execution-contexts", json={"title": "x"}, headers=auth())
        assert created.status_code == 200
        item = f"/ai/execution-contexts/{created.json()['id']}"
        fast = client.get(item, headers=auth())
        slow = client.get(item, headers=auth("wk_test_slow"))
    assert fast.elapsed.total_seconds() < 0.15
    assert slow.status_code == 404  # another deployment's context, answered after the delay
    assert slow.elapsed.total_seconds() >= 0.2
    (dropped,) = [entry for entry in mock.journal if entry.fault and "drop" in entry.fault]
    assert (dropped.method, dropped.status) == ("POST", 0)


def test_a_reset_brings_the_fixture_faults_back(tmp_path: Path) -> None:
    mock = mock_with(tmp_path, "faults:\n  - {operation: list, status: 500, times: 1}\n")
    assert mock.faults.pick("GET", "/ai/execution-contexts") is not None
    assert mock.faults.pick("GET", "/ai/execution-contexts") is None
    mock.reset()
    assert mock.faults.pick("GET", "/ai/execution-contexts") is not None


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"status": 503}, "a fault needs an operation, or a method and/or a path"),
        ({"operation": "list", "path": "/x", "status": 503}, "not both"),
        ({"operation": "list", "status": 503, "drop": True}, "a status or drops"),
        ({"operation": "lists", "status": 503}, "operation: Input should be 'list'"),
        ({"operation": "list", "status": 503, "probability": 2}, "probability: Input should"),
        ({"operation": "list", "status": 503, "deployment": "prod"}, "must be an API key"),
        ({"operation": "list", "retry_after": 1, "latency": 1}, "retry_after goes with"),
    ],
)
def test_bad_rules_say_what_is_wrong(rule: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=r"^faults\.yaml: ") as raised:
        parse_rules([rule], "faults.yaml")
    assert problem in str(raised.value)


def test_a_bad_fault_in_a_fixture_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"faults.yaml: faults.0.status"):
        mock_with(tmp_path, "faults:\n  - {operation: list, status: 200}\n")


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("GET", "/ai/execution-contexts", "list"),
        ("POST", "/ai/execution-contexts", "create"),
        ("GET", "/ai/execution-contexts/1", "get"),
        ("PATCH", "/ai/execution-contexts/1", "update"),
        ("DELETE", "/ai/execution-contexts/1", "delete"),
        ("POST", "/ai/execution-contexts/1/execute", "execute"),
        ("GET", "/ai/execution-contexts/1/messages", "messages"),
        ("GET", "/ai/execution-contexts/1/other", None),
        ("PUT", "/ai/execution-contexts", None),
    ],
)
def test_operations_are_named_as_the_contract_has_them(
    method: str, path: str, operation: str | None
) -> None:
    assert operation_of(method, path) == operation
    if operation:
        rule = FaultRule.model_validate({"operation": operation, "status": 500})
        assert rule.matches(method, path, lambda: None)
