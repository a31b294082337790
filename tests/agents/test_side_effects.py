"""Side effects: a Python callable, or an exception to raise."""

from __future__ import annotations

import pytest

from wacht_mock.agents import (
    AgentCall,
    Engine,
    HistoryTurn,
    InvalidScript,
    Reply,
    ScriptCallableError,
)

from .helpers import make_call


def test_a_callable_sees_the_request_the_context_and_its_history() -> None:
    engine = Engine()

    def answer(call: AgentCall) -> str:
        last = call.history[-1].text if call.history else "nothing"
        return f"{call.kind} '{call.message}' in {call.context.title} after {last!r}"

    engine.agent("bot").side_effect = answer
    history = (HistoryTurn("user", "hi"), HistoryTurn("assistant", "hello"))

    reply = engine.respond(make_call("next?", history=history, kind="stream"))

    assert reply.text == "stream 'next?' in Order 42 after 'hello'"
    assert reply.source == "bot side effect"
    assert engine.agent("bot").side_effect is answer


def test_a_callable_may_return_a_reply_or_a_mapping_and_they_are_templates() -> None:
    engine = Engine()
    results: list[object] = [Reply(text="{turn}"), {"text": "{agent_name}", "ask": "ok?"}]
    engine.agent("bot").side_effect = lambda call: results.pop(0)

    first, second = engine.respond(make_call(turn=4)), engine.respond(make_call())

    assert first.text == "4"
    assert (second.text, second.status) == ("bot", "waiting_for_input")


def test_a_callable_returning_none_falls_through_to_the_rules() -> None:
    engine = Engine()
    bot = engine.agent("bot")
    bot.when(message_contains="refund").reply("rule")
    bot.reply("fallback")
    bot.side_effect = lambda call: "effect" if call.turn == 1 else None

    answers = [engine.respond(make_call(m, turn=t)).text for m, t in [("refund", 1), ("refund", 2)]]

    assert answers == ["effect", "rule"]
    assert engine.respond(make_call("x", turn=2)).text == "fallback"


def test_an_exception_raised_by_the_callable_is_wrapped_naming_the_agent() -> None:
    engine = Engine()
    failure = ValueError("no stock")

    def answer(call: AgentCall) -> str:
        raise failure

    engine.agent("bot").side_effect = answer

    with pytest.raises(ScriptCallableError, match="'bot'") as raised:
        engine.respond(make_call())
    assert raised.value.origin is failure
    assert raised.value.__cause__ is failure
    assert raised.value.agent_name == "bot"


def test_a_callable_returning_something_else_is_a_callable_error() -> None:
    engine = Engine()
    engine.agent("bot").side_effect = lambda call: 42

    with pytest.raises(ScriptCallableError) as raised:
        engine.respond(make_call())
    assert isinstance(raised.value.origin, TypeError)


def test_a_callable_returning_a_bad_mapping_is_a_callable_error() -> None:
    engine = Engine()
    engine.agent("bot").side_effect = lambda call: {"txt": "typo"}

    with pytest.raises(ScriptCallableError, match="unknown reply key 'txt'") as raised:
        engine.respond(make_call())
    assert isinstance(raised.value.origin, InvalidScript)


def test_an_exception_object_is_raised_as_is() -> None:
    engine = Engine()
    failure = ConnectionError("upstream down")
    engine.agent("bot").side_effect = failure

    with pytest.raises(ConnectionError) as raised:
        engine.respond(make_call())
    assert raised.value is failure


def test_an_exception_class_is_raised_as_a_fresh_instance() -> None:
    engine = Engine()
    engine.agent("bot").side_effect = TimeoutError

    with pytest.raises(TimeoutError):
        engine.respond(make_call())


def test_clearing_the_side_effect_brings_the_script_back() -> None:
    engine = Engine()
    bot = engine.agent("bot").reply("script")
    bot.side_effect = RuntimeError("boom")
    bot.side_effect = None

    assert engine.respond(make_call()).text == "script"


def test_a_side_effect_must_be_a_callable_or_an_exception() -> None:
    with pytest.raises(TypeError, match="a side effect is a callable or an exception"):
        Engine().agent("bot").side_effect = "not callable"  # type: ignore[assignment]
