"""The shape of the `agents:` mapping of a fixture file, checked with pydantic.

Only the shape (keys, types, ranges) is checked here; what a value means
(templates, schemas, regexes) is checked when the script objects are built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import ErrorDetails

from wacht_mock.core.text import did_you_mean

from .errors import InvalidScript, join_path
from .kinds import Exhaustion, ReplyStatus, StopReason, StreamFaultMode
from .matching import MATCHERS

Model = TypeVar("Model", bound=BaseModel)


class SpecModel(BaseModel):
    """Strict, no unknown keys; an unknown key is reported with what was meant."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    noun: ClassVar[str] = "key"

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = [info.alias or name for name, info in cls.model_fields.items()]
            for key in data:
                if key not in known:
                    raise ValueError(_unknown(cls.noun, key, known))
        return data


class _WhenSpec(SpecModel):
    noun: ClassVar[str] = "matcher"


#: The ``when:`` of a rule in a script file: the matchers ``When`` declares, each optional.
WhenSpec = create_model(
    "WhenSpec",
    __base__=_WhenSpec,
    **{name: (kind, None) for name, kind in MATCHERS.items()},  # type: ignore[call-overload]
)
if TYPE_CHECKING:
    _When = SpecModel
else:
    _When = WhenSpec


class ToolCallSpec(SpecModel):
    noun: ClassVar[str] = "tool call key"
    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None
    result: Any = None
    requires_approval: bool = False
    client_executed: bool = False


class SignalSpec(SpecModel):
    noun: ClassVar[str] = "signal key"
    kind: str
    message: str = ""
    data: Any = None


class UsageSpec(SpecModel):
    input_tokens: int
    output_tokens: int


class FaultSpec(SpecModel):
    """An HTTP fault (`status`) or a stream fault (`mode`), not both."""

    noun: ClassVar[str] = "fault key"
    status: int | None = None
    retry_after: int | None = None
    mode: StreamFaultMode | None = None
    after_events: int | None = None
    code: int | None = None
    message: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> FaultSpec:
        http = {"status", "retry_after"} & self.model_fields_set
        stream = {"mode", "after_events", "code"} & self.model_fields_set
        if bool(http) == bool(stream):
            raise ValueError("a fault has either status (HTTP) or mode and after_events (stream)")
        if stream and {"mode", "after_events"} - self.model_fields_set:
            raise ValueError("a stream fault needs both mode and after_events")
        return self


class ReplySpec(SpecModel):
    """A reply; a plain string is short for `{text: <string>}`."""

    noun: ClassVar[str] = "reply key"
    text: str | None = None
    tool_calls: list[ToolCallSpec] = Field(default_factory=list)
    reasoning: str | None = None
    structured_output: Any = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    usage: UsageSpec | None = None
    stop_reason: StopReason | None = None
    status: ReplyStatus | None = None
    ask: str | None = None
    latency: float = Field(default=0.0, ge=0)
    chunk_delay: float = Field(default=0.0, ge=0)
    chunking: Any = "word"
    timing: list[Annotated[float, Field(ge=0)]] | None = None
    fault: FaultSpec | None = None
    feedback: list[SignalSpec] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"text": data} if isinstance(data, str) else data


class PlanSpec(SpecModel):
    """A fixed `reply`, or a `sequence` with its `when_exhausted`."""

    reply: ReplySpec | None = None
    sequence: list[ReplySpec] | None = None
    when_exhausted: Exhaustion | None = None

    @model_validator(mode="after")
    def _one_plan(self) -> PlanSpec:
        if self.reply is not None and self.sequence is not None:
            raise ValueError("give either reply or sequence, not both")
        if self.when_exhausted is not None and self.sequence is None:
            raise ValueError("when_exhausted goes with a sequence")
        return self


class RuleSpec(PlanSpec):
    noun: ClassVar[str] = "rule key"
    when: _When

    @model_validator(mode="after")
    def _has_plan(self) -> RuleSpec:
        if self.reply is None and self.sequence is None:
            raise ValueError("a rule needs a reply or a sequence")
        return self


class ToolSpec(SpecModel):
    noun: ClassVar[str] = "tool key"
    name: str
    description: str = ""
    input: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


class PolicySpec(SpecModel):
    noun: ClassVar[str] = "policy key"
    max_iters: int | None = Field(default=None, ge=1)
    max_input_tokens: int | None = Field(default=None, ge=1)
    max_output_tokens: int | None = Field(default=None, ge=1)


class JsonSchemaFormatSpec(SpecModel):
    noun: ClassVar[str] = "json_schema key"
    name: str
    schema_: dict[str, Any] = Field(alias="schema")


class ResponseFormatSpec(SpecModel):
    """`{json_schema: {name, schema}}`; the formats without options are plain words."""

    noun: ClassVar[str] = "response format"
    json_schema: JsonSchemaFormatSpec


class AgentSpec(PlanSpec):
    """An agent: rules (first match wins), then its own reply or sequence; and what its runs
    are given (tools, guides, policy, response format, metadata)."""

    noun: ClassVar[str] = "agent key"
    rules: list[RuleSpec] = Field(default_factory=list)
    strict: bool = False
    tools: list[ToolSpec] = Field(default_factory=list)
    guides: list[str] = Field(default_factory=list)
    policy: PolicySpec | None = None
    #: `free`, `json_object`, or a `ResponseFormatSpec` mapping: read when the agent is built.
    response_format: Any = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class AgentsSpec(BaseModel):
    """The `agents:` mapping: agent name -> agent script."""

    model_config = ConfigDict(strict=True, frozen=True)
    agents: dict[str, AgentSpec]


def parse_agents(spec: object) -> dict[str, AgentSpec]:
    """Check the shape of an `agents:` mapping; raise `InvalidScript` with paths."""
    return _parse(AgentsSpec, {"agents": spec}, "").agents


def parse_reply(spec: object, path: str) -> ReplySpec:
    """Check the shape of one reply written as a mapping."""
    return _parse(ReplySpec, spec, path)


def parse_tool(spec: object) -> ToolSpec:
    """Check the shape of one tool written as a mapping."""
    return _parse(ToolSpec, spec, "")


def parse_policy(spec: object) -> PolicySpec:
    """Check the shape of a policy written as a mapping."""
    return _parse(PolicySpec, spec, "")


def parse_response_format(spec: object) -> ResponseFormatSpec:
    """Check the shape of a response format written as a mapping."""
    return _parse(ResponseFormatSpec, spec, "")


def parse_fault(spec: object) -> FaultSpec:
    """Check the shape of one fault written as a mapping."""
    return _parse(FaultSpec, spec, "")


def _parse(model: type[Model], data: object, path: str) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidScript(_problem(details, path) for details in error.errors()) from None


def _problem(details: ErrorDetails, prefix: str) -> tuple[str, str]:
    location = list(details["loc"])
    kind = details["type"]
    if kind == "missing":
        return _path(prefix, location[:-1]), f"missing required key {location[-1]!r}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return _path(prefix, location), "expected a mapping"
    if kind == "value_error":
        return _path(prefix, location), str(details.get("ctx", {}).get("error"))
    return _path(prefix, location), f"{details['msg']}, not {details['input']!r}"


def _path(prefix: str, location: list[int | str]) -> str:
    parts = [f"[{part}]" if isinstance(part, int) else part for part in location]
    path = prefix
    for part in parts:
        path = join_path(path, part)
    return path


def _unknown(noun: str, key: object, known: list[str]) -> str:
    hint = did_you_mean(str(key), known)
    hint = f" ({hint})" if hint else ""
    return f"unknown {noun} {key!r}{hint}"
