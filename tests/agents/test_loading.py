"""Fixture files: YAML and JSON, the shipped examples, and errors with their path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wacht_mock.agents import (
    Engine,
    HttpFault,
    InvalidScript,
    StreamFault,
    Usage,
    load_agents_file,
)

from .helpers import load_yaml, make_call

SHIPPED = Path(__file__).resolve().parents[2] / "fixtures" / "agents.yaml"


@pytest.fixture
def shipped() -> Engine:
    engine = Engine(seed=1)
    engine.load_file(SHIPPED)
    return engine


def test_the_shipped_support_bot(shipped: Engine) -> None:
    def ask(message: str, **call: Any) -> Any:
        return shipped.respond(make_call(message, agent="support-bot", **call))

    refund = ask("I want a refund")
    assert refund.tool_calls[0].args == {"order_id": "A1", "requested_by": "Order 42"}
    assert refund.tool_calls[0].result == {"status": "shipped", "carrier": "DHL"}
    assert refund.reasoning is not None
    assert refund.stop_reason == "end_turn"

    assert ask("cancel order B7").stop_reason == "tool_use"
    assert ask("I forgot my password").status == "waiting_for_input"
    assert ask("x", context_group="triage").structured_output == {
        "priority": "high",
        "summary": "Customer cannot log in",
    }
    crm = ask("x", context_group="crm").structured_output
    assert set(crm) == {"contact", "email", "score", "tags"}
    assert ask("hi", turn=1).text == "Hello, I am support-bot. How can I help with Order 42?"
    second = ask("hi", turn=1)
    assert (second.text, second.usage) == ("Welcome back to Order 42.", Usage(12, 5))
    assert ask("hi", turn=1).text == "Welcome back to Order 42."
    assert ask("anything else", turn=2).text.startswith("Thanks ")


def test_the_shipped_sales_bot(shipped: Engine) -> None:
    replies = [shipped.respond(make_call(agent="sales-bot")) for _ in range(5)]

    assert replies[0].latency == 0.05
    assert replies[1].fault == HttpFault(429, "Slow down", 2)
    assert replies[2].fault == StreamFault("error", 3, "Upstream model overloaded", 503)
    assert replies[2].chunks()[0] == "The team"
    assert replies[3].fault == StreamFault("drop", 1)
    assert replies[4].source == "sales-bot sequence, sequence exhausted: default agent"


def test_a_json_file_loads_like_yaml(tmp_path: Path) -> None:
    document = {"seed": 3, "contexts": [{"title": "x"}], "agents": {"bot": {"reply": "from json"}}}
    path = tmp_path / "agents.json"
    path.write_text(json.dumps(document))

    assert load_agents_file(path) == {"bot": {"reply": "from json"}}
    engine = Engine()
    engine.load_file(path)
    assert engine.respond(make_call()).text == "from json"


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.yaml", ""), ("contexts.yml", "contexts: []\n"), ("null.yaml", "agents:\n")],
)
def test_files_without_agents_give_an_empty_mapping(
    tmp_path: Path, name: str, content: str
) -> None:
    path = tmp_path / name
    path.write_text(content)

    assert load_agents_file(path) == {}


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("a.txt", "agents: {}", "a.txt: unsupported file type '.txt' (use .yaml, .yml or .json)"),
        ("a.yaml", "- 1\n- 2\n", "a.yaml: expected a mapping at the top level"),
        ("a.yaml", "agents: [1]\n", "a.yaml: agents: expected a mapping"),
        ("a.yaml", "agents: {bot: [\n", "a.yaml: cannot be parsed: "),
        ("a.json", "{", "a.json: cannot be parsed: "),
    ],
)
def test_unreadable_files_are_script_errors(
    tmp_path: Path, name: str, content: str, problem: str
) -> None:
    path = tmp_path / name
    path.write_text(content)

    with pytest.raises(InvalidScript) as raised:
        load_agents_file(path)

    assert str(raised.value).startswith(f"{tmp_path / name}{problem[len(name) :]}")
    assert raised.value.source == str(path)


@pytest.mark.parametrize(
    ("yaml_text", "path", "problem"),
    [
        (
            "agents: {support-bot: {rules: [{when: {turn: 1}, reply: a},"
            " {when: {mesage_contains: x}, reply: b}]}}",
            "agents.support-bot.rules[1].when",
            "unknown matcher 'mesage_contains' (did you mean 'message_contains'?)",
        ),
        (
            "agents: {bot: {replys: a}}",
            "agents.bot",
            "unknown agent key 'replys' (did you mean 'reply'?)",
        ),
        (
            "agents: {bot: {reply: {txt: a}}}",
            "agents.bot.reply",
            "unknown reply key 'txt' (did you mean 'text'?)",
        ),
        ("agents: {bot: {reply: {zzz: a}}}", "agents.bot.reply", "unknown reply key 'zzz'"),
        (
            "agents: {bot: {rules: [{when: {turn: 1}, reply: a, then: b}]}}",
            "agents.bot.rules[0]",
            "unknown rule key 'then' (did you mean 'when'?)",
        ),
        (
            "agents: {bot: {reply: {tool_calls: [{name: t, arg: {}}]}}}",
            "agents.bot.reply.tool_calls[0]",
            "unknown tool call key 'arg' (did you mean 'args'?)",
        ),
        (
            "agents: {bot: {reply: {usage: {input: 1}}}}",
            "agents.bot.reply.usage",
            "unknown key 'input'",
        ),
        (
            "agents: {bot: {rules: [{reply: a}]}}",
            "agents.bot.rules[0]",
            "missing required key 'when'",
        ),
        (
            "agents: {bot: {rules: [{when: {turn: 1}}]}}",
            "agents.bot.rules[0]",
            "a rule needs a reply or a sequence",
        ),
        (
            "agents: {bot: {rules: [{when: {}, reply: a}]}}",
            "agents.bot.rules[0].when",
            "a rule needs at least one matcher",
        ),
        (
            "agents: {bot: {rules: [{when: {turn: '1'}, reply: a}]}}",
            "agents.bot.rules[0].when.turn",
            "Input should be a valid integer, not '1'",
        ),
        (
            "agents: {bot: {rules: [{when: {turn: true}, reply: a}]}}",
            "agents.bot.rules[0].when.turn",
            "Input should be a valid integer, not True",
        ),
        (
            "agents: {bot: {reply: a, sequence: [b]}}",
            "agents.bot",
            "give either reply or sequence, not both",
        ),
        (
            "agents: {bot: {reply: a, when_exhausted: error}}",
            "agents.bot",
            "when_exhausted goes with a sequence",
        ),
        (
            "agents: {bot: {sequence: []}}",
            "agents.bot.sequence",
            "a sequence needs at least one reply",
        ),
        (
            "agents: {bot: {sequence: [a], when_exhausted: loop}}",
            "agents.bot.when_exhausted",
            "Input should be 'error', 'repeat_last' or 'default', not 'loop'",
        ),
        ("agents: {bot: [a]}", "agents.bot", "expected a mapping"),
        ("agents: {bot: {reply: 3}}", "agents.bot.reply", "expected a mapping"),
        ("agents: [bot]", "agents", "expected a mapping"),
        (
            "agents: {bot: {reply: {text: a, schema: {type: object}, structured_output: []}}}",
            "agents.bot.reply.structured_output",
            "does not match the schema at $: [] is not of type 'object'",
        ),
    ],
)
def test_invalid_scripts_name_the_path_of_the_problem(
    yaml_text: str, path: str, problem: str
) -> None:
    engine = Engine()

    with pytest.raises(InvalidScript) as raised:
        load_yaml(engine, yaml_text)

    assert (raised.value.path, raised.value.problem) == (path, problem)
    assert str(raised.value).startswith(f"test.yaml: {path}: {problem}")


def test_every_shape_problem_is_reported() -> None:
    with pytest.raises(InvalidScript) as raised:
        load_yaml(Engine(), "agents: {a: {replys: x}, b: {reply: {latency: no}}}")

    assert [path for path, _ in raised.value.problems] == ["agents.a", "agents.b.reply.latency"]
    assert len(str(raised.value).splitlines()) == 2


def test_a_bad_file_changes_no_script() -> None:
    engine = Engine()
    engine.agent("a").reply("kept")

    with pytest.raises(InvalidScript):
        engine.load({"a": {"reply": "new"}, "b": {"reply": "{bad}"}})

    assert engine.respond(make_call(agent="a")).text == "kept"
    assert not engine.agent("b").is_scripted


def test_loading_replaces_an_agents_whole_script_but_keeps_its_log() -> None:
    engine = Engine()
    bot = engine.agent("bot")
    bot.when(turn=1).reply("old rule")
    bot.side_effect = lambda call: None
    engine.respond(make_call())

    engine.load({"bot": {"reply": "new"}})

    assert engine.respond(make_call()).text == "new"
    assert bot.call_count == 2
    assert bot.side_effect is None


def test_the_default_source_name() -> None:
    with pytest.raises(InvalidScript, match=r"^<dict>: agents.bot: unknown agent key"):
        Engine().load({"bot": {"oops": 1}})
