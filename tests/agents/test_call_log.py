"""The call log, reset, and thread safety."""

from __future__ import annotations

import threading

import pytest

from wacht_mock.agents import Engine, ScriptExhausted

from .helpers import make_call


def test_the_call_log_records_calls_and_replies() -> None:
    engine = Engine()
    bot = engine.agent("bot").reply("Hi {message}")

    assert (bot.called, bot.call_count, bot.calls, bot.last) == (False, 0, [], None)

    first = engine.respond(make_call("one"))
    second = engine.respond(make_call("two"))

    assert (bot.called, bot.call_count) == (True, 2)
    assert [(record.call.message, record.reply) for record in bot.calls] == [
        ("one", first),
        ("two", second),
    ]
    call, reply = bot.calls[0]
    assert (call.message, reply) == ("one", first)
    assert bot.last == (make_call("two"), second)


def test_calls_that_raise_are_logged_without_a_reply() -> None:
    engine = Engine()
    bot = engine.agent("bot").replies(["only"])
    engine.respond(make_call())

    with pytest.raises(ScriptExhausted):
        engine.respond(make_call())

    assert bot.call_count == 2
    assert bot.last is not None
    assert bot.last.reply is None


def test_logs_are_per_agent_and_the_calls_list_is_a_copy() -> None:
    engine = Engine()
    engine.respond(make_call(agent="a"))
    engine.agent("a").calls.clear()

    assert engine.agent("a").call_count == 1
    assert engine.agent("b").call_count == 0


def test_reset_clears_scripts_positions_and_logs_and_handles_stay_usable() -> None:
    engine = Engine(seed=3)
    bot = engine.agent("bot").replies(["one", "two"])
    bot.when(turn=9).reply("rule")
    bot.side_effect = RuntimeError("boom")
    bot.side_effect = None
    first = engine.respond(make_call())

    engine.reset()

    assert (bot.call_count, bot.is_scripted) == (0, False)
    assert engine.respond(make_call()).source == "default agent (no script for 'bot')"
    bot.replies(["one", "two"])
    assert engine.respond(make_call()).text == "one"
    assert first.text == "one"


def test_reset_makes_replies_repeat_like_a_fresh_engine() -> None:
    engine = Engine(seed=11)
    before = [engine.respond(make_call(agent="x")) for _ in range(3)]
    engine.reset()

    assert [engine.respond(make_call(agent="x")) for _ in range(3)] == before


def test_concurrent_calls_are_all_counted_and_each_reply_is_used_once() -> None:
    engine = Engine()
    replies = [f"reply {n}" for n in range(400)]
    engine.agent("bot").replies(replies)
    barrier = threading.Barrier(8)
    seen: list[str] = []

    def worker() -> None:
        barrier.wait()
        for _ in range(50):
            seen.append(engine.respond(make_call()).text)
            engine.agent("other").reply("scripting while others answer")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert engine.agent("bot").call_count == 400
    assert sorted(seen) == sorted(replies)


def test_the_log_keeps_the_newest_calls_and_counts_them_all() -> None:
    from wacht_mock.agents.calllog import CallLog

    log = CallLog(size=3)
    calls = [make_call(message=f"m{n}") for n in range(5)]
    for call in calls:
        log.record(call, None)
    assert log.call_count == 5
    assert [record.call.message for record in log.calls] == ["m2", "m3", "m4"]
    assert log.last is not None
    assert log.last.call.message == "m4"
    log.clear()
    assert (log.call_count, log.calls, log.last) == (0, [], None)
