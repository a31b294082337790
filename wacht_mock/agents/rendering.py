"""Render a scripted reply for one call with that call's seeded faker."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .call import AgentCall
from .declaration import NOTHING_DECLARED, Declaration
from .errors import InvalidScript
from .kinds import ReplyStatus, StopReason
from .limits import is_terminal, parse_json
from .rendered import RenderedReply, RenderedToolCall
from .reply import Reply, ToolCall
from .structured import compact_json, structured_value
from .templating import render_template, render_templates_in
from .usage import estimate_usage

if TYPE_CHECKING:  # faker loads when first used, not with the package
    from faker import Faker


def render(
    reply: Reply,
    call: AgentCall,
    faker: Faker,
    source: str,
    declaration: Declaration = NOTHING_DECLARED,
) -> RenderedReply:
    """Fill the templates, generate what is missing and derive what is not given.

    The faker is used in a fixed order (text, reasoning, ask, tool calls, structured
    output) so that the same seed gives the same reply. Under a `json_object` or
    `json_schema` response format, a terminal reply's structured output is its text read as
    JSON, or generated from the format's schema when the reply gives neither.
    """
    text, reasoning, ask = (
        _fill(value, call, faker) for value in (reply.text, reply.reasoning, reply.ask)
    )
    tool_calls = tuple(_tool_call(tool_call, call, faker) for tool_call in reply.tool_calls)
    schema = reply.schema
    output = declaration.response_format.output_schema
    terminal = output is not None and is_terminal(ask, text is not None, tool_calls)
    if terminal and schema is None and text is None:
        schema = output
    structured = _structured(reply, schema, faker, source)
    if terminal and structured is None and text is not None:
        structured = parse_json(text)
    content = _content(text, ask, structured)
    return RenderedReply(
        text=content,
        tool_calls=tool_calls,
        reasoning=reasoning,
        structured_output=structured,
        usage=reply.usage or estimate_usage(call, content, reasoning, (t.args for t in tool_calls)),
        stop_reason=reply.stop_reason or _stop_reason(content, ask, tool_calls),
        status=reply.status or _status(ask),
        ask=ask,
        latency=reply.latency,
        chunk_delay=reply.chunk_delay,
        chunking=reply.chunking,
        fault=reply.fault,
        source=source,
        timing=None if reply.timing is None else tuple(reply.timing),
        feedback=tuple(reply.feedback),
        call=call,
    )


def _fill(template: str | None, call: AgentCall, faker: Faker) -> str | None:
    return None if template is None else render_template(template, call, faker)


def _structured(
    reply: Reply, schema: Mapping[str, Any] | None, faker: Faker, source: str
) -> object:
    try:
        return structured_value(reply.structured_output, schema, faker)
    except InvalidScript as error:
        raise error.from_source(source) from None


def _tool_call(tool_call: ToolCall, call: AgentCall, faker: Faker) -> RenderedToolCall:
    args = render_templates_in(tool_call.args, call, faker)
    call_id = tool_call.id or f"call_{faker.hexify('^' * 24)}"
    result = copy.deepcopy(tool_call.result) if tool_call.has_result else None
    return RenderedToolCall(
        call_id,
        tool_call.name,
        args,
        result,
        tool_call.has_result,
        tool_call.requires_approval,
        tool_call.client_executed,
    )


def _content(text: str | None, ask: str | None, structured: object) -> str:
    if text is not None:
        return text
    if ask is not None:
        return ask
    return "" if structured is None else compact_json(structured)


def _stop_reason(
    text: str, ask: str | None, tool_calls: tuple[RenderedToolCall, ...]
) -> StopReason:
    if ask is not None:
        return "user_input"
    pending = any(not tool_call.has_result for tool_call in tool_calls)
    return "tool_use" if pending and not text else "end_turn"


def _status(ask: str | None) -> ReplyStatus:
    return "completed" if ask is None else "waiting_for_input"
