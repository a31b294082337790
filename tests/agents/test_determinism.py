"""Seeds, the default agent and strict mode."""

from __future__ import annotations

import pytest

from wacht_mock.agents import AgentNotScripted, Engine, NoRuleMatched, RenderedReply, Usage

from .helpers import load_yaml, make_call

SCRIPT = """
agents:
  bot:
    rules:
      - when: {message_contains: data}
        reply:
          schema:
            type: object
            required: [who, when]
            properties: {who: {type: string}, when: {type: string, format: date-time}}
    reply:
      text: "{faker.name} ({faker.email}): {faker.sentence}"
      reasoning: "{faker.paragraph}"
      tool_calls: [{name: lookup, args: {id: "{faker.uuid4}"}}]
"""


def run(seed: int | None, agents: list[str]) -> list[RenderedReply]:
    engine = Engine(seed=seed)
    load_yaml(engine, SCRIPT)
    messages = ["hi", "data please", "again"]
    return [engine.respond(make_call(m, agent=a)) for a in agents for m in messages]


def test_same_seed_and_calls_give_identical_replies() -> None:
    first = run(7, ["bot", "unscripted"])
    second = run(7, ["bot", "unscripted"])

    assert first == second
    assert [repr(reply) for reply in first] == [repr(reply) for reply in second]


def test_each_call_renders_differently() -> None:
    replies = run(7, ["bot"])

    assert replies[0].text != replies[2].text
    assert replies[0].tool_calls[0].id != replies[2].tool_calls[0].id


def test_a_different_seed_gives_different_replies() -> None:
    assert [r.text for r in run(1, ["unscripted"])] != [r.text for r in run(2, ["unscripted"])]
    assert run(1, ["bot"])[0].text != run(2, ["bot"])[0].text


def test_no_seed_is_seed_zero() -> None:
    assert run(None, ["bot", "other"]) == run(0, ["bot", "other"])


def test_one_agents_calls_do_not_shift_another_agents_replies() -> None:
    alone = run(3, ["bot"])
    after_others = run(3, ["unscripted", "bot"])[3:]

    assert alone == after_others


def test_the_seed_can_be_changed_later() -> None:
    engine = Engine()
    engine.seed = 5
    load_yaml(engine, SCRIPT)

    assert engine.respond(make_call("hi")) == run(5, ["bot"])[0]


def test_the_default_agent_answers_unscripted_agents_plausibly() -> None:
    engine = Engine(seed=1)

    reply = engine.respond(make_call("Hello there", agent="helper", system_instructions="Be brief"))

    assert reply.source == "default agent (no script for 'helper')"
    assert len(reply.text.split()) >= 5
    assert reply.text.endswith(".")
    assert reply.usage == Usage(input_tokens=4, output_tokens=len(reply.text.split()))
    assert (reply.stop_reason, reply.status, reply.tool_calls, reply.fault) == (
        "end_turn",
        "completed",
        (),
        None,
    )
    assert reply.chunks()


def test_strict_mode_makes_an_unscripted_agent_an_error() -> None:
    engine = Engine(strict=True)

    with pytest.raises(AgentNotScripted) as raised:
        engine.respond(make_call(agent="ghost"))

    assert raised.value.agent_name == "ghost"
    assert str(raised.value) == "Agent ghost not found"
    assert engine.agent("ghost").call_count == 1


def test_strict_mode_makes_an_unmatched_call_an_error() -> None:
    engine = Engine(strict=True)
    engine.agent("bot").when(message="exact").reply("ok")

    assert engine.respond(make_call("exact")).text == "ok"
    with pytest.raises(NoRuleMatched, match="'bot': no rule matched") as raised:
        engine.respond(make_call("other"))
    assert raised.value.agent_name == "bot"


def test_strict_can_be_switched_on_later() -> None:
    engine = Engine()
    engine.respond(make_call())
    engine.strict = True

    with pytest.raises(AgentNotScripted):
        engine.respond(make_call())


def test_strict_mode_still_honours_an_explicit_fall_back_to_the_default_agent() -> None:
    engine = Engine(strict=True)
    engine.agent("bot").replies(["one"], when_exhausted="default")
    engine.respond(make_call())

    assert engine.respond(make_call()).source == "bot sequence, sequence exhausted: default agent"


def test_the_default_agent_leaves_the_template_cache_alone() -> None:
    from wacht_mock.agents.templating import compile_template

    engine = Engine(seed=1)
    before = compile_template.cache_info().currsize
    for turn in range(1, 30):
        engine.respond(make_call(agent="nobody", turn=turn))
    assert compile_template.cache_info().currsize == before
