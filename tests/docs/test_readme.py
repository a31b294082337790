"""The README's examples run, and print what the README shows."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.helpers import started, wacht_mock_process
from wacht_mock import ApiError, MockConfig, WachtMock, create_app
from wacht_mock.agents import RenderedReply
from wacht_mock.core.server import ServerThread
from wacht_mock.service.auth import deployment_id_for
from wacht_mock.service.requests import ExecuteRequest
from wacht_mock.service.store import NewContext

from .readme import README, Block, blocks, json_values, matches

DELIMITER = "@@end-of-block@@"


def run_shell_blocks(walk: list[Block], url: str, cwd: Path) -> None:
    """Run README shell blocks in one shell; each prints what the README shows after it."""
    script = "set -euo pipefail\n" + "".join(f"{b.code}\necho {DELIMITER}\n" for b in walk)
    script = script.replace("http://127.0.0.1:8080", url)
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=60, cwd=cwd
    )
    assert result.returncode == 0, result.stderr
    outputs = result.stdout.split(DELIMITER + "\n")
    assert len(outputs) == len(walk) + 1
    for block, output in zip(walk, outputs, strict=False):
        if block.expected is not None:
            shown, printed = json_values(block.expected), json_values(output)
            assert matches(shown, printed), f"{block.code}\nprinted:\n{output}"


def test_the_curl_walk_through_prints_what_the_readme_shows(
    live_server: ServerThread, tmp_path: Path
) -> None:
    walk = [b for b in blocks("bash", marker="$WACHT") if "$TOKEN" not in b.code]
    assert len(walk) >= 8, "the walk-through lost its steps"
    run_shell_blocks(walk, live_server.url, tmp_path)


def test_the_control_api_examples(tmp_path: Path) -> None:
    walk = blocks("bash", marker="$TOKEN")
    assert len(walk) == 2
    app = create_app(MockConfig(control_token="s3cret"))  # the token the README uses
    with ServerThread(app) as server:
        run_shell_blocks(walk, server.url, tmp_path)
        contexts = app.state.mock.store.contexts(deployment_id_for("wk_test_readme"))
        assert [c.title for c in contexts] == ["Seeded"]


@pytest.mark.parametrize("marker", ["def test_support_flow", "def test_what_the_model_saw"])
def test_the_pytest_examples_pass_unchanged_in_a_fresh_project(
    pytester: pytest.Pytester, marker: str
) -> None:
    """A project of its own, outside this repository: its own folder, no conftest, no copied
    fixtures; the plugin found through its entry point, pytest run from the tests folder."""
    (example,) = blocks("python", marker=marker)
    assert not pytester.path.is_relative_to(README.parent)
    pytester.makefile(".toml", pyproject='[project]\nname = "my-app"\nversion = "1"\n')
    tests = pytester.mkdir("tests")
    (tests / "test_readme_example.py").write_text(example.code)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tests)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_request_log_shows_each_request_of_the_walk_through(tmp_path: Path) -> None:
    walk = [b for b in blocks("bash", marker="$WACHT") if "$TOKEN" not in b.code]
    requests = sum(block.code.count("curl ") for block in walk)
    with wacht_mock_process("serve", "--port", "0", "--seed", "1", cwd=tmp_path) as process:
        url = started(process).url
        try:
            run_shell_blocks(walk, url, tmp_path)
        finally:
            process.send_signal(signal.SIGINT)
            _, log = process.communicate(timeout=10)
    lines = log.splitlines()
    assert len(lines) == requests, log
    methods = [line.split()[2] for line in lines]
    assert methods.count("POST") == sum(block.code.count("-X POST") for block in walk)
    assert methods.count("PATCH") == sum(block.code.count("-X PATCH") for block in walk)
    assert "DELETE" in methods
    assert all(" ms" in line for line in lines)
    assert "support-bot" in lines[methods.index("POST", 1)]


def test_the_faults_example_fails_the_next_two_lists(tmp_path: Path) -> None:
    (example,) = blocks("yaml", marker="faults:")
    path = tmp_path / "faults.yaml"
    path.write_text(example.code)
    mock = WachtMock(MockConfig(seed=1, fixtures=[path]))
    lists = [mock.faults.pick("GET", "/ai/execution-contexts") for _ in range(3)]
    assert [f is not None and f.rule.status for f in lists] == [503, 503, False]


@pytest.mark.parametrize(
    ("expected", "actual", "result"),
    [
        ({"a": "…"}, {"a": 3}, True),
        ({"a": "x … y"}, {"a": "x 1 y"}, True),
        ({"a": "x … y"}, {"a": "x 1 z"}, False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ([1, 2], [1], False),
        (True, 1, False),
    ],
)
def test_the_matcher_is_strict_where_the_readme_is_exact(
    expected: object, actual: object, result: bool
) -> None:
    assert matches(expected, actual) is result


SCRIPTS = [b for b in blocks("python", marker="wacht_mock") if "def test_" not in b.code]


@pytest.mark.parametrize("block", SCRIPTS, ids=lambda b: b.code[:40])
def test_python_examples_run(block: Block) -> None:
    exec(compile(block.code, "README.md", "exec"), {})


def test_the_yaml_script_answers_as_the_readme_says(tmp_path: Path) -> None:
    (script,) = blocks("yaml", marker="agents:")
    path = tmp_path / "agents.yaml"
    path.write_text(script.code)
    mock = WachtMock(MockConfig(seed=3, fixtures=[path]))
    context = mock.store.create("1", NewContext("Support"))

    def say(agent: str, message: str) -> RenderedReply:
        request = ExecuteRequest(agent, "new_message", message)
        return mock.executions.execute("1", context.id, request).reply

    refund = say("support-bot", "I want a refund")
    assert refund.tool_calls[0].result == {"status": "shipped"}
    assert say("support-bot", "lost my password").status == "waiting_for_input"
    assert say("support-bot", "hello").text.endswith("will look into Support.")
    assert say("sales-bot", "price?").text == "Our plans start at 10 EUR a month."
    with pytest.raises(ApiError) as limited:
        say("sales-bot", "price?")
    assert (limited.value.status, limited.value.headers) == (429, {"Retry-After": "2"})


def test_the_install_lines_work_where_system_pip_refuses() -> None:
    (install,) = [b for b in blocks("bash") if "pip install ." in b.code]
    assert install.code.splitlines()[0].startswith("python3 -m venv .venv && . .venv/bin/activate")
    text = README.read_text("utf-8")
    streaming = text[text.index("### A streamed reply") : text.index("from httpx_sse import")]
    assert "python3 -m pip install httpx-sse" in streaming
