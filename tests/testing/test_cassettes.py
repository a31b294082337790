"""Cassettes in a user's suite: recorded once against an upstream, replayed with it stopped."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.proxy.test_recording import SECRET, UPSTREAM_SCRIPTS
from wacht_mock.core.server import ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock

SUITE = """
import pytest

def ask(handle, message):
    with handle.client() as client:
        context = client.post("/ai/execution-contexts", json={"title": "Orders"}).json()
        body = {"agent_name": "support-bot",
                "execution_type": {"new_message": {"message": message}}}
        url = f"/ai/execution-contexts/{context['id']}/execute"
        return context, client.post(url, json=body)

@pytest.mark.wacht_mock(cassette="cassettes/refund")
def test_refund(wacht_mock):
    context, answer = ask(wacht_mock, MESSAGE)
    assert answer.status_code == 200, answer.text
    assert answer.json()["response"]["content"] == "Refund for Orders started."
"""


def upstream_server(scripts: dict[str, object] = UPSTREAM_SCRIPTS) -> ServerThread:
    mock = WachtMock(MockConfig(seed=3, api_keys=[SECRET]))  # only the real key gets in
    mock.engine.load(scripts)
    return ServerThread(create_app(mock))


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_user=SUITE.replace("MESSAGE", repr("refund?")))
    return pytester


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerThread]:
    monkeypatch.setenv("WACHT_API_KEY", SECRET)
    with upstream_server() as server:
        yield server


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def cassette(pytester: pytest.Pytester) -> Path:
    return pytester.path / "cassettes" / "refund"


def test_record_new_then_replay_with_the_upstream_stopped(
    suite: pytest.Pytester, upstream: ServerThread
) -> None:
    run(suite, "--wacht-record=new", f"--wacht-upstream={upstream.url}").assert_outcomes(passed=1)
    assert sorted(p.name for p in cassette(suite).iterdir()) == [
        "agent.support-bot.yaml",
        "deployment.wk_test_recorded.yaml",
    ]
    assert all(SECRET not in p.read_text() for p in cassette(suite).iterdir())
    upstream.stop()
    run(suite, "--wacht-record=none").assert_outcomes(passed=1)
    run(suite).assert_outcomes(passed=1)  # replay is the default
    run(suite, "--wacht-record=new").assert_outcomes(passed=1)  # recorded: replayed


@pytest.mark.parametrize("mode", ["all", "new", "none"])
def test_a_cassette_test_leaves_no_connection_open(
    suite: pytest.Pytester, upstream: ServerThread, mode: str
) -> None:
    run(suite, "--wacht-record=new", f"--wacht-upstream={upstream.url}").assert_outcomes(passed=1)
    if mode == "new":  # a cassette that lacks the request: capture on miss
        suite.makepyfile(test_user=SUITE.replace("MESSAGE", repr("refund now?")))
    strict = (
        "-W",
        "error::ResourceWarning",
        "-W",
        "error::pytest.PytestUnraisableExceptionWarning",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        result = run(suite, f"--wacht-record={mode}", f"--wacht-upstream={upstream.url}", *strict)
        gc.collect()
    result.assert_outcomes(passed=1)
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


def test_the_upstream_can_come_from_the_environment(
    suite: pytest.Pytester, upstream: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WACHT_UPSTREAM", upstream.url)
    run(suite, "--wacht-record=all").assert_outcomes(passed=1)
    assert cassette(suite).is_dir()


def test_a_request_the_cassette_lacks_fails_the_test(
    suite: pytest.Pytester, upstream: ServerThread
) -> None:
    run(suite, "--wacht-record=new", f"--wacht-upstream={upstream.url}").assert_outcomes(passed=1)
    suite.makepyfile(test_user=SUITE.replace("MESSAGE", repr("refund now?")))
    result = run(suite)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Replay miss: agent 'support-bot' has no recording of new_message 'refund now?'*",
            "*-message: 'refund?'*",
            "*+message: 'refund now?'*",
        ]
    )


def test_all_records_again(suite: pytest.Pytester, upstream: ServerThread) -> None:
    run(suite, "--wacht-record=new", f"--wacht-upstream={upstream.url}").assert_outcomes(passed=1)
    changed = {**UPSTREAM_SCRIPTS, "support-bot": {"reply": "Refund for {context.title} started."}}
    (cassette(suite) / "notes.txt").write_text("kept")
    with upstream_server(changed) as newer:
        run(suite, "--wacht-record=all", f"--wacht-upstream={newer.url}").assert_outcomes(passed=1)
    text = (cassette(suite) / "agent.support-bot.yaml").read_text()
    assert "reasoning" not in text  # the newer answer only
    assert (cassette(suite) / "notes.txt").read_text() == "kept"


def test_a_missing_cassette_says_how_to_record_it(suite: pytest.Pytester) -> None:
    result = run(suite)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*no recording at *cassettes/refund: record it with pytest --wacht-record=new*"]
    )


def test_recording_without_an_upstream_says_so(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WACHT_UPSTREAM", raising=False)
    result = run(suite, "--wacht-record=new")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*recording *cassettes/refund needs --wacht-upstream URL*"])


def test_new_captures_what_a_cassette_lacks(suite: pytest.Pytester, upstream: ServerThread) -> None:
    recording = ("--wacht-record=new", f"--wacht-upstream={upstream.url}")
    run(suite, *recording).assert_outcomes(passed=1)
    suite.makepyfile(test_user=SUITE.replace("MESSAGE", repr("refund now?")))
    run(suite, *recording).assert_outcomes(passed=1)  # the miss went upstream, and was kept
    text = (cassette(suite) / "agent.support-bot.yaml").read_text()
    assert "message: refund?" in text
    assert "message: refund now?" in text
    upstream.stop()
    run(suite).assert_outcomes(passed=1)
    suite.makepyfile(test_user=SUITE.replace("MESSAGE", repr("refund?")))
    run(suite).assert_outcomes(passed=1)


def test_a_cassette_needs_the_socket_fixture_and_a_path(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
import pytest

@pytest.mark.wacht_mock(cassette=3)
def test_number(wacht_mock):
    pass

@pytest.mark.wacht_mock(cassette="here")
def test_inprocess(wacht_mock_inprocess):
    pass
"""
    )
    result = run(pytester)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*cassette is a path relative to the test file, not 3*",
            "*cassette=...) needs the wacht_mock fixture*",
        ]
    )
