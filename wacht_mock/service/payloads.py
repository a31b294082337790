"""Request bodies as strict pydantic models, as the contract describes them.

Types are strict (``"0"`` is not a number), unknown fields are refused unless the server was
told to ignore them (``validate(..., ignore_unknown=True)``), and a failure becomes a
:class:`~wacht_mock.core.errors.BadRequest` whose message points at the field (a JSON pointer), says
what was expected and what arrived.
"""

from __future__ import annotations

import difflib
import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from wacht_mock.core.errors import BadRequest
from wacht_mock.service.models import Status

Title = Annotated[str, Field(min_length=1, max_length=255)]
Group = Annotated[str, Field(min_length=1, max_length=255)]
Instructions = Annotated[str, Field(max_length=65_536)]
Message = Annotated[str, Field(min_length=1, max_length=65_536)]
AgentName = Annotated[str, Field(min_length=1, max_length=255)]
Files = Annotated[list[Annotated[str, Field(max_length=4096)]], Field(max_length=100)]
VARIANTS = ("new_message", "continue", "stream")


class RequestModel(BaseModel):
    """Strict, frozen, and closed to unknown fields unless told otherwise."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_unknown_when_relaxed(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and info.context and info.context.get("ignore_unknown"):
            known = {f.alias or name for name, f in cls.model_fields.items()}
            return {key: value for key, value in data.items() if key in known}
        return data


class CreateContextRequest(RequestModel):
    title: Title
    system_instructions: Instructions | None = None
    context_group: Group | None = None
    status: Status = "active"


class UpdateContextRequest(RequestModel):
    """Every field optional; ``title`` and ``status`` may not be null, the others clear on null."""

    title: Title | None = None
    system_instructions: Instructions | None = None
    context_group: Group | None = None
    status: Status | None = None

    @field_validator("title", "status", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value

    def changes(self) -> dict[str, Any]:
        """Only the fields the client sent."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class NewMessage(RequestModel):
    message: Message
    files: Files | None = None


class Continue(RequestModel):
    files: Files | None = None


class NewMessageVariant(RequestModel):
    new_message: NewMessage


class ContinueVariant(RequestModel):
    continue_: Continue = Field(alias="continue")


class StreamVariant(RequestModel):
    stream: NewMessage


