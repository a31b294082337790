"""The README's examples run, and print what the README shows."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from wacht_mock import ApiError, MockConfig, WachtMock
from wacht_mock.agents import RenderedReply
from wacht_mock.payloads import ExecuteRequest, validate
from wacht_mock.server import ServerThread
from wacht_mock.store import NewContext

from .readme import Block, blocks, json_values, matches

DELIMITER = "@@end-of-block@@"


def test_the_curl_walk_through_prints_what_the_readme_shows(live_server: ServerThread) -> None:
    walk = blocks("bash", marker="$WACHT")
    assert len(walk) >= 8, "the walk-through lost its steps"
    script = "set -euo pipefail\n" + "".join(f"{block.code}\necho {DELIMITER}\n" for block in walk)
    script = script.replace("http://127.0.0.1:8080", live_server.url)
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    assert result.returncode == 0, result.stderr
    outputs = result.stdout.split(DELIMITER + "\n")
    assert len(outputs) == len(walk) + 1
    for block, output in zip(walk, outputs, strict=False):
        if block.expected is not None:
            shown, printed = json_values(block.expected), json_values(output)
            assert matches(shown, printed), f"{block.code}\nprinted:\n{output}"


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


@pytest.mark.parametrize("block", blocks("python", marker="wacht_mock"), ids=lambda b: b.code[:40])
def test_python_examples_run(block: Block) -> None:
    exec(compile(block.code, "README.md", "exec"), {})


def test_the_yaml_script_answers_as_the_readme_says(tmp_path: Path) -> None:
    (script,) = blocks("yaml", marker="agents:")
    path = tmp_path / "agents.yaml"
    path.write_text(script.code)
    mock = WachtMock(MockConfig(seed=3, fixtures=[path]))
    context = mock.store.create("1", NewContext("Support"))

    def say(agent: str, message: str) -> RenderedReply:
        request = validate(
            ExecuteRequest,
            {"agent_name": agent, "execution_type": {"new_message": {"message": message}}},
        )
        return mock.executions.execute("1", context.id, request).reply

    refund = say("support-bot", "I want a refund")
    assert refund.tool_calls[0].result == {"status": "shipped"}
    assert say("support-bot", "lost my password").status == "waiting_for_input"
    assert say("support-bot", "hello").text.endswith("will look into Support.")
    assert say("sales-bot", "price?").text == "Our plans start at 10 EUR a month."
    with pytest.raises(ApiError) as limited:
        say("sales-bot", "price?")
    assert (limited.value.status, limited.value.headers) == (429, {"Retry-After": "2"})
