"""Build script objects (replies, rules, plans) from their checked specs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from .blocks import Signal
from .declaration import Declaration, Policy, ResponseFormat, Tool
from .errors import InvalidScript, at
from .faults import Fault, fault_from_spec
from .limits import check_scripted
from .matching import When
from .plans import AgentDefinition, Fixed, Plan, ReplySequence, Rule, scripted_replies
from .reply import NO_RESULT, Reply, ToolCall
from .shapes import (
    FaultSpec,
    PolicySpec,
    SpecModel,
    ToolSpec,
    UsageSpec,
    parse_policy,
    parse_response_format,
    parse_tool,
)
from .spec import (
    AgentSpec,
    PlanSpec,
    RuleSpec,
    parse_agents,
    parse_reply,
    spec_name,
)
from .usage import Usage

ReplyLike = Reply | str | Mapping[str, Any]
"""A reply as a `Reply`, a text (a template), or a mapping in the file's reply shape."""


def build_agents(spec: object, *, source: str) -> dict[str, AgentDefinition]:
    """The agent scripts of an `agents:` mapping; `InvalidScript` names the source."""
    try:
        specs = parse_agents(spec)
        return {name: _agent(agent, f"agents.{name}") for name, agent in specs.items()}
    except InvalidScript as error:
        raise error.from_source(source) from None


def as_reply(value: object) -> Reply:
    """A `Reply` from a `ReplyLike`; anything else is a `TypeError`."""
    if isinstance(value, Reply):
        return value
    if isinstance(value, str):
        return Reply(text=value)
    if isinstance(value, Mapping):
        return build_reply(parse_reply(value, ""), "")
    raise TypeError(f"a reply is a Reply, a str or a mapping, not {type(value).__name__}")


def build_reply(spec: SpecModel, path: str) -> Reply:
    """A `Reply` from its spec; problems are reported under `path`."""
    with at(path):
        values = {
            f.name: _FROM_FILES[f.name](spec)
            if f.name in _FROM_FILES
            else getattr(spec, spec_name(f.name))
            for f in fields(Reply)
        }
        return Reply(**values)


def _agent(spec: AgentSpec, path: str) -> AgentDefinition:
    with at(path):
        declaration = Declaration(
            tools=[_tool(tool, f"tools[{i}]") for i, tool in enumerate(spec.tools)],
            guides=spec.guides,
            policy=_policy(spec.policy),
            response_format=as_response_format(spec.response_format, "response_format"),
            metadata=spec.metadata,
        )
    rules = tuple(_rule(rule, f"{path}.rules[{i}]") for i, rule in enumerate(spec.rules))
    definition = AgentDefinition(rules, _plan(spec, path), spec.strict, declaration)
    check_definition(definition, path)
    return definition


def check_definition(definition: AgentDefinition, path: str) -> None:
    """Hold every scripted reply of an agent to its declaration (what can be checked before a
    call); `InvalidScript` at the reply's path."""
    plans = [(f"rules[{i}]", rule.plan) for i, rule in enumerate(definition.rules)]
    if definition.fallback is not None:
        plans.append(("", definition.fallback))
    for where, plan in plans:
        with at(path), at(where):
            check_plan(plan, definition.declaration)


def check_plan(plan: Plan, declaration: Declaration) -> None:
    """Hold the replies of one plan to a declaration."""
    for place, reply in scripted_replies(plan):
        with at(place):
            check_scripted(reply, declaration)


def as_tool(value: Tool | Mapping[str, Any]) -> Tool:
    """A `Tool` from itself or a mapping `{name, description, input}`."""
    if isinstance(value, Tool):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"a tool is a Tool or a mapping, not {type(value).__name__}")
    return _tool(parse_tool(value), "")


def as_policy(value: Policy | Mapping[str, Any]) -> Policy:
    """A `Policy` from itself or a mapping `{max_iters, max_input_tokens, max_output_tokens}`."""
    if isinstance(value, Policy):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"a policy is a Policy or a mapping, not {type(value).__name__}")
    return _policy(parse_policy(value))


def as_response_format(value: object, path: str = "") -> ResponseFormat:
    """A `ResponseFormat` from itself, `free`, `json_object`, or `{json_schema: {name,
    schema}}` (None: free)."""
    if value is None:
        return ResponseFormat()
    if isinstance(value, ResponseFormat):
        return value
    with at(path):
        if isinstance(value, str):
            if value == "json_schema":
                raise InvalidScript.at(
                    "",
                    "json_schema needs a name and a schema: "
                    "{json_schema: {name: ..., schema: {...}}}",
                )
            return ResponseFormat(value)  # type: ignore[arg-type]  # checked there
        if not isinstance(value, Mapping):
            raise InvalidScript.at(
                "", "a response format is free, json_object or {json_schema: {name, schema}}"
            )
        spec = parse_response_format(value).json_schema
        return ResponseFormat.json_schema(spec.name, spec.schema_)


def _rule(spec: RuleSpec, path: str) -> Rule:
    with at(f"{path}.when"):
        when = When(**spec.when.model_dump(exclude_none=True))
    plan = _plan(spec, path)
    assert plan is not None  # a rule's spec always has a plan
    return Rule(when, plan)


def _plan(spec: PlanSpec, path: str) -> Plan | None:
    if spec.reply is not None:
        return Fixed(build_reply(spec.reply, f"{path}.reply"))
    if spec.sequence is None:
        return None
    replies = [build_reply(reply, f"{path}.sequence[{i}]") for i, reply in enumerate(spec.sequence)]
    with at(path):
        return ReplySequence(replies, spec.when_exhausted or "error")


def _tool_call(spec: Any, path: str) -> ToolCall:
    values = {f.name: getattr(spec, f.name) for f in fields(ToolCall)}
    if "result" not in spec.model_fields_set:
        values["result"] = NO_RESULT  # absent: the agent got no result; null is a result
    with at(path):
        return ToolCall(**values)


def _tool(spec: ToolSpec, path: str) -> Tool:
    with at(path):
        return Tool(spec.name, spec.description, spec.input)


def _policy(spec: PolicySpec | None) -> Policy:
    if spec is None:
        return Policy()
    with at("policy"):
        return Policy(spec.max_iters, spec.max_input_tokens, spec.max_output_tokens)


def _signal(spec: Any, path: str) -> Signal:
    with at(path):
        return Signal(spec.kind, spec.message, spec.data)


def _usage(spec: UsageSpec | None) -> Usage | None:
    if spec is None:
        return None
    with at("usage"):
        return Usage(spec.input_tokens, spec.output_tokens)


def _fault(spec: FaultSpec | None) -> Fault | None:
    if spec is None:
        return None
    with at("fault"):
        return fault_from_spec(spec)


#: How a reply field of a file becomes the `Reply` field, where it is not the value as read.
_FROM_FILES: dict[str, Callable[[Any], Any]] = {
    "tool_calls": lambda spec: [
        _tool_call(tool_call, f"tool_calls[{i}]") for i, tool_call in enumerate(spec.tool_calls)
    ],
    "usage": lambda spec: _usage(spec.usage),
    "fault": lambda spec: _fault(spec.fault),
    "feedback": lambda spec: [_signal(s, f"feedback[{i}]") for i, s in enumerate(spec.feedback)],
}
