"""Fixed replies and sequences, scripted in Python and in YAML."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from wacht_mock.agents import Engine, Exhaustion, InvalidScript, Reply, ScriptExhausted

from .helpers import load_yaml, make_call, texts

Script = Callable[[Engine], object]


def fixed_python(engine: Engine) -> object:
    return engine.agent("bot").reply("Hello from {agent_name}")


def fixed_yaml(engine: Engine) -> None:
    load_yaml(engine, "agents: {bot: {reply: 'Hello from {agent_name}'}}")


@pytest.mark.parametrize("script", [fixed_python, fixed_yaml], ids=["python", "yaml"])
def test_a_fixed_reply_answers_every_call(script: Script) -> None:
    engine = Engine()
    script(engine)

    assert texts(engine, "one", "two", None) == ["Hello from bot"] * 3


def test_a_fixed_reply_given_as_fields_a_reply_or_a_mapping() -> None:
    engine = Engine()
    engine.agent("bot").reply(text="fields")
    assert texts(engine, "x") == ["fields"]
    engine.agent("bot").reply(Reply(text="object"))
    assert texts(engine, "x") == ["object"]
    engine.agent("bot").reply({"text": "mapping", "reasoning": "why"})
    assert engine.respond(make_call()).reasoning == "why"


def test_a_reply_object_and_fields_together_are_refused() -> None:
    with pytest.raises(TypeError, match="not both"):
        Engine().agent("bot").reply(Reply(text="a"), reasoning="b")


def test_the_last_reply_set_wins() -> None:
    engine = Engine()
    engine.agent("bot").reply("first").reply("second")

    assert texts(engine, "x") == ["second"]


def sequence_python(exhausted: Exhaustion) -> Script:
    return lambda engine: engine.agent("bot").replies(
        ["one", Reply(text="two")], when_exhausted=exhausted
    )


def sequence_yaml(exhausted: Exhaustion) -> Script:
    return lambda engine: load_yaml(
        engine,
        f"""
        agents:
          bot:
            sequence: [one, {{text: two}}]
            when_exhausted: {exhausted}
        """,
    )


@pytest.mark.parametrize("make", [sequence_python, sequence_yaml], ids=["python", "yaml"])
def test_a_sequence_that_runs_out_is_an_error_that_says_so(make: Callable[..., Script]) -> None:
    engine = Engine()
    make("error")(engine)

    assert texts(engine, "a", "b") == ["one", "two"]
    with pytest.raises(ScriptExhausted) as raised:
        engine.respond(make_call("c"))
    assert (raised.value.agent_name, raised.value.length, raised.value.call_number) == ("bot", 2, 3)
    assert str(raised.value) == (
        "agent 'bot' ran out of replies: bot sequence has 2 replies and this is call 3"
    )


@pytest.mark.parametrize("make", [sequence_python, sequence_yaml], ids=["python", "yaml"])
def test_a_sequence_can_repeat_its_last_reply(make: Callable[..., Script]) -> None:
    engine = Engine()
    make("repeat_last")(engine)

    assert texts(engine, "a", "b", "c", "d") == ["one", "two", "two", "two"]
    last = engine.agent("bot").last
    assert last is not None
    assert last.reply is not None
    assert last.reply.source == "bot sequence, reply 2 of 2 (repeated)"


@pytest.mark.parametrize("make", [sequence_python, sequence_yaml], ids=["python", "yaml"])
def test_a_sequence_can_fall_back_to_the_default_agent(make: Callable[..., Script]) -> None:
    engine = Engine()
    make("default")(engine)

    first, second, third = (engine.respond(make_call(m)) for m in "abc")

    assert (first.text, second.text) == ("one", "two")
    assert third.source == "bot sequence, sequence exhausted: default agent"
    assert len(third.text.split()) > 3


def test_the_default_exhaustion_is_an_error() -> None:
    engine = Engine()
    load_yaml(engine, "agents: {bot: {sequence: [only]}}")
    engine.respond(make_call())

    with pytest.raises(ScriptExhausted, match="1 reply and this is call 2"):
        engine.respond(make_call())


def test_sources_name_the_reply_and_its_place_in_the_sequence() -> None:
    engine = Engine()
    engine.agent("bot").replies(["a", "b", "c"], when_exhausted="repeat_last")
    engine.agent("fixed").reply("x")

    sources = [engine.respond(make_call()).source for _ in range(2)]

    assert sources == ["bot sequence, reply 1 of 3", "bot sequence, reply 2 of 3"]
    assert engine.respond(make_call(agent="fixed")).source == "fixed reply"


def test_replacing_a_sequence_starts_it_again() -> None:
    engine = Engine()
    engine.agent("bot").replies(["a", "b"])
    texts(engine, "x")
    engine.agent("bot").replies(["c", "d"])

    assert texts(engine, "x", "y") == ["c", "d"]


@pytest.mark.parametrize(
    ("replies", "exhausted", "problem"),
    [
        ([], "error", "agents.bot.sequence: a sequence needs at least one reply"),
        (["a"], "loop", "agents.bot.when_exhausted: must be one of error, repeat_last, default"),
        (["a", {"txt": "b"}], "error", "agents.bot.sequence[1]: unknown reply key 'txt'"),
    ],
)
def test_bad_sequences_are_refused_in_python(
    replies: list[object], exhausted: Exhaustion, problem: str
) -> None:
    with pytest.raises(InvalidScript) as raised:
        Engine().agent("bot").replies(replies, when_exhausted=exhausted)  # type: ignore[arg-type]
    assert str(raised.value).startswith(problem)


def test_a_reply_of_the_wrong_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="a reply is a Reply, a str or a mapping, not int"):
        Engine().agent("bot").replies(["a", 3])  # type: ignore[list-item]
