"""Requests and responses checked against the contract, with JSON Schema (Draft 2020-12).

>>> validator = ContractValidator()
>>> [str(v) for v in validator.validate_request("POST", "/ai/execution-contexts",
...     headers={"Authorization": "Bearer wk_test_a", "Content-Type": "application/json"},
...     body=b'{"title": 7}')]
['body /title: expected a string, got 7 (an integer)']

A request is checked for its method and path, its `Authorization` header, its query parameters,
its content type and its JSON body; a response for its status, content type, documented headers,
its JSON body or each Server-Sent Event, and the rules the contract states in words (see
`wacht_mock.contract.rules`). Each problem is a
`Violation`. The
validator knows nothing of the mock or of any server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from wacht_mock.contract.documents import load_contract
from wacht_mock.contract.operations import (
    Document,
    Operation,
    Parameter,
    find,
    operations,
)
from wacht_mock.contract.responses import ResponseCheck
from wacht_mock.contract.violations import Describer, Place, Violation, did_you_mean, preview
from wacht_mock.core.jsontext import JsonTextError, decode
from wacht_mock.core.wire import Request, escape, header_value, media_type, typed_value

CONTRACT_URI = "urn:wacht-mock:contract"
QueryLike = str | Mapping[str, Sequence[str]]
_BEARER = re.compile(r"Bearer +\S+", re.IGNORECASE)
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def query_dict(query: QueryLike) -> dict[str, list[str]]:
    if isinstance(query, str):
        return parse_qs(query.lstrip("?"), keep_blank_values=True)
    return {name: list(values) for name, values in query.items()}


class ContractValidator:
    """The contract as a validator of requests, responses and streamed events.

    `ignore_unknown_fields` stops reporting fields and query parameters the contract does not
    know (as the mock's `--ignore-unknown-fields` does).
    """

    def __init__(
        self,
        contract: Path | dict[str, Any] | None = None,
        *,
        ignore_unknown_fields: bool = False,
    ) -> None:
        raw = contract if isinstance(contract, dict) else load_contract(contract)
        self.document = Document(raw)
        self.operations = operations(self.document)
        self.ignore_unknown_fields = ignore_unknown_fields
        resource = DRAFT202012.create_resource(raw)
        self._registry: Registry[Any] = Registry().with_resource(CONTRACT_URI, resource)
        self._validators: dict[str, Draft202012Validator] = {}
        self._raw = raw
        self._fast: dict[str, Any] = {}

    # -- schemas ------------------------------------------------------------------------------

    def validator(self, pointer: str) -> Draft202012Validator:
        """A validator for the schema at `pointer` (cached)."""
        found = self._validators.get(pointer)
        if found is None:
            root = {"$ref": f"{CONTRACT_URI}#{pointer}"}
            found = Draft202012Validator(root, registry=self._registry, format_checker=_FORMATS)
            self._validators[pointer] = found
        return found

    def check(self, pointer: str, value: Any, place: Place, root: str = "") -> list[Violation]:
        """Violations of `value` against the schema at `pointer`, reported at `place`."""
        errors = list(self.validator(pointer).iter_errors(value))
        found = Describer(place, self.document.resolve, root).describe(errors)
        return self._kept(found)

    def _kept(self, found: Iterable[Violation]) -> list[Violation]:
        if not self.ignore_unknown_fields:
            return list(found)
        return [v for v in found if v.rule not in ("unknown field", "unknown parameter")]

    # -- requests -----------------------------------------------------------------------------

    def operation(self, method: str, path: str) -> Operation | None:
        return find(self.operations, method, path)[0]

    def by_id(self, operation_id: str) -> Operation:
        """The operation with this `operationId` (a `KeyError` names it when there is none)."""
        for operation in self.operations:
            if operation.operation_id == operation_id:
                return operation
        raise KeyError(f"the contract has no operation {operation_id!r}")

    def request_body(self, operation_id: str, data: Any) -> list[Violation]:
        """Violations of a parsed JSON request body, all of them, unknown fields included.

        A valid body costs a microsecond (a compiled Rust validator answers first); only a body
        that fails is walked again, by the Python validator, for messages a person can act on.
        """
        operation = self.by_id(operation_id)
        assert operation.body is not None, f"{operation_id} takes no body"
        pointer = f"{operation.body.pointer}/application~1json/schema"
        fast = self._fast.get(pointer)
        if fast is None:
            fast = jsonschema_rs.validator_for({**self._raw, "$ref": "#" + pointer})
            self._fast[pointer] = fast
        if fast.is_valid(data):
            return []
        return list(self.check(pointer, data, Place("request", operation.label, "body")))

    def validate_request(
        self,
        method: str,
        path: str,
        *,
        query: QueryLike = "",
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> list[Violation]:
        """Everything wrong with a request, in the order a reader would fix it."""
        operation, path_params, allowed = find(self.operations, method, path)
        if operation is None:
            return [_unknown_operation(method, path, allowed)]
        found = self._auth(operation, headers)
        found += self._parameters(operation, "path", {k: [v] for k, v in path_params.items()})
        found += self._parameters(operation, "query", query_dict(query))
        if operation.body is not None:
            found += self._body(operation, headers, body or b"")
        return found

    def _auth(self, operation: Operation, headers: Mapping[str, str] | None) -> list[Violation]:
        value = header_value(headers, "authorization")
        if not operation.secured or (value is not None and _BEARER.fullmatch(value.strip())):
            return []
        scheme, space, _ = (value or "").strip().partition(" ")
        arrived = f"{scheme!r} …" if space else "a value with no scheme"
        arrived = "nothing" if value is None else arrived
        place = Place("request", operation.label, "header")
        return [
            place.violation(
                "Authorization",
                "'Bearer <API key>'",
                arrived,
                rule="auth",
            )
        ]

    def _parameters(
        self, operation: Operation, location: str, given: dict[str, list[str]]
    ) -> list[Violation]:
        declared = operation.parameters_in(location)
        place = Place("request", operation.label, location)
        found = [
            place.violation(
                name,
                "one of the parameters " + ", ".join(declared) if declared else "none",
                preview(values[0]),
                rule="unknown parameter",
                message="unknown parameter (not in the contract)",
                hint=did_you_mean(name, declared),
            )
            for name, values in given.items()
            if name not in declared
        ]
        for name, parameter in declared.items():
            values = given.get(name, [])
            found += self._parameter(parameter, values, place)
        return self._kept(found)

    def _parameter(self, parameter: Parameter, values: list[str], place: Place) -> list[Violation]:
        name = parameter.name
        if not values:
            if not parameter.required:
                return []
            return [place.violation(name, "a value", "nothing", rule="required")]
        if len(values) > 1:
            return [place.violation(name, "one value", f"{len(values)} values", rule="repeated")]
        schema = self.document.resolve(parameter.schema.value)
        value, problem = typed_value(values[0], schema if isinstance(schema, dict) else {})
        if problem:
            return [place.violation(name, problem, preview(values[0]), rule="type")]
        return self.check(parameter.schema.pointer, value, place, root=name)

    def _body(
        self, operation: Operation, headers: Mapping[str, str] | None, body: bytes
    ) -> list[Violation]:
        assert operation.body is not None
        content: dict[str, Any] = operation.body.value
        place = Place("request", operation.label, "body")
        if not body:
            if not operation.body_required:
                return []
            return [place.violation("", "a JSON body", "nothing", rule="required")]
        sent = media_type(header_value(headers, "content-type"))
        if sent not in content:
            arrived = repr(sent) if sent else "no Content-Type"
            header = Place("request", operation.label, "header")
            return [
                header.violation("Content-Type", " or ".join(content), arrived, rule="content type")
            ]
        try:
            data = decode(body, "the body")
        except JsonTextError as exc:
            return [
                place.violation("", "JSON text", "malformed JSON", rule="json", message=str(exc))
            ]
        return self.check(f"{operation.body.pointer}/{escape(sent)}/schema", data, place)

    # -- responses ----------------------------------------------------------------------------

    def validate_response(
        self,
        method: str,
        path: str,
        status: int,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        query: QueryLike = "",
        request_body: bytes | None = None,
    ) -> list[Violation]:
        """Everything wrong with a whole response to a request (a stream read to its end)."""
        operation, path_params, _ = find(self.operations, method, path)
        if operation is None:
            return []
        request = self._request_facts(operation, path, path_params, query, request_body)
        check = ResponseCheck(self, operation, request)
        return check.start(status, headers or {}) + check.whole(body)

    def response_check(
        self,
        method: str,
        path: str,
        *,
        query: QueryLike = "",
        request_body: bytes | None = None,
        rules_only: bool = False,
    ) -> ResponseCheck | None:
        """A check to feed a response piece by piece (a proxy's streamed events).

        `rules_only` checks the worded rules alone, for a caller that checks schemas itself.
        """
        operation, path_params, _ = find(self.operations, method, path)
        if operation is None:
            return None
        request = self._request_facts(operation, path, path_params, query, request_body)
        return ResponseCheck(self, operation, request, rules_only=rules_only)

    def _request_facts(
        self,
        operation: Operation,
        path: str,
        path_params: dict[str, str],
        query: QueryLike,
        request_body: bytes | None,
    ) -> Request:
        try:
            data = decode(request_body) if request_body else None
        except JsonTextError:
            data = None
        return Request(operation.method, path, query_dict(query), path_params, data)


def _unknown_operation(method: str, path: str, allowed: list[str]) -> Violation:
    place = Place("request", f"{method.upper()} {path}", "method" if allowed else "path")
    if allowed:
        return place.violation(
            "",
            "one of " + ", ".join(allowed),
            method.upper(),
            rule="method",
            message=f"{method.upper()} is not an operation of {path}",
            hint=f"allowed: {', '.join(allowed)}",
        )
    return place.violation(
        "", "a path of the contract", path, rule="path", message=f"{path} is not in the contract"
    )
