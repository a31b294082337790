"""Structured replies: the JSON Schema check at definition time and the value at render."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]

from .errors import InvalidScript, at
from .generation import generate
from .seeding import new_faker

if TYPE_CHECKING:  # faker loads when first used, not with the package
    from faker import Faker

TRIAL_SEED = 0


def check_structured(value: Any, schema: Mapping[str, Any] | None) -> None:
    """Check a reply's structured output (or its generation) against its schema."""
    if schema is None:
        return
    with at("schema"):
        check_schema(schema)
    if value is not None:
        with at("structured_output"):
            validate(value, schema)
    else:
        with at("schema"):
            check_generates(schema)


def structured_value(value: Any, schema: Mapping[str, Any] | None, faker: Faker) -> Any:
    """The structured output of one rendered reply: a copy of the given value, or generated."""
    if schema is None or value is not None:
        return copy.deepcopy(value)
    generated = generate(schema, faker)
    with at("schema"):
        validate(generated, schema)
    return generated


def compact_json(value: Any) -> str:
    """A structured output as a reply's text: compact JSON, keys sorted."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def validate(value: Any, schema: Mapping[str, Any]) -> None:
    """Raise `InvalidScript` when `value` does not validate against `schema`."""
    validator = _validator_class(schema)(schema, format_checker=jsonschema.FormatChecker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is not None:
        raise InvalidScript.at(
            "", f"does not match the schema at {error.json_path}: {error.message}"
        )


def check_schema(schema: Mapping[str, Any]) -> None:
    try:
        _validator_class(schema).check_schema(schema)
    except jsonschema.SchemaError as error:
        raise InvalidScript.at("", f"not a valid JSON Schema: {error.message}") from None


def check_generates(schema: Mapping[str, Any]) -> None:
    faker = new_faker()
    faker.seed_instance(TRIAL_SEED)
    try:
        validate(generate(schema, faker), schema)
    except (InvalidScript, ValueError, TypeError, KeyError) as error:
        message = error.problem if isinstance(error, InvalidScript) else str(error)
        raise InvalidScript.at("", f"cannot generate a value for this schema: {message}") from None


def _validator_class(schema: Mapping[str, Any]) -> Any:
    """The validator of the schema's `$schema` draft, 2020-12 by default."""
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
