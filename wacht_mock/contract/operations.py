"""The contract's operations: which one a method and a path name, and what it documents.

Knows the OpenAPI layout (paths, path-level parameters, `$ref` to components) and nothing of
HTTP servers or validation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from wacht_mock.core.wire import escape, unescape

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Node:
    """A node of the contract and its JSON pointer (after following `$ref`)."""

    pointer: str
    value: Any


class Document:
    """The parsed contract, with `$ref` resolution inside it."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.raw = document

    def at(self, pointer: str) -> Any:
        node: Any = self.raw
        for part in pointer.lstrip("/").split("/") if pointer not in ("", "/") else []:
            key = unescape(part)
            node = node[int(key)] if isinstance(node, list) else node[key]
        return node

    def follow(self, pointer: str) -> Node:
        """The node at `pointer`, following `$ref` chains (within the document)."""
        value = self.at(pointer)
        seen = {pointer}
        while isinstance(value, dict) and isinstance(value.get("$ref"), str):
            target = value["$ref"]
            if not target.startswith("#") or target in seen:
                break
            seen.add(target)
            pointer = target[1:]
            value = self.at(pointer)
        return Node(pointer, value)

    def resolve(self, value: Any) -> Any:
        """A schema node with its `$ref` chain followed (for reading, not validating)."""
        if isinstance(value, dict) and isinstance(value.get("$ref"), str):
            return self.follow(value["$ref"][1:]).value
        return value


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema: Node


@dataclass(frozen=True)
class Operation:
    """One documented operation."""

    method: str
    path: str
    operation_id: str
    pointer: str
    parameters: tuple[Parameter, ...]
    body: Node | None
    body_required: bool
    secured: bool
    pattern: re.Pattern[str]

    @property
    def label(self) -> str:
        """`GET /ai/execution-contexts/{context_id}`."""
        return f"{self.method} {self.path}"

    def parameters_in(self, location: str) -> dict[str, Parameter]:
        return {p.name: p for p in self.parameters if p.location == location}

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        return {name: unquote(value) for name, value in found.groupdict().items()}


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    regex = "".join(
        f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part) for part in parts
    )
    return re.compile(regex)


def operations(document: Document) -> list[Operation]:
    """Every operation, literal paths before templated ones (`/a/new` wins over `/a/{id}`)."""
    found = []
    for path, item in document.raw.get("paths", {}).items():
        base = f"/paths/{escape(path)}"
        shared = item.get("parameters", [])
        for method in METHODS:
            if method in item:
                found.append(_operation(document, path, method, base, shared))
    return sorted(found, key=lambda op: op.path.count("{"))


def _operation(
    document: Document, path: str, method: str, base: str, shared: list[Any]
) -> Operation:
    pointer = f"{base}/{method}"
    spec = document.at(pointer)
    parameters: dict[tuple[str, str], Parameter] = {}
    sources = [(f"{base}/parameters/{i}", shared) for i in range(len(shared))]
    own = spec.get("parameters", [])
    sources += [(f"{pointer}/parameters/{i}", own) for i in range(len(own))]
    for where, _ in sources:
        node = document.follow(where)
        value = node.value
        schema = document.follow(f"{node.pointer}/schema")
        parameters[(value["name"], value["in"])] = Parameter(
            value["name"], value["in"], bool(value.get("required")), schema
        )
    body, body_required = _body(document, pointer, spec)
    security = spec.get("security", document.raw.get("security", []))
    return Operation(
        method=method.upper(),
        path=path,
        operation_id=spec.get("operationId", f"{method} {path}"),
        pointer=pointer,
        parameters=tuple(parameters.values()),
        body=body,
        body_required=body_required,
        secured=any(requirement for requirement in security),
        pattern=_pattern(path),
    )


def _body(document: Document, pointer: str, spec: dict[str, Any]) -> tuple[Node | None, bool]:
    if "requestBody" not in spec:
        return None, False
    node = document.follow(f"{pointer}/requestBody")
    return Node(f"{node.pointer}/content", node.value.get("content", {})), bool(
        node.value.get("required")
    )


def find(
    table: list[Operation], method: str, path: str
) -> tuple[Operation | None, dict[str, str], list[str]]:
    """`(operation, path parameters, methods the path allows)`; no operation if none matches."""
    allowed: list[str] = []
    for operation in table:
        params = operation.match(path)
        if params is None:
            continue
        if operation.method == method.upper():
            return operation, params, []
        allowed.append(operation.method)
    return None, {}, allowed


def response_spec(document: Document, operation: Operation, status: int) -> Node | None:
    """The documented response for `status` (exact, then `4XX`, then `default`)."""
    responses = document.at(operation.pointer).get("responses", {})
    for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
        if key in responses:
            return document.follow(f"{operation.pointer}/responses/{key}")
    return None


def documented_statuses(document: Document, operation: Operation) -> list[str]:
    return list(document.at(operation.pointer).get("responses", {}))
