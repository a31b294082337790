"""What the model is given: each call's run state, the agent's declaration, and replies held
to it (tools and their input schemas, the response format, the policy's limits, feedback)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.agents.helpers import load_yaml, make_call
from wacht_mock.agents import (
    AgentCall,
    DeclarationBroken,
    Engine,
    HistoryTurn,
    InvalidScript,
    Policy,
    ReasoningBlock,
    Reply,
    ResponseFormat,
    Signal,
    TextBlock,
    Tool,
    ToolCall,
    ToolCallBlock,
)

LOOKUP = {
    "name": "lookup_order",
    "description": "Find an order",
    "input": {
        "type": "object",
        "properties": {"order_id": {"type": "string"}, "lines": {"type": "array"}},
        "required": ["order_id"],
        "additionalProperties": False,
    },
}
TICKET = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "priority": {"enum": ["low", "high"]}},
    "required": ["order_id", "priority"],
    "additionalProperties": False,
}
DECLARED = """
agents:
  bot:
    tools:
      - name: lookup_order
        description: Find an order
        input:
          type: object
          properties: {order_id: {type: string}}
          required: [order_id]
    guides: ["Answer in English.", "Never promise refunds."]
    policy: {max_iters: 4, max_output_tokens: 500}
    response_format:
      json_schema:
        name: ticket
        schema:
          type: object
          properties: {order_id: {type: string}, priority: {enum: [low, high]}}
          required: [order_id, priority]
    metadata: {team: support}
    reply:
      tool_calls: [{name: lookup_order, args: {order_id: A-42}, result: {status: shipped}}]
      structured_output: {order_id: A-42, priority: low}
