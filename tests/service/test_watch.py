"""Hot reload of fixture files: scripts follow the file, contexts stay, bad edits are refused."""

from __future__ import annotations

import time
from pathlib import Path

from tests.helpers import save
from wacht_mock import MockConfig, WachtMock
from wacht_mock.service.auth import deployment_id_for
from wacht_mock.service.store import NewContext
from wacht_mock.service.watch import FixtureWatcher


def reply_of(mock: WachtMock) -> str:
    context = mock.store.create("1", NewContext("t"))
    body = {"agent_name": "bot", "execution_type": {"new_message": {"message": "hi"}}}
    return mock.executions.execute("1", context.id, mock.requests.execute(body).value).reply.text


def test_a_changed_file_reloads_its_scripts_and_keeps_contexts(tmp_path: Path) -> None:
    path = tmp_path / "bots.yaml"
    seeded = "deployments: {wk_test_w: {contexts: [{title: Kept}]}}\n"
    save(path, seeded + "agents: {bot: {reply: first}}\n", 1_000)
    mock = WachtMock(MockConfig(fixtures=[path]))
    said: list[str] = []
    watcher = FixtureWatcher(mock, said.append)
    assert watcher.check() == []
    assert reply_of(mock) == "first"
    save(path, seeded + "agents: {bot: {reply: second}}\n", 2_000)
    assert watcher.check() == [path]
    assert "reloaded the agent scripts" in said[-1]
    assert reply_of(mock) == "second"
    kept = mock.store.contexts(deployment_id_for("wk_test_w"))
    assert [c.title for c in kept] == ["Kept"]


def test_a_broken_edit_keeps_the_previous_scripts(tmp_path: Path) -> None:
    path = tmp_path / "bots.yaml"
    save(path, "agents: {bot: {reply: good}}\n", 1_000)
    mock = WachtMock(MockConfig(fixtures=[path]))
    said: list[str] = []
    watcher = FixtureWatcher(mock, said.append)
    save(path, "agents: {bot: {rules: [{when: {mesage: x}, reply: y}]}}\n", 2_000)
    assert watcher.check() == []
    assert "not reloaded, the previous scripts stay" in said[-1]
    assert "mesage" in said[-1]
    assert reply_of(mock) == "good"


def test_the_watcher_thread_reloads_a_changed_file_until_it_is_stopped(tmp_path: Path) -> None:
    path = tmp_path / "bots.yaml"
    save(path, "agents: {bot: {reply: first}}\n", 1_000)
    mock = WachtMock(MockConfig(fixtures=[path]))
    said: list[str] = []
    watcher = FixtureWatcher(mock, said.append, interval=0.01).start()
    try:
        save(path, "agents: {bot: {reply: second}}\n", 2_000)
        deadline = time.monotonic() + 10
        while not said and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "reloaded the agent scripts" in said[-1]
        assert reply_of(mock) == "second"
    finally:
        watcher.stop()
    assert not watcher._thread.is_alive()
    save(path, "agents: {bot: {reply: third}}\n", 3_000)
    time.sleep(0.05)  # five intervals: a running watcher would have reloaded it
    assert reply_of(mock) == "second"


def test_an_agent_removed_from_the_file_loses_its_script(tmp_path: Path) -> None:
    path = tmp_path / "bots.yaml"
    save(path, "agents: {bot: {reply: scripted}, other: {reply: kept}}\n", 1_000)
    mock = WachtMock(MockConfig(fixtures=[path]))
    watcher = FixtureWatcher(mock, print)
    save(path, "agents: {other: {reply: kept}}\n", 2_000)
    assert watcher.check() == [path]
    assert not mock.engine.agent("bot").is_scripted
    assert mock.engine.agent("other").is_scripted
