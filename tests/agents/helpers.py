"""Helpers for the engine tests: calls and YAML scripts."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import yaml

from wacht_mock.agents import AgentCall, CallKind, ContextView, Engine, HistoryTurn


def make_call(
    message: str | None = "hello",
    *,
    agent: str = "bot",
    kind: CallKind = "new_message",
    turn: int = 1,
    title: str = "Order 42",
    context_group: str | None = None,
    system_instructions: str | None = None,
    history: Sequence[HistoryTurn] = (),
    context_id: str = "7311227281219858432",
) -> AgentCall:
    """A call as the server would build it."""
    context = ContextView(context_id, title, system_instructions, context_group, "active")
    return AgentCall(agent, kind, message, (), context, history, turn)


def load_yaml(engine: Engine, text: str) -> None:
    """Script `engine` from a YAML document with an `agents:` key."""
    engine.load(yaml.safe_load(textwrap.dedent(text))["agents"], source="test.yaml")


def texts(engine: Engine, *messages: str | None, agent: str = "bot") -> list[str]:
    """The reply texts for one call per message."""
    return [engine.respond(make_call(message, agent=agent)).text for message in messages]
