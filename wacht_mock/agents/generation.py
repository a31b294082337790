"""Generate a value from a JSON Schema, deterministically from a seeded faker.

Supported: `const`, `enum`, `anyOf`/`oneOf` (first branch), and the types object
(`properties`, `required`), array (`items`, `minItems`, `maxItems`), string
(`format` date-time/date/email/uuid/uri/hostname/ipv4, `minLength`, `maxLength`),
integer and number (`minimum`, `maximum`, exclusive bounds), boolean and null.
Every property of an object is generated. Other keywords are ignored; the value is
validated afterwards, so a schema this cannot satisfy is reported, not obeyed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # faker loads when first used, not with the package
    from faker import Faker


Schema = Mapping[str, Any]


def generate(schema: object, faker: Faker) -> Any:
    """A value for `schema` (a `true` schema or one without a type gives a string)."""
    rules: Schema = schema if isinstance(schema, Mapping) else {}
    if "const" in rules:
        return rules["const"]
    if "enum" in rules:
        return faker.random_element(list(rules["enum"]))
    branches = rules.get("anyOf") or rules.get("oneOf")
    if branches:
        return generate(branches[0], faker)
    return _BY_TYPE[_type_of(rules)](rules, faker)


def _type_of(schema: Schema) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        return next((name for name in declared if name != "null"), "null")
    if isinstance(declared, str):
        return declared
    if "properties" in schema:
        return "object"
    return "array" if "items" in schema else "string"


def _object(schema: Schema, faker: Faker) -> dict[str, Any]:
    properties = schema.get("properties", {})
    names = [*properties, *(name for name in schema.get("required", []) if name not in properties)]
    return {name: generate(properties.get(name, {}), faker) for name in names}


def _array(schema: Schema, faker: Faker) -> list[Any]:
    low = schema.get("minItems", 0)
    high = schema.get("maxItems", max(low, 1) + 2)
    count = faker.random_int(min(max(low, 1), high), high)
    return [generate(schema.get("items", {}), faker) for _ in range(count)]


#: Generated dates fall in this fixed window: seeded values must not follow the wall clock.
EARLIEST, LATEST = datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)

_FORMATS: dict[str, Callable[[Faker], str]] = {
    "date-time": lambda faker: faker.date_time_between(EARLIEST, LATEST, UTC).isoformat(),
    "date": lambda faker: faker.date_between(EARLIEST.date(), LATEST.date()).isoformat(),
    "email": lambda faker: faker.email(),
    "uuid": lambda faker: str(faker.uuid4()),
    "uri": lambda faker: faker.url(),
    "hostname": lambda faker: faker.hostname(),
    "ipv4": lambda faker: faker.ipv4(),
}


def _string(schema: Schema, faker: Faker) -> str:
    maker = _FORMATS.get(schema.get("format", ""))
    if maker is not None:
        return maker(faker)
    text = faker.sentence().rstrip(".")
    while len(text) < schema.get("minLength", 0):
        text = f"{text} {faker.word()}"
    return text[: schema.get("maxLength")]


def _integer(schema: Schema, faker: Faker) -> int:
    low, high = _bounds(schema, step=1)
    return faker.random_int(math.ceil(low), math.floor(high))


def _number(schema: Schema, faker: Faker) -> float:
    low, high = _bounds(schema, step=0.01)
    return faker.random_int(math.ceil(low * 100), math.floor(high * 100)) / 100


def _bounds(schema: Schema, *, step: float) -> tuple[float, float]:
    low = _bound(schema, "minimum", "exclusiveMinimum", step)
    high = _bound(schema, "maximum", "exclusiveMaximum", -step)
    low = low if low is not None else min(0.0, high if high is not None else 0.0)
    return low, high if high is not None else max(low, 0.0) + 1000


def _bound(schema: Schema, inclusive: str, exclusive: str, step: float) -> float | None:
    if isinstance(schema.get(exclusive), int | float):
        return float(schema[exclusive]) + step
    return float(schema[inclusive]) if inclusive in schema else None


_BY_TYPE: dict[str, Callable[[Schema, Faker], Any]] = {
    "object": _object,
    "array": _array,
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": lambda schema, faker: faker.pybool(),
    "null": lambda schema, faker: None,
}
