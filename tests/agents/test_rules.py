"""Rules: matchers on the message, the context and the turn; first match wins."""

from __future__ import annotations

from typing import Any

import pytest

from wacht_mock.agents import Engine, HttpFault, InvalidScript, When

from .helpers import load_yaml, make_call


def script_both_ways(matcher: dict[str, Any]) -> list[Engine]:
    """Two engines with the same rule: one scripted in Python, one in YAML."""
    in_python, in_yaml = Engine(), Engine()
    in_python.agent("bot").when(**matcher).reply("matched").reply("fallback")
    in_yaml.load({"bot": {"rules": [{"when": matcher, "reply": "matched"}], "reply": "fallback"}})
    return [in_python, in_yaml]


CASES = [
    ({"message": "refund please"}, {"message": "refund please"}, {"message": "refund please!"}),
    ({"message_contains": "refund"}, {"message": "a refund?"}, {"message": "a Refund?"}),
    ({"message_regex": r"(?i)order \d+"}, {"message": "ORDER 12 late"}, {"message": "order x"}),
    ({"context_group": "support"}, {"context_group": "support"}, {"context_group": "sales"}),
    ({"title": "Order 42"}, {"title": "Order 42"}, {"title": "Order 42 (copy)"}),
    ({"title_contains": "42"}, {"title": "Order 42 (copy)"}, {"title": "Order 43"}),
    ({"system_instructions": "Be brief"}, {"system_instructions": "Be brief"}, {}),
    (
        {"system_instructions_contains": "brief"},
        {"system_instructions": "Be brief."},
        {"system_instructions": "Be long."},
    ),
    ({"turn": 2}, {"turn": 2}, {"turn": 3}),
    (
        {"message_contains": "a", "turn": 1},
        {"message": "a", "turn": 1},
        {"message": "a", "turn": 2},
    ),
]


@pytest.mark.parametrize(("matcher", "matching", "other"), CASES, ids=lambda case: str(case))
def test_each_matcher(
    matcher: dict[str, Any], matching: dict[str, Any], other: dict[str, Any]
) -> None:
    for engine in script_both_ways(matcher):
        assert engine.respond(make_call(**matching)).text == "matched"
        assert engine.respond(make_call(**other)).text == "fallback"


def test_message_matchers_never_match_a_continue_call() -> None:
    for engine in script_both_ways({"message_regex": ".*"}):
        assert engine.respond(make_call(None, kind="continue")).text == "fallback"


def test_the_first_matching_rule_wins() -> None:
    engine = Engine()
    load_yaml(
        engine,
        """
        agents:
          bot:
            rules:
              - {when: {message_contains: refund}, reply: refunds}
              - {when: {message_contains: order}, reply: orders}
              - {when: {turn: 1}, reply: first turn}
        """,
    )

    answers = [engine.respond(make_call(m)).text for m in ("refund my order", "my order", "hi")]

    assert answers == ["refunds", "orders", "first turn"]


def test_the_source_names_the_rule_and_its_matchers() -> None:
    engine = Engine()
    bot = engine.agent("bot")
    bot.when(turn=5).reply("never")
    bot.when(message_contains="refund", context_group="support").replies(["a", "b", "c"])

    reply = engine.respond(make_call("refund", context_group="support"))

    assert reply.source == (
        "bot rule 2 (message contains 'refund' and context_group is 'support'), reply 1 of 3"
    )


def test_a_rule_can_hold_a_sequence_with_its_own_position() -> None:
    engine = Engine()
    load_yaml(
        engine,
        """
        agents:
          bot:
            rules:
              - when: {message_contains: refund}
                sequence: [r1, r2]
                when_exhausted: repeat_last
            sequence: [f1, f2, f3]
        """,
    )

    answers = [engine.respond(make_call(m)).text for m in ("refund", "x", "refund", "refund", "x")]

    assert answers == ["r1", "f1", "r2", "r2", "f2"]


def test_an_agent_with_rules_and_no_match_gets_the_default_agent() -> None:
    engine = Engine()
    engine.agent("bot").when(message="exact").reply("matched")

    reply = engine.respond(make_call("other"))

    assert reply.source == "default agent (no rule matched for 'bot')"


def test_a_rule_can_fail() -> None:
    engine = Engine()
    engine.agent("bot").when(turn=2).fail(503)

    assert engine.respond(make_call(turn=1)).fault is None
    fault = engine.respond(make_call(turn=2)).fault
    assert isinstance(fault, HttpFault)
    assert fault.status == 503


@pytest.mark.parametrize(
    ("matchers", "problem"),
    [
        ({}, "agents.bot.rules[0].when: a rule needs at least one matcher"),
        ({"message_regex": "("}, "agents.bot.rules[0].when.message_regex: bad regular expression"),
        ({"turn": 0}, "agents.bot.rules[0].when.turn: turns are numbered from 1"),
    ],
)
def test_bad_matchers_are_refused_in_python(matchers: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidScript) as raised:
        Engine().agent("bot").when(**matchers)
    assert str(raised.value).startswith(problem)


def test_a_when_can_be_described() -> None:
    when = When(message_regex="^hi$", turn=3, system_instructions="x")

    assert when.describe() == "message matches '^hi$' and system_instructions are 'x' and turn is 3"
