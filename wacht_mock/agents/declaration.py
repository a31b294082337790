"""What an agent declares about its runs: its tools, guides, policy, response format, metadata.

The declaration is part of every run's state (what the model is given), and the agent's
replies are held to it: a tool call names a declared tool with arguments valid against its
`input` schema, a terminal reply satisfies the response format, and the policy's limits cut
the run (see `limits`). An agent that declares no tools may call any tool (as before tools
could be declared); one that declares some may call only those.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal, get_args

import jsonschema  # type: ignore[import-untyped,unused-ignore]

from wacht_mock.core.text import did_you_mean
from wacht_mock.core.wire import escape

from .blocks import json_copy
from .errors import InvalidScript, at
from .structured import check_schema, validate

FormatType = Literal["free", "json_object", "json_schema"]
FORMAT_TYPES: tuple[FormatType, ...] = get_args(FormatType)
#: A tool's `input` when none is declared: any object of arguments.
ANY_ARGS: Mapping[str, Any] = MappingProxyType({"type": "object"})


@dataclass(frozen=True)
class Tool:
    """A tool the agent may call: `{name, description, input: JSON Schema}`."""

    name: str
    description: str = ""
    input: Mapping[str, Any] = field(default_factory=lambda: ANY_ARGS)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidScript.at("name", "a tool needs a name (a non-empty string)")
        if not isinstance(self.description, str):
            raise InvalidScript.at("description", f"must be a string, not {self.description!r}")
        if not isinstance(self.input, Mapping):
            raise InvalidScript.at("input", "a tool's input is a JSON Schema (a mapping)")
        object.__setattr__(self, "input", json_copy(self.input, "input"))  # the caller's is theirs
        with at("input"):
            check_schema(self.input)

    @cached_property
    def _validator(self) -> Any:
        cls = jsonschema.validators.validator_for(self.input, jsonschema.Draft202012Validator)
        return cls(self.input, format_checker=jsonschema.FormatChecker())

    def problem(self, args: Mapping[str, Any]) -> str | None:
        """Why `args` are not valid arguments of this tool (the JSON pointer of the bad
        argument first), or None."""
        error = jsonschema.exceptions.best_match(self._validator.iter_errors(dict(args)))
        if error is None:
            return None
        pointer = "".join(f"/{escape(str(part))}" for part in error.absolute_path)
        return f"{pointer or '/'}: {error.message}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "input": _plain(self.input)}


@dataclass(frozen=True)
class Policy:
    """The run's limits: model calls in the tool-call loop, and tokens in and out."""

    max_iters: int | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_iters", "max_input_tokens", "max_output_tokens"):
            value = getattr(self, name)
            if value is not None and (type(value) is not int or value < 1):
                raise InvalidScript.at(name, f"must be a whole number, 1 or more, not {value!r}")

    @property
    def limits(self) -> bool:
        """Whether the policy sets any limit."""
        return (self.max_iters, self.max_input_tokens, self.max_output_tokens) != (None,) * 3

    def to_json(self) -> dict[str, Any]:
        return {
            "max_iters": self.max_iters,
            "max_input_tokens": self.max_input_tokens,
            "max_output_tokens": self.max_output_tokens,
        }


@dataclass(frozen=True)
class ResponseFormat:
    """The constraint on the terminal reply: `free` (none), `json_object`, or `json_schema`
    with a `name` and a `schema`."""

    type: FormatType = "free"
    name: str | None = None
    schema: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.type not in FORMAT_TYPES:
            hint = did_you_mean(str(self.type), FORMAT_TYPES)
            raise InvalidScript.at(
                "", f"unknown response format {self.type!r}" + (f" ({hint})" if hint else "")
            )
        if self.type != "json_schema":
            if self.name is not None or self.schema is not None:
                raise InvalidScript.at("", f"a {self.type} response format has no name or schema")
            return
        if not isinstance(self.name, str) or not self.name:
            raise InvalidScript.at("json_schema.name", "a json_schema format needs a name")
        if not isinstance(self.schema, Mapping):
            raise InvalidScript.at("json_schema.schema", "a json_schema format needs a schema")
        object.__setattr__(self, "schema", json_copy(self.schema, "json_schema.schema"))
        with at("json_schema.schema"):
            check_schema(self.schema)

    @classmethod
    def json_schema(cls, name: str, schema: Mapping[str, Any]) -> ResponseFormat:
        return cls("json_schema", name, schema)

    @property
    def output_schema(self) -> Mapping[str, Any] | None:
        """The schema a terminal reply's structured output must satisfy (None: free)."""
        if self.type == "json_schema":
            return self.schema
        return ANY_ARGS if self.type == "json_object" else None

    def to_json(self) -> dict[str, Any]:
        if self.type == "json_schema":
            return {"type": "json_schema", "name": self.name, "schema": _plain(self.schema)}
        return {"type": self.type}


