"""Templating of replies from the call, the context and faker providers."""

from __future__ import annotations

import re

import pytest

from wacht_mock.agents import Engine, InvalidScript, Reply, ToolCall

from .helpers import load_yaml, make_call


def rendered(template: str, **call: object) -> str:
    engine = Engine()
    engine.agent("bot").reply(template)
    return engine.respond(make_call(**call)).text  # type: ignore[arg-type]


def test_call_and_context_fields() -> None:
    template = (
        "{message}|{agent_name}|{turn}|{context.title}|{context.context_group}|"
        "{context.system_instructions}|{context.id}|{context.status}"
    )

    text = rendered(
        template, message="hi", turn=3, context_group="support", system_instructions="Be kind"
    )

    assert text == "hi|bot|3|Order 42|support|Be kind|7311227281219858432|active"


def test_missing_values_render_empty() -> None:
    assert rendered("[{message}][{context.context_group}]", message=None, kind="continue") == "[][]"


def test_faker_providers() -> None:
    text = rendered("{faker.name} <{faker.email}> says: {faker.sentence}")

    assert re.fullmatch(r"[\w. '-]+ <\S+@\S+> says: [A-Z][\w ]+\.", text)


def test_braces_are_escaped_by_doubling() -> None:
    assert rendered('{{"order": "{message}"}}', message="A1") == '{"order": "A1"}'


def test_reasoning_ask_and_tool_arguments_are_templates_too() -> None:
    engine = Engine()
    load_yaml(
        engine,
        """
        agents:
          bot:
            reply:
              reasoning: "Turn {turn}"
              ask: "Is {context.title} right?"
              tool_calls:
                - name: search
                  args: {q: "{message}", filters: [{by: "{agent_name}"}], limit: 5}
        """,
    )

    reply = engine.respond(make_call("shoes", turn=2))

    assert (reply.reasoning, reply.ask) == ("Turn 2", "Is Order 42 right?")
    assert reply.tool_calls[0].args == {"q": "shoes", "filters": [{"by": "bot"}], "limit": 5}


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{nope}", "unknown template field 'nope'"),
        ("{context.owner}", "unknown template field 'context.owner'"),
        ("{context}", "unknown template field 'context'"),
        ("{message.upper}", "unknown template field 'message.upper'"),
        ("{context.title[0]}", "unknown template field 'context.title[0]'"),
        ("{0}", "unknown template field '0'"),
        ("{}", "unknown template field ''"),
        (
            "{faker.nmae}",
            "unknown template field 'faker.nmae': no such faker provider"
            " (did you mean 'faker.name'?)",
        ),
        ("{faker.zzzzzz}", "unknown template field 'faker.zzzzzz': no such faker provider"),
        ("{faker.seed_instance}", "unknown template field 'faker.seed_instance': no such faker"),
        ("{faker.pyint:d}", "field 'faker.pyint': format specs and conversions are not supported"),
        ("{faker.}", "unknown template field 'faker.'"),
        ("{faker.enum}", "unknown template field 'faker.enum': no such faker provider"),
        ("{turn:03d}", "field 'turn': format specs and conversions are not supported"),
        ("{message!r}", "field 'message': format specs and conversions are not supported"),
        ("{message", "bad template '{message': expected '}' before end of string"),
        ("a } b", "bad template 'a } b': Single '}' encountered"),
    ],
)
def test_bad_templates_are_script_errors_naming_the_field(template: str, problem: str) -> None:
    with pytest.raises(InvalidScript) as raised:
        Engine().agent("bot").reply(template)

    assert str(raised.value).startswith(f"agents.bot.reply.text: {problem}")


@pytest.mark.parametrize("field", ["reasoning", "ask"])
def test_bad_templates_in_other_fields_name_the_field(field: str) -> None:
    with pytest.raises(
        InvalidScript, match=f"agents.bot.reply.{field}: unknown template field 'x'"
    ):
        Engine().agent("bot").reply(**{field: "{x}"})  # type: ignore[arg-type]


def test_a_bad_template_in_a_file_names_the_place() -> None:
    with pytest.raises(InvalidScript) as raised:
        load_yaml(Engine(), "agents: {bot: {sequence: [ok, '{mesage}']}}")

    assert str(raised.value).startswith(
        "test.yaml: agents.bot.sequence[1].text: unknown template field 'mesage'"
    )


def test_tool_arguments_are_checked_where_they_are_defined() -> None:
    with pytest.raises(InvalidScript, match=r"^args\.q: unknown template field 'query'"):
        ToolCall("search", {"q": "{query}"})
    with pytest.raises(InvalidScript, match=r"^text: unknown"):
        Reply(text="{x}")
