"""A rendered reply held to its agent's declaration: checked, then cut by the policy.

Checks (a reply that fails one is the script's error, `DeclarationBroken`): every tool call
names a declared tool (when the agent declares any) with arguments valid against its
`input` schema; a terminal reply (no question, no tool call still waiting) satisfies the
response format. Limits (the run is cut, as a model's would be):

* `max_input_tokens`: a run whose input is over it fails before the model writes anything
  (status `failed`, stop reason `max_tokens`).
* `max_iters`: each tool call that gets its result is one turn of the tool-call loop, the
  answer one more; a reply with `max_iters` or more such calls stops after the first
  `max_iters` of them, without an answer (stop reason `tool_use`).
* `max_output_tokens`: a reply that writes more is cut to that many words (reasoning first,
  then text), its tool calls and structured output dropped (stop reason `max_tokens`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from .declaration import Declaration, Policy
from .errors import InvalidScript
from .rendered import RenderedReply, RenderedToolCall
from .reply import Reply, ToolCall
from .structured import check_generates
from .templating import fixed_value, is_fixed
from .usage import Usage

_WORD = re.compile(r"\S+")


def is_terminal(
    ask: str | None, has_text: bool, tool_calls: Sequence[RenderedToolCall | ToolCall]
) -> bool:
    """Whether a reply ends the run with an answer (the response format applies to it)."""
    return ask is None and (has_text or all(call.has_result for call in tool_calls))


def problems(reply: RenderedReply, declaration: Declaration) -> Iterator[tuple[str, str]]:
    """Where (a path in the reply) and how `reply` breaks `declaration`."""
    for index, call in enumerate(reply.tool_calls):
        problem = declaration.tool_call_problem(call.name, call.args)
        if problem is not None:
            yield f"tool_calls[{index}].{problem[0]}", problem[1]
    failed = reply.status == "failed" or reply.fault is not None
    if not failed and is_terminal(reply.ask, bool(reply.text), reply.tool_calls):
        output = declaration.output_problem(reply.structured_output)
        if output is not None:
            yield "structured_output", output


def check(reply: RenderedReply, declaration: Declaration) -> None:
    """Raise `InvalidScript` (its problems at paths in the reply) if `reply` breaks
    `declaration`."""
    found = list(problems(reply, declaration))
    if found:
        raise InvalidScript(found)


def apply_policy(reply: RenderedReply, policy: Policy) -> RenderedReply:
    """The reply as the policy lets it out."""
    limit = policy.max_input_tokens
    if limit is not None and reply.usage.input_tokens > limit:
        return replace(
            reply,
            text="",
            tool_calls=(),
            reasoning=None,
            structured_output=None,
            ask=None,
            feedback=(),
            usage=Usage(reply.usage.input_tokens, 0),
            stop_reason="max_tokens",
            status="failed",
            source=f"{reply.source} (input over policy.max_input_tokens = {limit})",
        )
    reply = _iterations(reply, policy.max_iters)
    return _output(reply, policy.max_output_tokens)


def _iterations(reply: RenderedReply, limit: int | None) -> RenderedReply:
    if limit is None:
        return reply
    ran = [index for index, call in enumerate(reply.tool_calls) if call.has_result]
    if len(ran) < limit:
        return reply
    kept = reply.tool_calls[: ran[limit - 1] + 1]
    return replace(
        reply,
        text="",
        tool_calls=kept,
        structured_output=None,
        ask=None,
        stop_reason="tool_use",
        status="completed",
        source=f"{reply.source} (stopped at policy.max_iters = {limit})",
    )


def _output(reply: RenderedReply, limit: int | None) -> RenderedReply:
    if limit is None or reply.usage.output_tokens <= limit:
        return reply
    budget = limit
    reasoning, budget = _cut(reply.reasoning, budget)
    text, budget = _cut(reply.text, budget)
    return replace(
        reply,
        text=text or "",
        reasoning=reasoning,
        tool_calls=(),
        structured_output=None,
        usage=Usage(reply.usage.input_tokens, limit),
        stop_reason="max_tokens",
        source=f"{reply.source} (cut at policy.max_output_tokens = {limit})",
    )


def _cut(text: str | None, budget: int) -> tuple[str | None, int]:
    """The first `budget` words of `text` (its spacing kept), and the budget left."""
    if text is None:
        return None, budget
    words = list(_WORD.finditer(text))
    if len(words) <= budget:
        return text, budget - len(words)
    return (text[: words[budget - 1].end()] if budget else ""), 0


def check_scripted(reply: Reply, declaration: Declaration) -> None:
    """What can be checked of a scripted reply before any call (its parts without template
    fields); the rest is checked on every rendered reply. Raises `InvalidScript`."""
    found: list[tuple[str, str]] = []
    for index, call in enumerate(reply.tool_calls):
        args = fixed_value(call.args) if is_fixed(call.args) else None
        problem = declaration.tool_call_problem(call.name, args if args is not None else {})
        if problem is not None and (problem[0] == "name" or args is not None):
            found.append((f"tool_calls[{index}].{problem[0]}", problem[1]))
    terminal = is_terminal(reply.ask, reply.text is not None, reply.tool_calls)
    schema = declaration.response_format.output_schema
    if terminal and schema is not None and reply.fault is None and reply.status != "failed":
        found += _format_problems(reply, declaration, schema)
    if found:
        raise InvalidScript(found)


def _format_problems(
    reply: Reply, declaration: Declaration, schema: Mapping[str, Any]
) -> list[tuple[str, str]]:
    if reply.structured_output is not None:
        problem = declaration.output_problem(reply.structured_output)
        return [] if problem is None else [("structured_output", problem)]
    if reply.text is not None:
        if not is_fixed(reply.text):
            return []
        problem = declaration.output_problem(parse_json(fixed_value(reply.text)))
        return [] if problem is None else [("text", problem)]
    if reply.schema is not None:
        return []  # generated from its own schema, checked against the format when rendered
    try:
        check_generates(schema)
    except InvalidScript as error:
        return [("response_format", error.problem)]
    return []


def parse_json(text: str) -> Any:
    """The JSON value a reply's text is, or None if it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return None
