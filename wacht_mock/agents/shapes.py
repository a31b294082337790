"""The shapes of a script file's parts, checked with pydantic: the base model and the small
parts (tool calls, usage, faults, signals, tools, policies, response formats).

Only the shape (keys, types, ranges) is checked here; what a value means (templates, schemas,
regexes) is checked when the script objects are built. `spec` puts them together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from wacht_mock.core.text import did_you_mean

from .errors import InvalidScript, join_path
from .kinds import StreamFaultMode

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


def parse_tool(spec: object) -> ToolSpec:
    """Check the shape of one tool written as a mapping."""
    return parse_shape(ToolSpec, spec, "")


def parse_policy(spec: object) -> PolicySpec:
    """Check the shape of a policy written as a mapping."""
    return parse_shape(PolicySpec, spec, "")


def parse_response_format(spec: object) -> ResponseFormatSpec:
    """Check the shape of a response format written as a mapping."""
    return parse_shape(ResponseFormatSpec, spec, "")


def parse_fault(spec: object) -> FaultSpec:
    """Check the shape of one fault written as a mapping."""
    return parse_shape(FaultSpec, spec, "")


def parse_shape(model: type[Model], data: object, path: str) -> Model:
    """`data` checked as `model`; `InvalidScript` with the paths of its problems."""
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
