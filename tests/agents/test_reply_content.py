"""What a reply holds: text, tool calls, reasoning, usage, stop reason, ask, status."""

from __future__ import annotations

import re

import pytest

from wacht_mock.agents import (
    NO_RESULT,
    Engine,
    HistoryTurn,
    InvalidScript,
    RenderedReply,
    Reply,
    ToolCall,
    Usage,
)

from .helpers import load_yaml, make_call


def reply_from_yaml(body: str, **call: object) -> RenderedReply:
    engine = Engine()
    load_yaml(engine, f"agents:\n  bot:\n    reply:\n{body}")
    return engine.respond(make_call(**call))  # type: ignore[arg-type]


def reply_from_python(reply: Reply, **call: object) -> RenderedReply:
    engine = Engine()
    engine.agent("bot").reply(reply)
    return engine.respond(make_call(**call))  # type: ignore[arg-type]


def test_a_tool_call_with_its_result_then_text() -> None:
    from_yaml = reply_from_yaml(
        """
          text: "Order {message} has shipped."
          tool_calls:
            - name: lookup_order
              args: {id: "{message}", n: 1}
              id: call_1
              result: {status: shipped}
        """,
        message="A1",
    )
    from_python = reply_from_python(
        Reply(
            text="Order {message} has shipped.",
            tool_calls=[
                ToolCall(
                    "lookup_order", {"id": "{message}", "n": 1}, "call_1", {"status": "shipped"}
                )
            ],
        ),
        message="A1",
    )

    assert from_yaml == from_python
    (tool_call,) = from_yaml.tool_calls
    assert (tool_call.id, tool_call.name, tool_call.args) == (
        "call_1",
        "lookup_order",
        {"id": "A1", "n": 1},
    )
    assert (tool_call.has_result, tool_call.result) == (True, {"status": "shipped"})
    assert from_yaml.stop_reason == "end_turn"
    assert from_yaml.status == "completed"


def test_a_tool_call_without_result_stops_for_the_tool() -> None:
    reply = reply_from_yaml("      tool_calls: [{name: cancel_order, args: {order: A1}}]")

    (tool_call,) = reply.tool_calls
    assert (tool_call.has_result, tool_call.result) == (False, None)
    assert re.fullmatch(r"call_[0-9a-f]{24}", tool_call.id)
    assert reply.text == ""
    assert reply.stop_reason == "tool_use"
    assert ToolCall("x").result is NO_RESULT


def test_a_null_result_is_still_a_result() -> None:
    reply = reply_from_yaml("      tool_calls: [{name: ping, result: null}]")

    assert reply.tool_calls[0].has_result
    assert reply.stop_reason == "end_turn"


def test_two_tool_calls_get_different_seeded_ids() -> None:
    reply = reply_from_python(Reply(tool_calls=[ToolCall("a"), ToolCall("b")]))

    assert reply.tool_calls[0].id != reply.tool_calls[1].id


def test_reasoning_is_rendered() -> None:
    reply = reply_from_yaml('      {text: ok, reasoning: "The user said {message}."}', message="hi")

    assert reply.reasoning == "The user said hi."


def test_usage_as_given() -> None:
    assert reply_from_python(Reply(text="a b c", usage=Usage(10, 20))).usage == Usage(10, 20)
    yaml_usage = reply_from_yaml(
        "      {text: a, usage: {input_tokens: 3, output_tokens: 4}}"
    ).usage
    assert yaml_usage == Usage(3, 4)


def test_usage_from_word_counts_when_not_given() -> None:
    history = (HistoryTurn("user", "one two"), HistoryTurn("assistant", "three"))
    reply = reply_from_python(
        Reply(text="four five six", reasoning="seven", tool_calls=[ToolCall("t", {"k": "v"})]),
        message="eight nine",
        system_instructions="Be kind",
        history=history,
    )

    assert reply.usage == Usage(input_tokens=2 + 2 + 1 + 2, output_tokens=3 + 1 + 2)


@pytest.mark.parametrize(
    ("reply", "stop_reason"),
    [
        (Reply(text="done"), "end_turn"),
        (Reply(tool_calls=[ToolCall("t")]), "tool_use"),
        (Reply(text="let me check", tool_calls=[ToolCall("t")]), "end_turn"),
        (Reply(tool_calls=[ToolCall("t", result=1)]), "end_turn"),
        (Reply(ask="which one?"), "user_input"),
        (Reply(text="cut off", stop_reason="max_tokens"), "max_tokens"),
        (Reply(text="STOP", stop_reason="stop_sequence"), "stop_sequence"),
    ],
)
def test_stop_reasons_derived_or_given(reply: Reply, stop_reason: str) -> None:
    assert reply_from_python(reply).stop_reason == stop_reason


