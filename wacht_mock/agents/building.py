"""Build script objects (replies, rules, plans) from their checked specs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import InvalidScript, at
from .faults import Fault, fault_from_spec
from .matching import When
from .plans import AgentDefinition, Fixed, Plan, ReplySequence, Rule
from .reply import NO_RESULT, Reply, ToolCall
from .spec import (
    AgentSpec,
    FaultSpec,
    PlanSpec,
    ReplySpec,
    RuleSpec,
    ToolCallSpec,
    parse_agents,
    parse_reply,
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


def build_reply(spec: ReplySpec, path: str) -> Reply:
    """A `Reply` from its spec; problems are reported under `path`."""
    with at(path):
        tool_calls = [
            _tool_call(tool_call, f"tool_calls[{i}]") for i, tool_call in enumerate(spec.tool_calls)
        ]
        return Reply(
            text=spec.text,
            tool_calls=tool_calls,
            reasoning=spec.reasoning,
            structured_output=spec.structured_output,
            schema=spec.schema_,
            usage=_usage(spec),
            stop_reason=spec.stop_reason,
            status=spec.status,
            ask=spec.ask,
            latency=spec.latency,
            chunk_delay=spec.chunk_delay,
            chunking=spec.chunking,
            timing=spec.timing,
            fault=_fault(spec.fault),
        )


def _agent(spec: AgentSpec, path: str) -> AgentDefinition:
    rules = tuple(_rule(rule, f"{path}.rules[{i}]") for i, rule in enumerate(spec.rules))
    return AgentDefinition(rules, _plan(spec, path), strict=spec.strict)


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


def _tool_call(spec: ToolCallSpec, path: str) -> ToolCall:
    result = spec.result if "result" in spec.model_fields_set else NO_RESULT
    with at(path):
        return ToolCall(
            spec.name, spec.args, spec.id, result, spec.requires_approval, spec.client_executed
        )


def _usage(spec: ReplySpec) -> Usage | None:
    if spec.usage is None:
        return None
    with at("usage"):
        return Usage(spec.usage.input_tokens, spec.usage.output_tokens)


def _fault(spec: FaultSpec | None) -> Fault | None:
    if spec is None:
        return None
    with at("fault"):
        return fault_from_spec(spec)
