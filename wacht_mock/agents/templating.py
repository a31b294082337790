"""A restricted `str.format`: the fields a reply template may use, and nothing else.

Fields: `{message}`, `{agent_name}`, `{turn}`, `{context.<field>}` (id, title,
system_instructions, context_group, status) and `{faker.<provider>}` for any faker
provider callable without arguments. No indexing, no other attribute access, no
format specs or conversions. `{{` and `}}` are literal braces. A missing value
(a `continue` call's message, a null context field) renders as an empty string.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from string import Formatter
from typing import TYPE_CHECKING, Any

from wacht_mock.core.jsontext import is_text
from wacht_mock.core.text import closest

from .call import AgentCall
from .errors import InvalidScript, at

if TYPE_CHECKING:  # faker loads when first used, not with the package
    from faker import Faker

CALL_FIELDS = ("message", "agent_name", "turn")
TEMPLATE_CONTEXT_FIELDS = ("id", "title", "system_instructions", "context_group", "status")
KNOWN = "message, agent_name, turn, context.<field>, faker.<provider>"


@dataclass(frozen=True)
class Part:
    """Literal text followed by an optional field."""

    literal: str
    field: str | None


def check_template(text: str | None) -> None:
    """Raise `InvalidScript` if `text` is not a valid template, or no text at all (a lone
    UTF-16 surrogate, which nothing on the wire can hold)."""
    if text is None:
        return
    if not is_text(text):
        raise InvalidScript.at("", "holds a lone UTF-16 surrogate, which no text can")
    compile_template(text)


def check_templates_in(value: Any) -> None:
    """Check every string inside a JSON-like value (tool call arguments)."""
    for path, text in _strings(value, ""):
        with at(path):
            check_template(text)


def render_template(text: str, call: AgentCall, faker: Faker) -> str:
    """Fill the fields of `text` from the call, its context and the faker."""
    return "".join(
        part.literal + _value(part.field, call, faker) for part in compile_template(text)
    )


def render_templates_in(value: Any, call: AgentCall, faker: Faker) -> Any:
    """A copy of a JSON-like value with every string rendered as a template."""
    return _map_strings(value, lambda text: render_template(text, call, faker))


def is_fixed(value: Any) -> bool:
    """Whether no string inside `value` has a field: it renders the same on every call."""
    return all(
        part.field is None for _, text in _strings(value, "") for part in compile_template(text)
    )


def fixed_value(value: Any) -> Any:
    """What a value without fields renders to (`{{` and `}}` become braces)."""
    return _map_strings(value, lambda text: "".join(p.literal for p in compile_template(text)))


@lru_cache(maxsize=4096)
def compile_template(text: str) -> tuple[Part, ...]:
    """Parse and check a template; the result is cached."""
    try:
        pieces = list(Formatter().parse(text))
    except ValueError as error:
        raise InvalidScript.at("", f"bad template {text!r}: {error}") from None
    return tuple(_part(*piece) for piece in pieces)


@cache
def faker_providers() -> frozenset[str]:
    """The names of the faker providers that can be called without arguments."""
    from faker import Faker

    fake = Faker("en_US")
    return frozenset(
        name
        for provider in fake.providers
        for name in dir(provider)
        if not name.startswith("_") and _callable_bare(getattr(provider, name))
    )


def _callable_bare(attribute: object) -> bool:
    if not callable(attribute):
        return False
    parameters = inspect.signature(attribute).parameters.values()
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters
    )


def _part(literal: str, field: str | None, spec: str | None, conversion: str | None) -> Part:
    if field is not None:
        _check_field(field, spec, conversion)
    return Part(literal, field)


def _check_field(field: str, spec: str | None, conversion: str | None) -> None:
    if spec or conversion:
        raise InvalidScript.at(
            "", f"field {field!r}: format specs and conversions are not supported"
        )
    kind, _, name = field.partition(".")
    if kind == "faker" and name:
        _check_provider(name)
    elif field not in _known_fields():
        raise InvalidScript.at(
            "", f"unknown template field {field!r} (known: {KNOWN}; write {{{{ and }}}} for braces)"
        )


def _check_provider(name: str) -> None:
    providers = faker_providers()
    if name not in providers:
        close = closest(name, providers)
        hint = f" (did you mean 'faker.{close}'?)" if close else ""
        raise InvalidScript.at(
            "", f"unknown template field 'faker.{name}': no such faker provider{hint}"
        )


@cache
def _known_fields() -> frozenset[str]:
    return frozenset(CALL_FIELDS) | {f"context.{name}" for name in TEMPLATE_CONTEXT_FIELDS}


def _value(field: str | None, call: AgentCall, faker: Faker) -> str:
    value = None if field is None else _lookup(field, call, faker)
    return "" if value is None else str(value)


def _lookup(field: str, call: AgentCall, faker: Faker) -> object:
    kind, _, name = field.partition(".")
    if kind == "faker":
        return getattr(faker, name)()
    if kind == "context":
        return getattr(call.context, name)
    return getattr(call, field)


def _strings(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, Mapping):
        return [pair for key, item in value.items() for pair in _strings(item, _key(path, key))]
    if isinstance(value, list | tuple):
        return [pair for i, item in enumerate(value) for pair in _strings(item, f"{path}[{i}]")]
    return []


def _key(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, Mapping):
        return {key: _map_strings(item, change) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_map_strings(item, change) for item in value]
    return value
