"""``wacht-mock check``: clean on the mock, and a named failure for each way a server can drift."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis

import wacht_mock
from tests.broken_servers import BROKEN, KEY, broken_app
from wacht_mock.check.report import CheckReport
from wacht_mock.check.runner import CheckOptions, contract_schema, run_check
from wacht_mock.cli.main import main
from wacht_mock.core.server import ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock

QUICK = {"max_examples": 3, "seed": 1}
OPERATIONS = 7


def check(url: str, **options: object) -> CheckReport:
    return run_check(CheckOptions(base_url=url, api_key=KEY, **{**QUICK, **options}))  # type: ignore[arg-type]


def test_the_mock_passes_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "reports" / "check.xml"
    argv = ["check", "--against-mock", "--max-examples", "5", "--seed", "7", "--junit", str(junit)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for phase in ("examples", "coverage", "fuzzing", "stateful"):
        assert f"{phase}: success" in out
    assert f"{OPERATIONS} operations, " in out
    assert ", seed 7" in out
    assert out.rstrip().endswith("OK: the server follows the contract (no failures)")
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == (str(OPERATIONS), "0")


# What each broken server must be caught doing: the kind of failure, and words from its message.
CAUGHT = {
    "wrong field type": ("ST108 Response violates schema", "deployment_id: 1318"),
    "missing required field": ("ST108 Response violates schema", '"execution_state" is a required'),
    "undocumented status code": ("ST103 Undocumented status code", "Received: 201"),
    "server error": ("ST101 Server error", ""),
    "error outside the envelope": ("ST108 Response violates schema", "'detail' was unexpected"),
    "filter ignored": ("ST901 Contract rule broken: filter", "the list ignored its status filter"),
}


@pytest.fixture(params=sorted(BROKEN))
def broken(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    with ServerThread(broken_app(request.param)) as server:
        yield request.param, server.url


def test_each_broken_server_fails_with_its_violation_named(broken: tuple[str, str]) -> None:
    kind, url = broken
    report = check(url)
    assert not report.ok
    expected_kind, words = CAUGHT[kind]
    assert set(report.kinds) == {expected_kind}, report.summary()
    assert any(words in finding.message for finding in report.findings), report.summary()
    summary = report.summary()
    assert expected_kind in summary
    assert "curl -X " in summary
    assert url in summary
    assert summary.rstrip().endswith("of 1 kind")


def test_a_failing_server_exits_1_and_writes_the_failures_to_junit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "check.xml"
    with ServerThread(broken_app("undocumented status code")) as server:
        argv = ["check", "--base-url", server.url, "--api-key", KEY, "--max-examples", "3"]
        assert main([*argv, "--seed", "1", "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert "ST103 Undocumented status code: 1 distinct" in out
    assert "POST /ai/execution-contexts -> 201" in out
    assert out.rstrip().endswith("FAILED: 1 distinct failure of 1 kind")
    failures = ET.parse(junit).getroot().findall(".//failure")
    assert [f.get("message") for f in failures] == ["ST103 Undocumented status code"]
    assert "curl -X POST" in (failures[0].text or "")


def test_read_only_sends_no_unsafe_method() -> None:
    mock = WachtMock()
    with ServerThread(create_app(mock)) as server:
        report = check(server.url, read_only=True)
    assert report.ok, report.summary()
    assert report.operations == [
        "GET /ai/execution-contexts",
        "GET /ai/execution-contexts/{context_id}",
        "GET /ai/execution-contexts/{context_id}/messages",
    ]
    methods = {entry.method for entry in mock.journal.entries()}
    assert "GET" in methods
    assert methods <= {"GET", "HEAD", "OPTIONS", "TRACE", "QUERY"}


def test_an_unreachable_server_or_a_refused_key_stops_the_check_early() -> None:
    with ServerThread(create_app(WachtMock())) as gone:
        url = gone.url
    unreachable = check(url)
    (error,) = unreachable.errors
    assert error.startswith(f"cannot reach {url}: ")
    assert unreachable.cases == 0
    with ServerThread(create_app(MockConfig(api_keys=["wk_test_other"]))) as server:
        refused = check(server.url)
    (error,) = refused.errors
    assert error.startswith("the server refused the API key (401: ")
    assert refused.summary().rstrip().endswith("FAILED: 1 error")


def test_a_run_that_could_not_start_still_writes_its_junit_report(tmp_path: Path) -> None:
    with ServerThread(create_app(WachtMock())) as gone:
        url = gone.url
    junit = tmp_path / "check.xml"
    run_check(CheckOptions(base_url=url, api_key=KEY, junit=junit))
    (error,) = ET.parse(junit).getroot().findall(".//error")
    assert (error.get("message") or "").startswith(f"cannot reach {url}")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check"], "error: give --base-url URL (with --api-key KEY), or --against-mock\n"),
        (["check", "--api-key", KEY], "give --base-url URL (with --api-key KEY), or --against"),
        (["check", "--base-url", "http://127.0.0.1:9"], "give --api-key KEY"),
        (["check", "--against-mock", "--base-url", "http://x"], "leave out --base-url"),
        (["check", "--against-mock", "--max-examples", "0"], "--max-examples must be at least 1"),
        (["check", "--against-mock", "--contract", "missing.yaml"], "no contract at missing.yaml"),
        (["check", "--base-url", "ftp://x", "--api-key", KEY], "must be an http(s) URL"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WACHT_API_KEY", raising=False)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_an_unknown_phase_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["check", "--against-mock", "--phases", "coverage,smoke"])
    assert stopped.value.code == 2
    assert "phases are examples, coverage, fuzzing, stateful" in capsys.readouterr().err


def test_the_key_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WACHT_API_KEY", KEY)
    from wacht_mock.cli.main import build_parser

    args = build_parser().parse_args(["check", "--base-url", "http://127.0.0.1:9"])
    assert args.api_key == KEY


def test_the_python_entry_is_ready_for_parametrize() -> None:
    schema = contract_schema("http://127.0.0.1:9", KEY, read_only=True, max_examples=5)
    labels = [result.ok().label for result in schema.get_all_operations()]
    assert labels == [label for label in labels if label.startswith("GET ")]
    assert len(labels) == 3
    assert "wacht_contract_rules" in schemathesis.checks.CHECKS.get_all_names()
    assert schema.config.base_url == "http://127.0.0.1:9"


def _without_schemathesis(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the check extra were not installed: importing schemathesis fails."""
    monkeypatch.setitem(sys.modules, "schemathesis", None)


def test_without_the_check_extra_the_command_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_schemathesis(monkeypatch)
    assert main(["check", "--against-mock", "--max-examples", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "wacht-mock: error: wacht-mock check needs schemathesis, which is not installed: "
        "pip install 'wacht-mock[check]'\n"
    )


def test_without_the_check_extra_contract_schema_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _without_schemathesis(monkeypatch)
    with pytest.raises(ImportError, match=r"pip install 'wacht-mock\[check\]'"):
        wacht_mock.contract_schema(api_key=KEY)