FREE = ResponseFormat()
#: The metadata every run has (`AgentCall.run_state`); a declaration's own keys are others.
RUN_FACTS = ("agent_name", "context_id", "deployment_id", "conversation_id", "execution_id", "turn")


@dataclass(frozen=True)
class Declaration:
    """Everything an agent declares; the empty declaration constrains nothing."""

    tools: Sequence[Tool] = ()
    guides: Sequence[str] = ()
    policy: Policy = field(default_factory=Policy)
    response_format: ResponseFormat = FREE
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tools", tuple(self.tools))
        object.__setattr__(self, "guides", tuple(self.guides))
        names: set[str] = set()
        for index, tool in enumerate(self.tools):
            if not isinstance(tool, Tool):
                raise InvalidScript.at(f"tools[{index}]", f"not a Tool: {tool!r}")
            if tool.name in names:
                raise InvalidScript.at(f"tools[{index}].name", f"tool {tool.name!r} twice")
            names.add(tool.name)
        for index, guide in enumerate(self.guides):
            if not isinstance(guide, str):
                raise InvalidScript.at(f"guides[{index}]", f"a guide is text, not {guide!r}")
        for name, kind in (("policy", Policy), ("response_format", ResponseFormat)):
            if not isinstance(getattr(self, name), kind):
                raise InvalidScript.at(name, f"not a {kind.__name__}: {getattr(self, name)!r}")
        if not isinstance(self.metadata, Mapping):
            raise InvalidScript.at("metadata", "metadata is a mapping")
        taken = sorted(set(self.metadata) & set(RUN_FACTS))
        if taken:
            raise InvalidScript.at(
                f"metadata.{taken[0]}",
                "is the run's own fact (the mock sets it); choose another name",
            )
        frozen = json_copy(dict(self.metadata), "metadata")
        object.__setattr__(self, "metadata", MappingProxyType(frozen))

    @property
    def constrains_replies(self) -> bool:
        """Whether a reply can break the declaration (declared tools, or a response format)."""
        return bool(self.tools) or self.response_format.type != "free"

    def tool(self, name: str) -> Tool | None:
        return next((tool for tool in self.tools if tool.name == name), None)

    def tool_call_problem(self, name: str, args: Mapping[str, Any]) -> tuple[str, str] | None:
        """Where (`name` or `args`) and why a tool call breaks the declaration, or None."""
        if not self.tools:
            return None
        tool = self.tool(name)
        if tool is None:
            declared = [tool.name for tool in self.tools]
            hint = did_you_mean(name, declared)
            return "name", (
                f"tool {name!r} is not declared by the agent"
                + (f" ({hint})" if hint else f"; it declares {', '.join(declared)}")
            )
        problem = tool.problem(args)
        return None if problem is None else ("args", f"tool {name!r}: argument {problem}")

    def output_problem(self, value: Any) -> str | None:
        """Why a terminal reply's structured output breaks the response format, or None."""
        schema = self.response_format.output_schema
        if schema is None:
            return None
        if value is None:
            return f"the response format is {self.response_format.type}: the reply has no JSON"
        try:
            validate(value, schema)
        except InvalidScript as error:
            return f"the {self.response_format.type} response format: {error.problem}"
        return None


NOTHING_DECLARED = Declaration()


def _plain(value: Any) -> Any:  # a fresh copy for each reader (the value is JSON already)
    """A JSON copy of a schema (mappings as dicts)."""
    return json.loads(json.dumps(value, default=dict))
