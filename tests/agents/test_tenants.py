"""Tenants: one shared script, a run (sequence positions, call numbers, call log) per tenant."""

from __future__ import annotations

import gc
import weakref

import pytest

from tests.agents.helpers import make_call
from wacht_mock.agents import Engine, InvalidScript


def test_each_tenant_walks_a_sequence_from_its_start() -> None:
    engine = Engine()
    engine.agent("bot").replies(["one", "two", "three"])
    said = [
        (tenant, engine.respond(make_call(), tenant).text) for tenant in ("a", "a", "b", "a", "b")
    ]
    assert said == [("a", "one"), ("a", "two"), ("b", "one"), ("a", "three"), ("b", "two")]


def test_a_tenant_gets_the_generated_replies_a_fresh_engine_gives() -> None:
    engine = Engine(seed=9)
    first_of_a = engine.respond(make_call(), "a").text
    engine.respond(make_call(), "a")
    assert engine.respond(make_call(), "b").text == first_of_a
    assert Engine(seed=9).respond(make_call()).text == first_of_a


def test_call_logs_per_tenant_and_all_together_in_call_order() -> None:
    engine = Engine()
    for tenant, message in [("a", "a1"), ("b", "b1"), (None, "n1"), ("a", "a2")]:
        engine.respond(make_call(message), tenant)
    bot = engine.agent("bot")
    assert [record.call.message for record in bot.calls] == ["a1", "b1", "n1", "a2"]
    assert bot.call_count == 4
    assert bot.last is not None
    assert bot.last.call.message == "a2"
    assert [record.call.message for record in bot.calls_in("a")] == ["a1", "a2"]
    assert bot.call_count_in("b") == 1
    assert bot.calls_in("nobody") == []


def test_the_shared_log_keeps_the_newest_calls_of_every_tenant() -> None:
    engine = Engine(call_log_size=3)
    for n in range(4):
        engine.respond(make_call(f"a{n}"), "a")
        engine.respond(make_call(f"b{n}"), "b")
    assert [r.call.message for r in engine.agent("bot").calls] == ["b2", "a3", "b3"]
    assert engine.agent("bot").call_count == 8


def test_resetting_a_tenant_forgets_its_run_only() -> None:
    engine = Engine()
    engine.agent("bot").replies(["one", "two"])
    engine.respond(make_call(), "a")
    engine.respond(make_call(), "b")
    engine.reset("a")
    bot = engine.agent("bot")
    assert bot.call_count_in("a") == 0
    assert bot.call_count == 1
    assert engine.respond(make_call(), "a").text == "one"
    assert engine.respond(make_call(), "b").text == "two"


def test_a_tenant_may_have_scripts_of_its_own() -> None:
    engine = Engine()
    engine.agent("bot").reply("shared")
    engine.load({"bot": {"reply": "only a's"}}, source="a.yaml", tenant="a")
    assert engine.respond(make_call(), "a").text == "only a's"
    assert engine.respond(make_call(), "b").text == "shared"
    assert engine.respond(make_call()).text == "shared"
    engine.reset("a")
    assert engine.respond(make_call(), "a").text == "shared"


def test_loading_several_mappings_is_all_or_nothing() -> None:
    engine = Engine()
    engine.agent("bot").reply("before")
    with pytest.raises(InvalidScript) as raised:
        engine.load_all(
            [
                (None, {"bot": {"reply": "after"}}, ""),
                ("a", {"bot": {"reply": {"txt": "typo"}}}, "deployments.wk_test_a"),
            ],
            source="f.yaml",
        )
    assert str(raised.value).startswith("f.yaml: deployments.wk_test_a.agents.bot.reply")
    assert engine.respond(make_call(), "a").text == "before"


def test_a_reset_frees_the_scripts_nobody_holds() -> None:
    engine = Engine()
    for n in range(200):
        engine.respond(make_call(agent=f"agent-{n}"), "a")
    gone = weakref.ref(engine.agent("agent-7"))
    engine.reset()
    gc.collect()
    assert gone() is None
    assert all(engine.find(f"agent-{n}") is None for n in range(200))


def test_a_script_held_across_a_reset_still_works() -> None:
    engine = Engine()
    bot = engine.agent("bot")
    bot.reply("before")
    engine.respond(make_call())
    engine.reset()
    assert bot.call_count == 0
    bot.reply("after")
    assert engine.respond(make_call()).text == "after"
    assert engine.agent("bot") is bot
    assert bot.call_count == 1