def test_an_ask_waits_for_input_and_is_the_text_by_default() -> None:
    reply = reply_from_yaml('      {ask: "Which email, {faker.first_name}?"}')

    assert reply.status == "waiting_for_input"
    assert reply.stop_reason == "user_input"
    assert reply.ask is not None
    assert re.fullmatch(r"Which email, \w+\?", reply.ask)
    assert reply.text == reply.ask


def test_an_ask_with_its_own_text() -> None:
    reply = reply_from_python(Reply(text="I need one detail.", ask="Your order number?"))

    assert (reply.text, reply.ask) == ("I need one detail.", "Your order number?")


def test_a_failed_status_can_be_given() -> None:
    assert reply_from_yaml("      {text: sorry, status: failed}").status == "failed"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"status": "waiting_for_input"}, "status: waiting_for_input goes with an ask"),
        ({"status": "completed", "ask": "?"}, "status: waiting_for_input goes with an ask"),
        ({"status": "done"}, "status: must be one of completed, waiting_for_input, failed"),
        ({"stop_reason": "finished"}, "stop_reason: must be one of end_turn, tool_use"),
        ({"latency": -1.0}, "latency: must be 0 or more seconds"),
        ({"chunk_delay": -0.5}, "chunk_delay: must be 0 or more seconds"),
    ],
)
def test_bad_replies_are_refused_in_python(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(InvalidScript) as raised:
        Engine().agent("bot").reply(**fields)  # type: ignore[arg-type]
    assert problem in str(raised.value)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"stop_reason": "finished"}, "stop_reason: Input should be 'end_turn', 'tool_use'"),
        ({"usage": {"input_tokens": -1, "output_tokens": 0}}, "usage.input_tokens: must be 0"),
        ({"usage": {"input_tokens": 1}}, "usage: missing required key 'output_tokens'"),
        ({"latency": -1}, "latency: Input should be greater than or equal to 0, not -1"),
        ({"latency": "1s"}, "latency: Input should be a valid number, not '1s'"),
        ({"tool_calls": [{"name": ""}]}, "tool_calls[0].name: a tool call needs a name"),
        ({"tool_calls": [{"args": {}}]}, "tool_calls[0]: missing required key 'name'"),
        (
            {"tool_calls": [{"name": "t", "args": {"a": ["{oops}"]}}]},
            "tool_calls[0].args.a[0]: unknown",
        ),
        ({"tool_calls": {"name": "t"}}, "tool_calls: Input should be a valid list"),
        ({"usage": [1, 2]}, "usage: expected a mapping"),
    ],
)
def test_bad_replies_in_the_file_shape_are_refused_with_the_path(
    fields: dict[str, object], problem: str
) -> None:
    with pytest.raises(InvalidScript) as raised:
        Engine().agent("bot").reply(fields)
    assert str(raised.value).startswith(f"agents.bot.reply.{problem}")


def test_negative_usage_is_refused() -> None:
    with pytest.raises(InvalidScript, match="input_tokens: must be 0 or more"):
        Usage(-1, 0)


def test_rendered_tool_results_are_copies() -> None:
    engine = Engine()
    engine.agent("bot").reply(Reply(tool_calls=[ToolCall("t", {"a": [1]}, result={"b": [2]})]))

    first = engine.respond(make_call())
    first.tool_calls[0].args["a"].append(9)
    first.tool_calls[0].result["b"].append(9)

    assert engine.respond(make_call()).tool_calls[0].args == {"a": [1]}
    assert engine.respond(make_call()).tool_calls[0].result == {"b": [2]}


def test_the_python_keyword_fields_are_the_replys_own() -> None:
    """`reply(text, **fields)` is typed by `ReplyFields`: a mirror of `Reply` for the type
    checker, which cannot derive one; a field added to `Reply` must be added there too."""
    from dataclasses import fields

    from wacht_mock.agents.reply import ReplyFields

    assert set(ReplyFields.__annotations__) == {f.name for f in fields(Reply)} - {"text"}
