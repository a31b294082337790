"""The README's sections on contract checks, consumer validation, the proxy and CI: their code
runs, and prints what the README shows."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from wacht_mock.cli.main import build_parser, main
from wacht_mock.core.server import ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.mock import WachtMock

from .readme import FENCE, README, blocks, json_values, matches

DEFAULT_URL = "http://127.0.0.1:8080"


def fences() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(README.read_text("utf-8"))]


def block_after(code: str) -> str:
    """The fenced block right after the one holding ``code``."""
    found = fences()
    index = next(i for i, (_, text) in enumerate(found) if code in text)
    return found[index + 1][1]


def one(language: str, marker: str) -> str:
    (block,) = [b for b in blocks(language, marker) if marker in b.code]
    return block.code


def printed(code: str, **names: Any) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), dict(names))
    return out.getvalue()


def shown_matches(shown: str, output: str) -> None:
    """Every line the README shows, in order; numbers (ports, counts, times) may differ."""
    wanted = [line for line in shown.strip().splitlines() if line.strip()]
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert len(lines) == len(wanted), output
    for expected, line in zip(wanted, lines, strict=True):
        pattern = re.sub(r"\d+(?:\\\.\d+)?", r"\\d+(?:\\.\\d+)?", re.escape(expected))
        assert re.fullmatch(pattern, line), f"{line!r} does not match {expected!r}"


def test_the_check_command_prints_what_the_readme_shows(capsys: pytest.CaptureFixture[str]) -> None:
    command = one("bash", "wacht-mock check --against-mock")
    argv = shlex.split(command)
    assert argv[0] == "wacht-mock"
    assert main(argv[1:]) == 0
    printed = capsys.readouterr().out
    shown_matches(block_after(command), printed)
    cases = re.compile(r"(\d+) cases")
    assert cases.findall(printed) == cases.findall(block_after(command))  # seeded: exact


def test_the_pytest_example_passes(pytester: pytest.Pytester, live_server: ServerThread) -> None:
    example = one("python", "def test_the_server_follows_the_contract")
    pytester.makepyfile(test_contract_example=example)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WACHT_BASE_URL", live_server.url)
        # In a subprocess: an in-process run would drop the schemathesis modules it loaded
        # first, and later checks in this process would meet two copies of its classes.
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize("marker", ["run_check(", "ContractValidator()"])
def test_the_python_examples_print_what_the_readme_shows(marker: str) -> None:
    (block,) = [b for b in blocks("python", marker) if marker in b.code]
    assert block.expected is not None
    assert matches(json_values(block.expected), json_values(printed(block.code)))


def test_the_proxy_example_prints_what_the_readme_shows(live_server: ServerThread) -> None:
    (block,) = blocks("python", "proxy.drift.items()")
    assert block.expected is not None
    code = block.code.replace(DEFAULT_URL, live_server.url)
    assert matches(json_values(block.expected), json_values(printed(code)))


def test_the_messages_the_readme_lists_are_the_mock_s_own() -> None:
    shown = one("text", "/system_instruction: unknown field")
    answers = mock_answers()
    for line in shown.strip().splitlines():
        pattern = ".*".join(re.escape(part) for part in line.split("..."))
        assert any(re.search(pattern, answer) for answer in answers), line


def mock_answers() -> list[str]:
    """What the mock answers the bad requests the README's list of messages stands for."""
    bodies = [
        {"title": "t", "system_instruction": "Be brief"},
        {"title": 7},
        b'{"title": "t" "status": "active"}',
    ]
    variants = [{"new_mesage": {"message": "Hi"}}, {"new_message": {"message": "a"}, "stream": {}}]
    variants.append({"stream": {"files": None}})
    key = {"Authorization": "Bearer wk_test_readme"}
    with (
        ServerThread(create_app(WachtMock())) as server,
        httpx.Client(base_url=server.url, headers=key) as client,
    ):
        created = client.post("/ai/execution-contexts", json={"title": "t"}).json()
        execute = f"/ai/execution-contexts/{created['id']}/execute"
        json_type = {"Content-Type": "application/json"}
        responses = [
            client.post("/ai/execution-contexts", content=_raw(b), headers=json_type)
            for b in bodies
        ]
        responses += [
            client.post(execute, json={"agent_name": "a", "execution_type": variant})
            for variant in variants
        ]
        responses.append(client.get("/ai/execution-contexts", params={"limit": 0}))
        text = {"Content-Type": "text/plain"}
        responses.append(client.post("/ai/execution-contexts", content=b"t", headers=text))
    return [response.json()["errors"][0]["message"] for response in responses]


def _raw(body: object) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def workflow() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(one("yaml", "wacht-mock check"))
    return document


def test_the_ci_workflow_runs_the_mock_the_tests_and_the_contract_check() -> None:
    jobs = workflow()["jobs"]
    runs = [step.get("run", "") for job in jobs.values() for step in job["steps"]]
    commands = [
        line.strip()
        for run in runs
        for line in run.replace("\n--", " --").splitlines()
        if line.strip().startswith("wacht-mock ")
    ]
    assert [command.split()[1] for command in commands] == ["serve", "check"]
    for command in commands:
        argv = shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "value", command))
        cut = argv.index(">") if ">" in argv else len(argv)
        build_parser().parse_args(argv[1:cut])
    assert "--read-only" in commands[1]
    assert any("pytest" in run for run in runs)


def test_the_ci_step_that_starts_the_mock_works(tmp_path: Path) -> None:
    (start,) = [
        step["run"]
        for job in workflow()["jobs"].values()
        for step in job["steps"]
        if "wacht-mock serve" in step.get("run", "")
    ]
    script = start.replace("--port 8080", "--port 0") + '\nkill "$!"\n'
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": path},
    )
    assert result.returncode == 0, result.stderr
    assert "listening on http://127.0.0.1:" in (tmp_path / "mock.log").read_text()
