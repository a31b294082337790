"""Violations of the contract, and how a JSON Schema error becomes one a person can act on.

A `Violation` says where (a JSON pointer into the body, a parameter or header name, the
status, an event of a stream), what the contract expected and what arrived. For `oneOf` it
names the variant that came closest instead of listing every variant's complaints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema.exceptions import ValidationError

from wacht_mock.core.masking import mask_text
from wacht_mock.core.text import did_you_mean, preview
from wacht_mock.core.wire import escape

__all__ = ["Describer", "Place", "Violation", "did_you_mean", "pointer", "preview"]

Direction = Literal["request", "response"]
Resolve = Callable[[Any], Any]
"""Follows `$ref` in a schema node to the schema it names."""


@dataclass(frozen=True)
class Violation:
    """One way a request or a response breaks the contract."""

    direction: Direction
    operation: str
    location: str
    pointer: str
    expected: str
    arrived: str
    rule: str
    message: str

    @property
    def where(self) -> str:
        """`body /title`, `query limit`, `status`, `event 3 data /response/usage`."""
        return f"{self.location} {self.pointer}".strip()

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Place:
    """Where a validated value sits: `body`, `query`, `event 2 data`..."""

    direction: Direction
    operation: str
    location: str

    def violation(
        self,
        pointer: str,
        expected: str,
        arrived: str,
        *,
        rule: str,
        message: str | None = None,
        hint: str = "",
    ) -> Violation:
        arrived = mask_text(arrived)
        text = mask_text(message or f"expected {expected}, got {arrived}")
        if hint:
            text += f"; {mask_text(hint)}"
        where = f"{self.location} {pointer}".strip()
        return Violation(
            self.direction,
            self.operation,
            self.location,
            pointer,
            expected,
            arrived,
            rule,
            f"{where}: {text}",
        )


def pointer(parts: Iterable[Any]) -> str:
    """A JSON pointer (RFC 6901) for a path of keys and indexes."""
    return "".join("/" + escape(str(part)) for part in parts)


class Describer:
    """Turns the errors of one validation into violations at one place."""

    def __init__(self, place: Place, resolve: Resolve, root: str = "") -> None:
        self.place = place
        self.resolve = resolve
        self.root = root

    def _where(self, parts: Iterable[Any]) -> str:
        """A parameter's name (`root`), or a JSON pointer into a body."""
        suffix = pointer(parts) if list(parts) else ""
        return self.root + suffix if self.root else suffix or "/"

    def describe(self, errors: Iterable[ValidationError]) -> list[Violation]:
        found: list[Violation] = []
        for error in sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), e.validator)):
            for violation in self._one(error):
                if violation not in found:
                    found.append(violation)
        return found

    def _one(self, error: ValidationError) -> list[Violation]:
        keyword = str(error.validator)
        if keyword in ("oneOf", "anyOf"):
            return self._variants(error)
        if keyword == "required":
            return [self._required(error)]
        if keyword == "additionalProperties" and error.validator_value is False:
            return self._unknown_fields(error)
        where = self._where(error.absolute_path)
        return [
            self.place.violation(
                where,
                expected(keyword, error.validator_value, error.schema),
                arrived(keyword, error.instance),
                rule=keyword,
            )
        ]

    def _required(self, error: ValidationError) -> Violation:
        names: Any = error.validator_value
        instance: Any = error.instance if isinstance(error.instance, dict) else {}
        missing = next((name for name in names if name not in instance), "?")
        where = self._where([*error.absolute_path, missing])
        return self.place.violation(
            where,
            f"the field {missing!r}",
            "nothing",
            rule="required",
            message="required field is missing",
        )

    def _unknown_fields(self, error: ValidationError) -> list[Violation]:
        known = list(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
        instance = error.instance if isinstance(error.instance, dict) else {}
        unknown = [key for key in instance if key not in known]
        expected_fields = "only the fields " + ", ".join(known) if known else "no fields"
        return [
            self.place.violation(
                self._where([*error.absolute_path, key]),
                expected_fields,
                preview(instance[key]),
                rule="unknown field",
                message="unknown field (not in the contract)",
                hint=did_you_mean(key, known),
            )
            for key in unknown
        ]

    def _variants(self, error: ValidationError) -> list[Violation]:
        raws: Any = error.validator_value
        instance: Any = error.instance
        variants = [self.resolve(variant) for variant in raws]
        names = [
            variant_name(raw, resolved, index)
            for index, (raw, resolved) in enumerate(zip(raws, variants, strict=True))
        ]
        where = self._where(error.absolute_path)
        if not error.context:
            return [
                self.place.violation(
                    where,
                    "exactly one of " + ", ".join(names),
                    "a value matching several",
                    rule=str(error.validator),
                )
            ]
        keyed = _keyed_variants(variants)
        index = None
        if keyed is not None:
            problem = _keyed_problem(instance, keyed)
            if problem is not None:
                expected_text, arrived_text, hint = problem
                return [
                    self.place.violation(
                        where, expected_text, arrived_text, rule="variant", hint=hint
                    )
                ]
            index = next(keyed.index(key) for key in instance if key in keyed)
        if index is None:
            index = self._closest(error, variants)
        chosen = [sub for sub in error.context if sub.relative_schema_path[0] == index]
        found = self.describe(chosen)
        if _nullable(variants):  # "X or null": the value is a wrong X, nothing else to say
            return found
        hint = f"closest variant: {names[index]}"
        return [_with_hint(violation, hint) for violation in found]

    def _closest(self, error: ValidationError, variants: Sequence[Any]) -> int:
        picked = _by_discriminator(error, variants)
        if picked is not None:
            return picked

        def score(index: int) -> tuple[int, int, int, int]:
            errors = [sub for sub in error.context or () if sub.relative_schema_path[0] == index]
            wrong_kind = sum(1 for sub in errors if _wrong_kind(sub))
            shallow = sum(1 for sub in errors if not sub.relative_path)
            return wrong_kind, shallow, len(errors), index

        return min(range(len(variants)), key=score)


def _nullable(variants: Sequence[Any]) -> bool:
    """Whether the variants are one schema and null (how a nullable field is written)."""
    nulls = [v for v in variants if isinstance(v, dict) and v.get("type") == "null"]
    return len(variants) == 2 and len(nulls) == 1


def _wrong_kind(error: ValidationError) -> bool:
    """A variant of another kind: the value's type, or a tag (`const`) of its fields, differs."""
    depth = len(error.relative_path)
    return (depth == 0 and error.validator == "type") or (depth == 1 and error.validator == "const")


def _with_hint(violation: Violation, hint: str) -> Violation:
    if hint in violation.message:
        return violation
    return Violation(
        violation.direction,
        violation.operation,
        violation.location,
        violation.pointer,
        violation.expected,
        violation.arrived,
        violation.rule,
        f"{violation.message} ({hint})",
    )


def variant_name(raw: Any, resolved: Any, index: int) -> str:
    """A variant's name: its single required key, its `$ref` name, its type, or its index."""
    if isinstance(resolved, dict):
        required = resolved.get("required", [])
        if resolved.get("type") == "object" and len(required) == 1:
            return str(required[0])
        if isinstance(raw, dict) and "$ref" in raw:
            return str(raw["$ref"]).rsplit("/", 1)[-1]
        if "type" in resolved:
            return str(resolved["type"])
    return f"variant {index + 1}"


def _keyed_variants(variants: Sequence[Any]) -> list[str] | None:
    """Variant keys when every variant is an object with exactly one required key."""
    keys = []
    for variant in variants:
        if not isinstance(variant, dict) or len(variant.get("required", [])) != 1:
            return None
        keys.append(str(variant["required"][0]))
    return keys


def _keyed_problem(instance: Any, keys: list[str]) -> tuple[str, str, str] | None:
    """What is wrong with the choice of a variant, if that is what is wrong."""
    expected_text = "exactly one of " + ", ".join(keys)
    if not isinstance(instance, dict):
        return "an object with " + expected_text, preview(instance), ""
    named = [key for key in instance if key in keys]
    if len(named) == 1:
        return None
    if named:
        return expected_text, f"{len(named)}: " + ", ".join(named), "send one variant per request"
    others = [key for key in instance if key not in keys]
    hint = next(filter(None, (did_you_mean(key, keys) for key in others)), "")
    return expected_text, ", ".join(map(repr, others)) or "none", hint


def _by_discriminator(error: ValidationError, variants: Sequence[Any]) -> int | None:
    schema = error.schema if isinstance(error.schema, dict) else {}
    discriminator = schema.get("discriminator")
    if not isinstance(discriminator, dict) or not isinstance(error.instance, dict):
        return None
    value = error.instance.get(discriminator.get("propertyName", ""))
    target = discriminator.get("mapping", {}).get(value)
    raws: Any = error.validator_value
    for index, raw in enumerate(raws):
        if isinstance(raw, dict) and target is not None and raw.get("$ref") == target:
            return index
    for index, variant in enumerate(variants):
        prop = variant.get("properties", {}).get(discriminator.get("propertyName", ""), {})
        if isinstance(prop, dict) and prop.get("const") == value:
            return index
    return None


TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def expected(keyword: str, value: Any, schema: Any = None) -> str:
    """What a schema keyword asks for, in words."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    number = "an integer" if kind == "integer" else "a number"
    if keyword == "type":
        kinds = [value] if isinstance(value, str) else list(value)
        return " or ".join(TYPE_NAMES.get(kind, kind) for kind in kinds)
    if keyword == "enum":
        return "one of " + ", ".join(map(preview, value))
    texts = {
        "const": f"{preview(value)}",
        "minLength": f"a string of at least {_count(value, 'character')}",
        "maxLength": f"a string of at most {_count(value, 'character')}",
        "minimum": f"{number} of at least {value}",
        "maximum": f"{number} of at most {value}",
        "exclusiveMinimum": f"{number} above {value}",
        "exclusiveMaximum": f"{number} below {value}",
        "pattern": f"a string matching {value}",
        "format": f"a {value} string" + (" (RFC 3339)" if value == "date-time" else ""),
        "minItems": f"an array of at least {_count(value, 'item')}",
        "maxItems": f"an array of at most {_count(value, 'item')}",
        "minProperties": f"an object with at least {_count(value, 'field')}",
    }
    return texts.get(keyword, f"{keyword} {preview(value)}")


def arrived(keyword: str, instance: Any) -> str:
    """What arrived, with the detail the keyword is about."""
    if keyword == "type":
        shown = preview(instance)
        return shown if shown == type_name(instance) else f"{shown} ({type_name(instance)})"
    if keyword in ("minLength", "maxLength") and isinstance(instance, str):
        if len(instance) > 20:
            return f"a string of {_count(len(instance), 'character')}"
        return f"{preview(instance)} ({_count(len(instance), 'character')})"
    if keyword in ("minItems", "maxItems") and isinstance(instance, list):
        return f"an array of {_count(len(instance), 'item')}"
    return preview(instance)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
