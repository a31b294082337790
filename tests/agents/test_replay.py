"""Recorded replies in a script: rules on the kind and the context, strict misses, recorded
chunks and timing."""

from __future__ import annotations

import pytest

from tests.agents.helpers import load_yaml, make_call
from wacht_mock.agents import Engine, InvalidScript, ReplayMiss

RECORDED = """
agents:
  bot:
    strict: true
    rules:
      - when: {context_id: "1", kind: new_message, message: "Help me reset my password"}
        reply: {text: "Which email?", chunking: ["Which ", "email?"], timing: [0.1, 0.2, 0.3, 0.4]}
      - when: {context_id: "1", kind: stream, message: "Help me reset my password"}
        reply: "Streamed"
      - when: {context_id: "2", kind: continue}
        reply: "Continued"
"""


@pytest.fixture
def engine() -> Engine:
    engine = Engine()
    load_yaml(engine, RECORDED)
    return engine


def test_recorded_rules_match_on_message_kind_and_context(engine: Engine) -> None:
    password = "Help me reset my password"
    reply = engine.respond(make_call(password, context_id="1"))
    assert (reply.text, reply.chunks(), reply.timing) == (
        "Which email?",
        ("Which ", "email?"),
        (0.1, 0.2, 0.3, 0.4),
    )
    assert engine.respond(make_call(password, context_id="1", kind="stream")).text == "Streamed"
    assert engine.respond(make_call(None, context_id="2", kind="continue")).text == "Continued"


def test_a_miss_names_the_agent_the_message_and_the_closest_recording(engine: Engine) -> None:
    with pytest.raises(ReplayMiss) as raised:
        engine.respond(make_call("Help me reset my pasword", context_id="1"))
    message = str(raised.value)
    assert message.startswith(
        "Replay miss: agent 'bot' has no recording of new_message 'Help me reset my pasword' "
        "in context 1 (3 recordings); the closest is rule 1 (message is 'Help me reset my password'"
    )
    assert "-message: 'Help me reset my password'\n+message: 'Help me reset my pasword'" in message
    assert " kind: 'new_message'" in message  # what agrees is shown as context
    assert raised.value.closest is not None
    assert raised.value.closest[0] == 0


def test_a_miss_on_another_context_points_at_the_context(engine: Engine) -> None:
    with pytest.raises(ReplayMiss, match=r"-context_id: '2'\n\+context_id: '9'"):
        engine.respond(make_call(None, context_id="9", kind="continue"))


def test_an_agent_that_is_not_strict_still_falls_back_to_the_default_agent() -> None:
    engine = Engine()
    load_yaml(engine, "agents: {bot: {rules: [{when: {kind: stream}, reply: streamed}]}}")
    assert engine.respond(make_call("hi")).source.startswith("default agent")


def test_recorded_chunks_that_do_not_make_up_the_text_give_way_to_words() -> None:
    engine = Engine()
    engine.agent("bot").reply("one two", chunking=("one", "three"))
    assert engine.respond(make_call()).chunks() == ("one ", "two")


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        (
            "kind",
            "shout",
            "kind: Input should be 'new_message', 'continue', 'stream' or 'user_input_response'",
        ),
        ("timing", [0.2, 0.1], "timing: offsets are seconds from the request, never decreasing"),
        ("chunking", ["a", ""], "chunking: must be"),
    ],
)
def test_bad_recorded_fields_are_refused(field: str, value: object, problem: str) -> None:
    reply: dict[str, object] = {"text": "a"}
    when: dict[str, object] = {"message": "x"}
    (when if field == "kind" else reply)[field] = value
    with pytest.raises(InvalidScript, match=problem):
        Engine().load({"bot": {"rules": [{"when": when, "reply": reply}]}})