def _variant_of(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if key in VARIANTS else None
    if isinstance(value, BaseModel):
        return next(iter(value.model_fields_set), None)
    return None


ExecutionType = Annotated[
    Annotated[NewMessageVariant, Tag("new_message")]
    | Annotated[ContinueVariant, Tag("continue")]
    | Annotated[StreamVariant, Tag("stream")],
    Discriminator(
        _variant_of,
        custom_error_type="one_variant",
        custom_error_message="Exactly one execution_type variant must be provided: "
        "new_message, continue or stream",
    ),
]


class ExecuteRequest(RequestModel):
    agent_name: AgentName
    execution_type: ExecutionType

    @property
    def kind(self) -> Literal["new_message", "continue", "stream"]:
        variant = self.execution_type
        if isinstance(variant, NewMessageVariant):
            return "new_message"
        return "continue" if isinstance(variant, ContinueVariant) else "stream"

    @property
    def message(self) -> str | None:
        variant = self.execution_type
        if isinstance(variant, NewMessageVariant):
            return variant.new_message.message
        return variant.stream.message if isinstance(variant, StreamVariant) else None

    @property
    def files(self) -> tuple[str, ...]:
        variant = self.execution_type
        if isinstance(variant, NewMessageVariant):
            files = variant.new_message.files
        elif isinstance(variant, StreamVariant):
            files = variant.stream.files
        else:
            files = variant.continue_.files
        return tuple(files or ())


Model = TypeVar("Model", bound=RequestModel)


def validate(model: type[Model], data: Any, *, ignore_unknown: bool = False) -> Model:
    """``data`` (parsed JSON) as ``model``, or a :class:`BadRequest` that says what is wrong."""
    try:
        return model.model_validate(data, context={"ignore_unknown": ignore_unknown})
    except ValidationError as exc:
        raise BadRequest(describe(exc, model)) from None


def describe(exc: ValidationError, model: type[RequestModel] | None = None) -> str:
    """One readable line per problem: ``/title: expected a string, got 123``."""
    top = tuple(f.alias or name for name, f in model.model_fields.items()) if model else ()
    problems = [_describe_one(error, top) for error in exc.errors(include_url=False)]
    return "Invalid request body: " + "; ".join(problems[:5])


EXPECTED = {
    "dict_type": "expected an object",
    "model_type": "expected an object",
    "model_attributes_type": "expected an object",
    "list_type": "expected an array",
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "bool_type": "expected a boolean",
}
FIELDS_UNDER = {
    "new_message": ("message", "files"),
    "stream": ("message", "files"),
    "continue": ("files",),
    "execution_type": VARIANTS,
}


def _describe_one(error: Any, top: tuple[str, ...]) -> str:
    pointer = _pointer(error["loc"])
    if error["type"] == "missing":
        return f"{pointer}: required field is missing"
    if error["type"] == "extra_forbidden":
        hint = _did_you_mean(error["loc"][-1], _fields_beside(error["loc"], top))
        return f"{pointer}: unknown field (not in the contract){hint}"
    if error["type"] == "one_variant":
        return f"{pointer}: {error['msg']}, {_variant_problem(error.get('input'))}"
    if error["type"] == "value_error":  # a validator's own words, as they are
        return f"{pointer}: {error.get('ctx', {}).get('error', error['msg'])}"
    return f"{pointer}: {_expected(error)}, got {_preview(error.get('input'))}"


def _expected(error: Any) -> str:
    """What the contract wants there, in its words rather than pydantic's."""
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "literal_error":
        return f"expected one of {ctx['expected']}"
    if kind in ("string_too_short", "string_too_long"):
        bound = ctx.get("min_length", ctx.get("max_length"))
        least = "at least" if kind == "string_too_short" else "at most"
        return f"expected a string of {least} {bound} character{'' if bound == 1 else 's'}"
    if kind == "too_long":
        return f"expected at most {ctx.get('max_length')} items"
    return str(EXPECTED.get(kind, error["msg"]))


def _fields_beside(loc: tuple[Any, ...], top: tuple[str, ...]) -> tuple[str, ...]:
    """The fields the contract allows where an unknown one was sent."""
    parents = [str(part) for part in loc[:-1] if not isinstance(part, int)]
    return FIELDS_UNDER.get(parents[-1], ()) if parents else top


def _variant_problem(value: Any) -> str:
    """What was sent instead of exactly one variant, and the variant it was closest to."""
    if not isinstance(value, dict):
        return f"got {_preview(value)} (send an object with one key, e.g. {{'new_message': ...}})"
    named = [key for key in value if key in VARIANTS]
    others = [key for key in value if key not in VARIANTS]
    if not value:
        return "got none"
    if len(named) > 1:
        return f"got {len(named)}: {_and(named)}; send one variant per request"
    if named:
        return f"got {_and(list(value))}; the closest variant, {named[0]!r}, takes no other key"
    hints = [_did_you_mean(key, VARIANTS) for key in others]
    return f"got {_and(others)}" + next((hint for hint in hints if hint), "")


def _and(names: list[str]) -> str:
    quoted = [repr(name) for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _did_you_mean(name: Any, choices: tuple[str, ...]) -> str:
    others = [choice for choice in choices if choice != str(name)]
    close = difflib.get_close_matches(str(name), others, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _pointer(loc: tuple[Any, ...]) -> str:
    """A JSON pointer, without the union tag pydantic repeats (``.../stream/stream/...``)."""
    parts: list[str] = []
    for part in map(str, loc):
        if not (parts and part == parts[-1] and part in VARIANTS):
            parts.append(part.replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(parts)


def _preview(value: Any) -> str:
    """A value as the client sent it: JSON (``null``, ``true``), strings quoted as in Python."""
    try:
        text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