"""


def test_the_run_state_holds_what_the_model_is_given() -> None:
    engine = Engine(seed=1)
    load_yaml(engine, DECLARED)
    history = (HistoryTurn("user", "hi"), HistoryTurn("assistant", blocks=(ReasoningBlock("r"),)))
    call = make_call("Where is A-42?", system_instructions="Be brief.", history=history)
    engine.respond(call)
    state = engine.agent("bot").last.run_state  # type: ignore[union-attr]
    assert state is not None
    assert state.system == (TextBlock("Be brief."),)
    assert state.guides == (TextBlock("Answer in English."), TextBlock("Never promise refunds."))
    assert list(state.history) == list(history)
    assert state.task.to_json() == {"kind": "new_message", "message": "Where is A-42?", "files": []}
    assert state.policy == Policy(max_iters=4, max_output_tokens=500)
    assert state.metadata["team"] == "support"
    assert (state.metadata["agent_name"], state.metadata["turn"]) == ("bot", 1)
    assert [tool.name for tool in state.tools] == ["lookup_order"]
    assert state.response_format.to_json()["name"] == "ticket"
    shown = state.to_json()
    assert shown["history"][1] == {
        "role": "assistant",
        "blocks": [{"type": "reasoning", "text": "r"}],
    }
    assert json.loads(json.dumps(shown)) == shown  # plain JSON


def test_no_system_block_without_instructions_and_the_empty_declaration() -> None:
    engine = Engine(seed=1)
    engine.respond(make_call("hi", system_instructions=""))
    state = engine.agent("bot").last.run_state  # type: ignore[union-attr]
    assert state is not None
    assert (state.system, state.guides, state.tools) == ((), (), ())
    assert state.response_format.to_json() == {"type": "free"}
    assert state.policy.to_json() == {
        "max_iters": None,
        "max_input_tokens": None,
        "max_output_tokens": None,
    }


def test_a_callable_receives_the_whole_state_read_only() -> None:
    engine = Engine(seed=1)
    bot = engine.agent("bot").declare(tools=[LOOKUP], guides=["Be kind."])
    seen: list[AgentCall] = []

    def answer(call: AgentCall) -> str:
        seen.append(call)
        assert call.run_state is not None
        return f"{len(call.run_state.tools)} tool, guide: {call.run_state.guides[0].text}"

    bot.side_effect = answer
    assert engine.respond(make_call("hi")).text == "1 tool, guide: Be kind."
    state = seen[0].run_state
    assert state is not None
    with pytest.raises(TypeError):
        state.metadata["agent_name"] = "other"  # type: ignore[index]
    with pytest.raises(AttributeError):
        state.system = ()  # type: ignore[misc]


def test_a_tool_call_with_a_wrong_argument_type_is_refused_at_load_time() -> None:
    engine = Engine()
    script = DECLARED.replace("args: {order_id: A-42}", "args: {order_id: 42}")
    with pytest.raises(InvalidScript) as caught:
        load_yaml(engine, script)
    assert str(caught.value) == (
        "test.yaml: agents.bot.reply.tool_calls[0].args: tool 'lookup_order': argument "
        "/order_id: 42 is not of type 'string'"
    )
    assert not engine.agent("bot").is_scripted  # nothing loaded


def test_an_undeclared_tool_is_refused_with_what_was_meant() -> None:
    bot = Engine().agent("bot").declare(tools=[LOOKUP])
    with pytest.raises(InvalidScript) as caught:
        bot.reply(tool_calls=[ToolCall("lookup_ordr", {"order_id": "A-1"})])
    assert caught.value.path == "agents.bot.reply.tool_calls[0].name"
    assert "tool 'lookup_ordr' is not declared by the agent (did you mean 'lookup_order'?)" in str(
        caught.value
    )
    assert not bot.is_scripted


def test_the_pointer_names_the_bad_argument_deep_inside() -> None:
    tool = Tool(
        "t",
        input={
            "type": "object",
            "properties": {"a/b": {"type": "array", "items": {"type": "integer"}}},
        },
    )
    bot = Engine().agent("bot").declare(tools=[tool])
    with pytest.raises(InvalidScript, match=r"argument /a~1b/1: 'x' is not of type 'integer'"):
        bot.reply(tool_calls=[ToolCall("t", {"a/b": [1, "x"]})])


def test_declaring_tools_after_the_replies_checks_them() -> None:
    bot = Engine().agent("bot")
    bot.reply(tool_calls=[ToolCall("lookup_order", {"order_id": 7})])
    with pytest.raises(InvalidScript, match=r"tool_calls\[0\]\.args"):
        bot.declare(tools=[LOOKUP])
    assert bot.declaration.tools == ()  # the declaration is unchanged


def test_template_arguments_are_checked_when_rendered() -> None:
    engine = Engine(seed=1)
    bot = engine.agent("bot").declare(tools=[LOOKUP])
    bot.reply(tool_calls=[ToolCall("lookup_order", {"order_id": "{turn}", "lines": "{message}"})])
    with pytest.raises(DeclarationBroken) as caught:
        engine.respond(make_call("two"))
    assert (
        "tool_calls[0].args: tool 'lookup_order': argument /lines: 'two' is not of type 'array'"
        in str(caught.value)
    )
    assert bot.call_count == 1  # the call is logged, with its run state
    assert bot.last is not None
    assert bot.last.reply is None
    assert bot.last.run_state is not None


def test_a_callable_reply_breaking_the_declaration_is_a_script_error() -> None:
    engine = Engine(seed=1)
    bot = engine.agent("bot").declare(tools=[LOOKUP])
    bot.side_effect = lambda call: Reply(tool_calls=[ToolCall("refund", {})])
    with pytest.raises(
        DeclarationBroken,
        match="tool 'refund' is not declared by the agent; it declares lookup_order",
    ):
        engine.respond(make_call())


def test_a_tool_call_given_as_a_mapping_in_python_is_a_type_error() -> None:
    bot = Engine().agent("bot")
    with pytest.raises(TypeError, match=r"tool_calls\[0\]: a tool call is a ToolCall, not dict"):
        bot.reply(tool_calls=[{"name": "t"}])  # type: ignore[list-item]
    bot.reply({"tool_calls": [{"name": "t"}]})  # a whole reply as a mapping is fine
    assert bot.is_scripted


def test_without_declared_tools_any_tool_may_be_called() -> None:
    engine = Engine(seed=1)
    engine.agent("bot").reply(tool_calls=[ToolCall("anything", {"x": 1})])
    assert engine.respond(make_call()).tool_calls[0].name == "anything"


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("tool", "[]", "agents.bot: unknown agent key 'tool' (did you mean 'tools'?)"),
        (
            "tools",
            "[{name: t, inptu: {}}]",
            "agents.bot.tools[0]: unknown tool key 'inptu' (did you mean 'input'?)",
        ),
        (
            "tools",
            "[{name: t, input: {type: objekt}}]",
            "agents.bot.tools[0].input: not a valid JSON Schema",
        ),
        ("tools", "[{name: t}, {name: t}]", "agents.bot.tools[1].name: tool 't' twice"),
        (
            "policy",
            "{max_iter: 3}",
            "agents.bot.policy: unknown policy key 'max_iter' (did you mean 'max_iters'?)",
        ),
        (
            "policy",
            "{max_iters: 0}",
            "agents.bot.policy.max_iters: Input should be greater than or equal to 1",
        ),
        (
            "response_format",
            "json_objekt",
            "agents.bot.response_format: unknown response format 'json_objekt' "
            "(did you mean 'json_object'?)",
        ),
        (
            "response_format",
            "json_schema",
            "agents.bot.response_format: json_schema needs a name and a schema",
        ),
        (
            "response_format",
            "{json_schema: {schema: {}}}",
            "agents.bot.response_format.json_schema: missing required key 'name'",
        ),
        ("guides", "[{text: hi}]", "agents.bot.guides[0]: Input should be a valid string"),
    ],
)
def test_a_bad_declaration_is_refused_with_the_file_and_the_place(
    key: str, value: str, problem: str
) -> None:
    engine = Engine()
    with pytest.raises(InvalidScript) as caught:
        load_yaml(engine, f"agents:\n  bot:\n    {key}: {value}\n    reply: hi\n")
    assert str(caught.value).startswith(f"test.yaml: {problem}"), str(caught.value)


def test_a_json_schema_reply_is_generated_from_the_format_when_the_script_gives_none() -> None:
    engine = Engine(seed=3)
    engine.agent("bot").declare(
        response_format={"json_schema": {"name": "ticket", "schema": TICKET}}
    )
    engine.agent("bot").reply()
    reply = engine.respond(make_call())
    assert set(reply.structured_output) == {"order_id", "priority"}
    assert reply.structured_output["priority"] in ("low", "high")
    assert json.loads(reply.text) == reply.structured_output


def test_the_default_agent_keeps_to_the_response_format() -> None:
    def first(seed: int) -> Any:
        engine = Engine(seed=seed)
        engine.agent("bot").declare(response_format=ResponseFormat.json_schema("ticket", TICKET))
        return engine.respond(make_call()).structured_output

    assert first(5) == first(5)
    assert set(first(5)) == {"order_id", "priority"}
    engine = Engine()
    engine.agent("bot").declare(response_format="json_object")
    assert engine.respond(make_call()).structured_output == {}


def test_a_reply_outside_the_response_format_is_refused() -> None:
    bot = (
        Engine().agent("bot").declare(response_format=ResponseFormat.json_schema("ticket", TICKET))
    )
    with pytest.raises(
        InvalidScript,
        match=r"agents\.bot\.reply\.structured_output: the json_schema response format: "
        r"does not match the schema at \$\.priority",
    ):
        bot.reply(structured_output={"order_id": "A", "priority": "urgent"})
    with pytest.raises(
        InvalidScript,
        match=r"agents\.bot\.reply\.text: "
        r"the response format is json_schema: the reply has no JSON",
    ):
        bot.reply("Sure, here you go")
    bot.reply('{{"order_id": "A", "priority": "high"}}')  # JSON text is fine (braces doubled)
    bot.reply(ask="Which order?")  # a question is not the terminal reply
    bot.reply(tool_calls=[ToolCall("lookup_order", {})])  # nor a tool call still waiting


def test_a_template_text_outside_the_format_fails_when_rendered() -> None:
    engine = Engine()
    engine.agent("bot").declare(response_format="json_object").reply("Hello {message}")
    with pytest.raises(
        DeclarationBroken, match="structured_output: the response format is json_object"
    ):
        engine.respond(make_call())


def test_the_tool_loop_stops_at_max_iters() -> None:
    engine = Engine(seed=1)
    calls = [ToolCall("t", {"n": n}, result=n) for n in range(3)]
    engine.agent("bot").declare(policy={"max_iters": 2}).reply("done", tool_calls=calls)
    reply = engine.respond(make_call())
    assert [call.args["n"] for call in reply.tool_calls] == [0, 1]
    assert (reply.text, reply.stop_reason, reply.status) == ("", "tool_use", "completed")
    assert "stopped at policy.max_iters = 2" in reply.source
    engine.agent("bot").declare(policy={"max_iters": 4})
    assert engine.respond(make_call()).text == "done"


def test_a_reply_over_the_output_limit_is_cut() -> None:
    engine = Engine(seed=1)
    engine.agent("bot").declare(policy=Policy(max_output_tokens=5))
    engine.agent("bot").reply("one two  three four five six seven", reasoning="think hard")
    reply = engine.respond(make_call())
    assert (reply.reasoning, reply.text) == ("think hard", "one two  three")
    assert (reply.stop_reason, reply.usage.output_tokens) == ("max_tokens", 5)
    engine.agent("bot").reply("short")
    assert engine.respond(make_call()).stop_reason == "end_turn"


def test_a_run_over_the_input_limit_fails() -> None:
    engine = Engine(seed=1)
    engine.agent("bot").declare(policy=Policy(max_input_tokens=3)).reply("ok")
    reply = engine.respond(make_call("a message of six words here"))
    assert (reply.status, reply.stop_reason, reply.text, reply.usage.output_tokens) == (
        "failed",
        "max_tokens",
        "",
        0,
    )
    assert engine.respond(make_call("hi")).text == "ok"


def test_guides_count_as_input() -> None:
    engine = Engine(seed=1)
    engine.agent("bot").reply("ok")
    plain = engine.respond(make_call("hi")).usage.input_tokens
    engine.agent("bot").declare(guides=["three more words"])
    assert engine.respond(make_call("hi")).usage.input_tokens == plain + 3


def test_feedback_signals_come_with_the_reply() -> None:
    engine = Engine(seed=1)
    load_yaml(
        engine,
        """
        agents:
          bot:
            reply:
              text: Fixed it
              feedback: [{kind: test, message: 3 passed, data: {passed: 3}}, {kind: lint}]
        """,
    )
    assert engine.respond(make_call()).feedback == (
        Signal("test", "3 passed", {"passed": 3}),
        Signal("lint", ""),
    )
    with pytest.raises(
        InvalidScript,
        match=r"agents\.bot\.reply\.feedback\[0\]\.kind: a feedback signal needs a kind",
    ):
        engine.agent("bot").reply("x", feedback=[{"message": "no kind"}])  # type: ignore[list-item]


def test_what_a_reader_does_with_the_json_changes_no_declaration_or_turn() -> None:
    engine = Engine(seed=1)
    bot = engine.agent("bot").declare(tools=[LOOKUP], metadata={"team": {"name": "support"}})
    history = (
        HistoryTurn("assistant", blocks=(ToolCallBlock("c1", "lookup_order", {"id": "A"}),)),
    )
    engine.respond(make_call(history=history))
    state = bot.last.run_state  # type: ignore[union-attr]
    assert state is not None
    shown = state.to_json()
    shown["metadata"]["team"]["name"] = "changed"
    shown["history"][0]["blocks"][0]["args"]["id"] = "changed"
    shown["tools"][0]["input"]["type"] = "changed"
    again = state.to_json()
    assert again["metadata"]["team"] == {"name": "support"}
    assert again["history"][0]["blocks"][0]["args"] == {"id": "A"}
    assert bot.declaration.metadata["team"] == {"name": "support"}
    assert again["tools"][0]["input"]["type"] == "object"


def test_a_declared_schema_is_the_agents_own_copy() -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {"id": {"type": "string"}}}
    bot = Engine().agent("bot").declare(tools=[{"name": "t", "input": schema}])
    schema["properties"]["id"]["type"] = "integer"  # the caller's dict, changed later
    assert bot.declaration.tools[0].input["properties"]["id"]["type"] == "string"
    with pytest.raises(InvalidScript, match="argument /id: 7 is not of type 'string'"):
        bot.reply(tool_calls=[ToolCall("t", {"id": 7})])


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        (
            "feedback: [{kind: test, data: {when: 2024-01-01}}]",
            "agents.bot.reply.feedback[0].data: must be JSON: date",
        ),
        (
            "tools: [{name: t, input: {properties: {d: {default: 2024-01-01}}}}]",
            "agents.bot.tools[0].input: must be JSON: date",
        ),
        (
            "tool_calls: [{name: t, result: {shipped: 2024-01-05}}]",
            "agents.bot.reply.tool_calls[0].result: must be JSON: date",
        ),
        (
            "tool_calls: [{name: t, args: {day: 2024-01-05}}]",
            "agents.bot.reply.tool_calls[0].args: must be JSON: date",
        ),
        (
            "structured_output: {due: 2024-01-05}",
            "agents.bot.reply.structured_output: must be JSON: date",
        ),
    ],
)
def test_a_value_that_is_not_json_is_refused_when_the_script_loads(
    script: str, problem: str
) -> None:
    key, _, value = script.partition(": ")
    in_reply = key in ("feedback", "tool_calls", "structured_output")
    where = "reply:\n      text: hi\n      " if in_reply else ""
    text = f"agents:\n  bot:\n    {where}{key}: {value}\n"
    if not in_reply:
        text += "    reply: hi\n"
    with pytest.raises(InvalidScript) as caught:
        load_yaml(Engine(), text)
    assert str(caught.value).startswith(f"test.yaml: {problem}"), str(caught.value)


def test_python_values_that_are_not_json_are_refused_by_name() -> None:
    bot = Engine().agent("bot")
    with pytest.raises(InvalidScript, match=r"agents\.bot\.metadata: must be JSON"):
        bot.declare(metadata={"v": float("nan")})
    with pytest.raises(InvalidScript, match=r"data: must be JSON: set"):
        Signal("test", "m", data={1, 2})
    with pytest.raises(InvalidScript, match=r"args: must be JSON: bytes"):
        ToolCall("t", {"blob": b"\x00"})
    with pytest.raises(InvalidScript, match=r"result: must be JSON: UUID"):
        ToolCall("t", result=uuid.UUID(int=1))
    with pytest.raises(InvalidScript, match=r"structured_output: must be JSON: set"):
        Reply("ok", structured_output={"tags": {"a"}})
    assert ToolCall("t", {"ids": (1, 2)}).args == {"ids": [1, 2]}  # as JSON has it: a list
    with pytest.raises(TypeError, match="guides is a list of texts, not one str"):
        bot.declare(guides="Be kind.")  # type: ignore[arg-type]
    with pytest.raises(InvalidScript, match=r"metadata\.turn: is the run's own fact"):
        bot.declare(metadata={"turn": 3})
    assert bot.declaration.metadata == {}  # nothing half-declared


@pytest.mark.parametrize(
    ("build", "place"),
    [
        (lambda: Reply("hi \ud800"), "text"),
        (lambda: Reply("hi", reasoning="\udfff"), "reasoning"),
        (lambda: ToolCall("t", {"q": "\ud800"}), "args"),
        (lambda: ToolCall("t", result=["\ud800"]), "result"),
        (lambda: Reply("ok", structured_output={"k": "\ud800"}), "structured_output"),
    ],
)
def test_a_lone_surrogate_in_a_scripted_text_is_refused_where_it_is(build: Any, place: str) -> None:
    """No text on the wire can hold one: it was kept, and every answer holding it was a 500."""
    with pytest.raises(InvalidScript, match=rf"{place}.*lone UTF-16 surrogate"):
        build()
