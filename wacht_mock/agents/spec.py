"""The shape of the `agents:` mapping of a fixture file, checked with pydantic.

The `when:` of a rule has one key per matcher of `When`, and a reply one key per field of
`Reply`: both models are made from those definitions, not written again. Only the shape (keys,
types, ranges) is checked here; what a value means (templates, schemas, regexes) is checked when
the script objects are built.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from dataclasses import Field as Field_
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from .kinds import Exhaustion
from .matching import MATCHERS
from .reply import Reply, ToolCall
from .shapes import (
    FaultSpec,
    PolicySpec,
    SignalSpec,
    SpecModel,
    ToolSpec,
    UsageSpec,
    parse_shape,
)


class _WhenSpec(SpecModel):
    noun: ClassVar[str] = "matcher"


#: The `when:` of a rule in a script file: the matchers `When` declares, each optional.
WhenSpec = create_model(
    "WhenSpec",
    __base__=_WhenSpec,
    **{name: (kind, None) for name, kind in MATCHERS.items()},  # type: ignore[call-overload]
)
if TYPE_CHECKING:
    _When = SpecModel
else:
    _When = WhenSpec


def spec_name(name: str) -> str:
    """The spec's attribute for a `Reply` field (`schema` would shadow pydantic's own)."""
    return "schema_" if name == "schema" else name


class _ToolCallSpec(SpecModel):
    noun: ClassVar[str] = "tool call key"


def _fields_of(
    cls: type, in_files: dict[str, tuple[Any, Any]], base: type[SpecModel], name: str
) -> Any:
    """A file's model of a dataclass: one key per field, as its Python type unless
    `in_files` says how it is written in a file."""
    types = get_type_hints(cls)
    keys = {
        spec_name(f.name): in_files.get(f.name, (types[f.name], _default(f))) for f in fields(cls)
    }
    return create_model(name, __base__=base, **keys)  # type: ignore[call-overload]


def _default(f: Field_[Any]) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return Field(default_factory=f.default_factory)
    return ...  # required


#: A scripted tool call of a file, one key per field of `ToolCall` (`args` a mapping; `result`
#: absent or any JSON, null included).
ToolCallSpec = _fields_of(
    ToolCall,
    {"args": (dict[str, Any], Field(default_factory=dict)), "result": (Any, None)},
    _ToolCallSpec,
    "ToolCallSpec",
)


class _ReplySpec(SpecModel):
    """A reply; a plain string is short for `{text: <string>}`."""

    noun: ClassVar[str] = "reply key"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"text": data} if isinstance(data, str) else data


#: How the fields of a `Reply` are written in a file where that differs from the dataclass
#: (the others are read as their Python type): nested specs, bounds, the `schema` alias.
IN_FILES: dict[str, tuple[Any, Any]] = {
    "tool_calls": (list[ToolCallSpec], Field(default_factory=list)),  # type: ignore[valid-type]
    "schema": (dict[str, Any] | None, Field(default=None, alias="schema")),
    "usage": (UsageSpec | None, None),
    "latency": (float, Field(default=0.0, ge=0)),
    "chunk_delay": (float, Field(default=0.0, ge=0)),
    "chunking": (Any, "word"),  # its forms are checked by `Reply`
    "timing": (list[Annotated[float, Field(ge=0)]] | None, None),
    "fault": (FaultSpec | None, None),
    "feedback": (list[SignalSpec], Field(default_factory=list)),
}


#: The reply of a script file: one key per field of `Reply`, defined there once.
ReplySpec = _fields_of(Reply, IN_FILES, _ReplySpec, "ReplySpec")
if TYPE_CHECKING:
    _Reply = SpecModel
else:
    _Reply = ReplySpec


class PlanSpec(SpecModel):
    """A fixed `reply`, or a `sequence` with its `when_exhausted`."""

    reply: _Reply | None = None
    sequence: list[_Reply] | None = None
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
    return parse_shape(AgentsSpec, {"agents": spec}, "").agents


def parse_reply(spec: object, path: str) -> SpecModel:
    """Check the shape of one reply written as a mapping."""
    model: type[SpecModel] = ReplySpec
    return parse_shape(model, spec, path)
