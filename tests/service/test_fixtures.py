"""Fixture files: contexts per deployment, generated contexts, agent scripts, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wacht_mock import MockConfig, WachtMock
from wacht_mock.agents import engine as engine_module
from wacht_mock.service.auth import deployment_id_for
from wacht_mock.service.fixtures import FixtureError
from wacht_mock.service.requests import ExecuteRequest
from wacht_mock.service.store import NewContext

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

DEMO = deployment_id_for("wk_test_demo")


def test_the_shipped_fixtures_seed_contexts_and_scripts() -> None:
    mock = WachtMock(MockConfig(seed=1, fixtures=[FIXTURES]))
    page = mock.store.list(DEMO, limit=100, offset=0)
    titles = {c.title for c in page.data}
    assert {"Customer Support Context", "Sales Context", "Triage Context"} <= titles
    assert len(page.data) == 53
    assert mock.engine.agent("support-bot").is_scripted


def test_reset_goes_back_to_the_fixtures() -> None:
    mock = WachtMock(MockConfig(seed=1, fixtures=[FIXTURES / "contexts.yaml"]))
    before = [c.title for c in mock.store.list(DEMO, limit=100, offset=0).data]
    mock.store.create(DEMO, NewContext("added by a test"))
    mock.reset()
    assert [c.title for c in mock.store.list(DEMO, limit=100, offset=0).data] == before


def test_json_fixtures_and_generation(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(
        '{"deployments": {"wk_test_x": {"generate": {"count": 5, "statuses": ["archived"]}}}}'
    )
    mock = WachtMock(MockConfig(fixtures=[path]))
    page = mock.store.list(deployment_id_for("wk_test_x"), limit=10, offset=0, status="archived")
    assert len(page.data) == 5


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("deployments: {wk_test_x: {contexts: [{titel: x}]}}", "titel"),
        ("deployments: {nokey: {contexts: []}}", "not a well-formed API key"),
        ("agents: {bot: {rules: [{when: {mesage: x}, reply: hi}]}}", "mesage"),
        ("deployments: [", "seed.yaml"),
        (
            "deployments: {wk_test_x: {agents: {bot: {reply: {txt: hi}}}}}",
            "seed.yaml: deployments.wk_test_x.agents.bot.reply",
        ),
    ],
)
def test_bad_fixture_files_name_the_problem(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(text)
    with pytest.raises(FixtureError, match=fragment):
        WachtMock(MockConfig(fixtures=[path]))


DEPLOYMENT_AGENTS = """
deployments:
  wk_test_x:
    contexts: [{title: X's}]
    agents: {bot: {sequence: [x one, x two]}}
  wk_test_y:
    contexts: [{title: Y's}]
agents: {bot: {sequence: [one, two]}}
"""


def test_a_deployment_may_declare_agents_and_be_reset_alone(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(DEPLOYMENT_AGENTS)
    mock = WachtMock(MockConfig(fixtures=[path]))
    x, y = deployment_id_for("wk_test_x"), deployment_id_for("wk_test_y")

    def reply(deployment_id: str) -> str:
        context = mock.store.list(deployment_id, limit=1, offset=0).data[0]
        return mock.executions.execute(deployment_id, context.id, _message()).reply.text

    assert [reply(x), reply(y), reply(x), reply(y)] == ["x one", "one", "x two", "two"]
    mock.store.create(x, NewContext("added in x"))
    mock.store.create(y, NewContext("added in y"))
    mock.reset(x)
    assert [c.title for c in mock.store.contexts(x)] == ["X's"]
    assert [c.title for c in mock.store.contexts(y)] == ["Y's", "added in y"]
    assert reply(x) == "x one"
    assert mock.engine.agent("bot").call_count_in(y) == 2


def test_a_reset_loads_the_scripts_again_without_building_them_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pytest plugin resets before every test: a fixture file's replies were all built
    (and their values copied as JSON) anew each time."""
    path = tmp_path / "seed.yaml"
    path.write_text(DEPLOYMENT_AGENTS)
    built = []
    real = engine_module.build_agents

    def counted(spec: Any, *, source: str) -> Any:
        built.append(source)
        return real(spec, source=source)

    monkeypatch.setattr(engine_module, "build_agents", counted)
    mock = WachtMock(MockConfig(fixtures=[path]))
    first = len(built)
    x = deployment_id_for("wk_test_x")

    def reply() -> str:
        context = mock.store.list(x, limit=1, offset=0).data[0]
        return mock.executions.execute(x, context.id, _message()).reply.text

    assert [reply(), reply()] == ["x one", "x two"]
    for _ in range(3):
        mock.reset()
        assert reply() == "x one"  # every sequence starts over
    mock.reset(x)
    assert [reply(), reply()] == ["x one", "x two"]
    mock.reset(x)  # a deployment's own reset builds once too
    assert reply() == "x one"
    assert len(built) == first + 1  # the deployment's own scripts, on its first reset


def _message() -> ExecuteRequest:
    return ExecuteRequest("bot", "new_message", "Hi")


def test_reconfigure_takes_a_new_clock_and_refuses_fixed_settings() -> None:
    from datetime import UTC, datetime

    from wacht_mock import FrozenClock

    mock = WachtMock()
    frozen = FrozenClock(datetime(2030, 1, 1, tzinfo=UTC))
    mock.reconfigure(MockConfig(clock=frozen))
    assert mock.store.create("1", NewContext("t")).created_at.year == 2030
    with pytest.raises(ValueError, match="journal_size is fixed"):
        mock.reconfigure(MockConfig(clock=frozen, journal_size=3))
