"""Item 8 of the attack: every document the project reads is bounded in aliases, depth and size.

A 590-byte YAML alias bomb took 14.6 s and 1.8 GB; 600-level nesting was an uncaught
``RecursionError`` (exit 1, not the one-line error and exit 2); the same edit killed the
``--watch`` thread; ``POST /_mock/fixtures`` with tool-call args nested 500 deep was a 500.
Each now fails fast, with one line naming the file and the place.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import CONTROL_TOKEN, TOKEN, save
from wacht_mock import MockConfig, WachtMock, create_app
from wacht_mock.agents import InvalidScript
from wacht_mock.agents.loader import load_agents_file
from wacht_mock.service.fixtures import FixtureError, read_fixture
from wacht_mock.service.watch import FixtureWatcher

from .support import envelope_message


def bomb_file(tmp_path: Path) -> Path:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [{','.join([f'*a{level - 1}'] * 9)}]")
    lines.append("agents: {bot: {reply: {text: hi, tool_calls: [{name: t, args: {x: *a9}}]}}}")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size < 1024
    return path


def nested_yaml(tmp_path: Path, depth: int = 600, name: str = "deep.yaml") -> Path:
    path = tmp_path / name
    path.write_text("agents: {bot: {reply: " + "[" * depth + "x" + "]" * depth + "}}\n")
    return path


def nested_args(depth: int) -> dict[str, Any]:
    args: dict[str, Any] = {}
    current = args
    for _ in range(depth):
        current["a"] = {}
        current = current["a"]
    return {
        "agents": {"bot": {"reply": {"text": "x", "tool_calls": [{"name": "t", "args": args}]}}}
    }


def one_line(message: str, path: Path) -> None:
    assert "\n" not in message, message
    assert message.startswith(f"{path}: "), message


def test_an_alias_bomb_is_refused_fast_naming_file_and_place(tmp_path: Path) -> None:
    path = bomb_file(tmp_path)
    started = time.perf_counter()
    with pytest.raises(FixtureError) as caught:
        read_fixture(path)
    assert time.perf_counter() - started < 1.0
    one_line(str(caught.value), path)
    assert "line " in str(caught.value)
    assert "aliases" in str(caught.value)


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("agents: &a {bot: *a}\n")
    with pytest.raises(FixtureError) as caught:
        read_fixture(path)
    one_line(str(caught.value), path)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_deep_nesting_is_one_line_naming_the_place(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"deep{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(nested_args(600)))
    else:
        nested_yaml(tmp_path, name=path.name)
    with pytest.raises(FixtureError) as caught:
        read_fixture(path)
    one_line(str(caught.value), path)
    assert "nested deeper than" in str(caught.value)


def test_a_huge_fixture_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w") as handle:
        handle.truncate(17 * 1024 * 1024)
    with pytest.raises(FixtureError) as caught:
        read_fixture(path)
    one_line(str(caught.value), path)
    assert "bytes" in str(caught.value)


def test_the_agent_file_loader_is_bounded_too(tmp_path: Path) -> None:
    path = bomb_file(tmp_path)
    with pytest.raises(InvalidScript) as caught:
        load_agents_file(path)
    assert "aliases" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_yaml_syntax_error_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("agents:\n  bot: {reply: [x\n")
    with pytest.raises(FixtureError) as caught:
        read_fixture(path)
    one_line(str(caught.value), path)
    assert "line 3" in str(caught.value)


@pytest.mark.parametrize("make", [bomb_file, nested_yaml])
def test_serve_exits_2_with_one_line(tmp_path: Path, make: Any) -> None:
    path = make(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "wacht_mock", "serve", "--port", "0", "--fixtures", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"wacht-mock: error: {path}: "), line


def test_the_watch_thread_survives_a_bad_edit(tmp_path: Path) -> None:
    path = tmp_path / "bots.yaml"
    path.write_text("agents: {bot: {reply: first}}\n")
    mock = WachtMock(MockConfig(fixtures=[path]))
    said: list[str] = []
    reloaded = threading.Event()

    def report(line: str) -> None:
        said.append(line)
        if "reloaded the agent scripts" in line:
            reloaded.set()

    watcher = FixtureWatcher(mock, report, interval=0.01).start()
    try:
        edits = [nested_yaml(tmp_path).read_text(), bomb_file(tmp_path).read_text()]
        for stamp, text in enumerate(edits):
            save(path, text, 1_000 + stamp)
            deadline = time.monotonic() + 10
            while sum("not reloaded" in s for s in said) <= stamp and time.monotonic() < deadline:
                time.sleep(0.01)
        save(path, "agents: {bot: {reply: second}}\n", 2_000)
        assert reloaded.wait(10), said
    finally:
        watcher.stop()
    assert sum("not reloaded" in line for line in said) == 2, said
    assert mock.engine.agent("bot").is_scripted


@pytest.mark.anyio
@pytest.mark.parametrize("depth", [100, 500])
async def test_deeply_nested_fixture_documents_are_400(depth: int) -> None:
    app = create_app(MockConfig(control_token=CONTROL_TOKEN))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=TOKEN) as c:
        response = await c.post("/_mock/fixtures", json=nested_args(depth))
        assert response.status_code == 400, response.text
        assert "nested deeper than" in envelope_message(400, response.content)
        fine = await c.post("/_mock/fixtures", json=nested_args(20))
        assert fine.status_code == 200, fine.text


@pytest.mark.anyio
async def test_an_aliased_document_that_expands_within_bounds_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    path.write_text("agents:\n  zero: &d {reply: shared}\n  one: *d\n  two: {<<: *d}\n")
    mock = WachtMock(MockConfig(fixtures=[path]))
    assert mock.engine.agent("two").is_scripted
