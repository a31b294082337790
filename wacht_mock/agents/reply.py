"""A scripted reply, before rendering: templates, options, faults."""

from __future__ import annotations

import enum
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from .blocks import Signal, json_copy
from .chunking import Chunking, check_chunking
from .errors import InvalidScript, at
from .faults import Fault, as_fault
from .kinds import REPLY_STATUSES, STOP_REASONS, ReplyStatus, StopReason
from .structured import check_structured
from .templating import check_template, check_templates_in
from .usage import Usage


class _NoResult(enum.Enum):
    NO_RESULT = "NO_RESULT"


NO_RESULT = _NoResult.NO_RESULT
"""The `result` of a tool call the agent made without getting a result back."""


@dataclass(frozen=True)
class ToolCall:
    """A tool call in a reply. String arguments are templates.

    With a `result` (any JSON, null included), the agent called the tool, got the
    result back and then wrote the reply's text. `id` defaults to a seeded `call_…`.
    `requires_approval`: the run stops `waiting_for_input` until an
    `approval_response` allows the tool. `client_executed`: the client runs the
    tool, and the run waits for its `platform_function_result` (no `result` here).
    """

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None
    result: Any = NO_RESULT
    requires_approval: bool = False
    client_executed: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidScript.at("name", "a tool call needs a name")
        # JSON and nothing else, as the wire has them: a date, a set or bytes are refused here,
        # not written somehow (or not at all) when a reply or the history is sent.
        object.__setattr__(self, "args", json_copy(self.args, "args"))
        if self.has_result:
            object.__setattr__(self, "result", json_copy(self.result, "result"))
        with at("args"):
            check_templates_in(self.args)
        for name in ("requires_approval", "client_executed"):
            if type(getattr(self, name)) is not bool:
                raise InvalidScript.at(name, f"must be true or false, not {getattr(self, name)!r}")
        if self.client_executed and self.has_result:
            raise InvalidScript.at(
                "result", "a client-executed tool call gets its result from the client, not here"
            )

    @property
    def has_result(self) -> bool:
        """Whether the tool call comes with its result."""
        return self.result is not NO_RESULT


@dataclass(frozen=True)
class Reply:
    """What an agent says in one turn; `text`, `reasoning`, `ask` are templates.

    `feedback`: signals about this turn (a test run, a linter, a user's rating), appended
    after the agent's turn as a tool-role turn, as the harness's `push_feedback` does.

    `timing`, for a stream: each event's offset in seconds from the request (as recorded);
    it replaces `latency` and `chunk_delay`.

    Derived when not given: the text (the `ask`, else the structured output as
    compact JSON with sorted keys, else empty), the usage (word counts), the stop
    reason (`user_input` with an `ask`; `tool_use` with tool calls lacking results
    and no text; else `end_turn`) and the status (`waiting_for_input` with an
    `ask`, else `completed`). With a `schema`, `structured_output` must validate
    against it; without a `structured_output`, one is generated from the schema.
    """

    text: str | None = None
    tool_calls: Sequence[ToolCall] = ()
    reasoning: str | None = None
    structured_output: Any = None
    schema: Mapping[str, Any] | None = None
    usage: Usage | None = None
    stop_reason: StopReason | None = None
    status: ReplyStatus | None = None
    ask: str | None = None
    latency: float = 0.0
    chunk_delay: float = 0.0
    chunking: Chunking = "word"
    timing: Sequence[float] | None = None
    fault: Fault | None = None
    feedback: Sequence[Signal] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tool_calls", tuple(self.tool_calls))
        for index, tool_call in enumerate(self.tool_calls):
            if not isinstance(tool_call, ToolCall):
                raise TypeError(
                    f"tool_calls[{index}]: a tool call is a ToolCall, not "
                    f"{type(tool_call).__name__} (a whole reply may be a mapping)"
                )
        with at("feedback"):
            signals = tuple(_signal(signal, i) for i, signal in enumerate(self.feedback))
        object.__setattr__(self, "feedback", signals)
        object.__setattr__(self, "fault", as_fault(self.fault))
        if isinstance(self.chunking, list):
            object.__setattr__(self, "chunking", tuple(self.chunking))
        if self.timing is not None:
            object.__setattr__(self, "timing", tuple(self.timing))
        for name in ("text", "reasoning", "ask"):
            with at(name):
                check_template(getattr(self, name))
        _check_options(self)
        if self.structured_output is not None:
            copied = json_copy(self.structured_output, "structured_output")
            object.__setattr__(self, "structured_output", copied)
        check_structured(self.structured_output, self.schema)


class ReplyFields(TypedDict, total=False):
    """The keyword arguments of `Reply` other than `text`."""

    tool_calls: Sequence[ToolCall]
    reasoning: str | None
    structured_output: Any
    schema: Mapping[str, Any] | None
    usage: Usage | None
    stop_reason: StopReason | None
    status: ReplyStatus | None
    ask: str | None
    latency: float
    chunk_delay: float
    chunking: Chunking
    timing: Sequence[float] | None
    fault: Fault | None
    feedback: Sequence[Signal]


def _signal(value: Any, index: int) -> Signal:
    with at(f"[{index}]"):
        return Signal.of(value)


def _check_options(reply: Reply) -> None:
    for name in ("latency", "chunk_delay"):
        if getattr(reply, name) < 0:
            raise InvalidScript.at(name, "must be 0 or more seconds")
    with at("chunking"):
        check_chunking(reply.chunking)
    timing = reply.timing or ()
    if any(b < a for a, b in itertools.pairwise(timing)) or any(t < 0 for t in timing):
        raise InvalidScript.at("timing", "offsets are seconds from the request, never decreasing")
    if reply.stop_reason is not None and reply.stop_reason not in STOP_REASONS:
        raise InvalidScript.at("stop_reason", f"must be one of {', '.join(STOP_REASONS)}")
    _check_status(reply.status, reply.ask)


def _check_status(status: ReplyStatus | None, ask: str | None) -> None:
    if status is not None and status not in REPLY_STATUSES:
        raise InvalidScript.at("status", f"must be one of {', '.join(REPLY_STATUSES)}")
    if status is not None and (status == "waiting_for_input") != (ask is not None):
        raise InvalidScript.at("status", "waiting_for_input goes with an ask, and only with it")
