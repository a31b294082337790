"""One response checked against the contract as it arrives: status, headers, body or events.

A proxy feeds it piece by piece (`ResponseCheck.start`, then `ResponseCheck.event`
for each Server-Sent Event and `ResponseCheck.finish`); a whole response goes through
`ResponseCheck.whole`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import cached_property
from typing import Any, Protocol

from wacht_mock.contract import rules
from wacht_mock.contract.operations import (
    Document,
    Node,
    Operation,
    documented_statuses,
    response_spec,
)
from wacht_mock.contract.violations import Place, Violation, preview
from wacht_mock.core.jsontext import JsonTextError, decode
from wacht_mock.core.sse import SseEvent, read_events
from wacht_mock.core.wire import Request, escape, header_value, media_type, typed_value


class SchemaChecker(Protocol):
    """What a response check needs of the contract's validator (`ContractValidator` is one)."""

    document: Document

    def check(self, pointer: str, value: Any, place: Place, root: str = "") -> list[Violation]: ...

    def validator(self, pointer: str) -> Any: ...


class ResponseCheck:
    """One response, checked as it arrives: `start`, then `body` or `event`s."""

    def __init__(
        self,
        validator: SchemaChecker,
        operation: Operation,
        request: Request,
        *,
        rules_only: bool = False,
    ) -> None:
        self.validator = validator
        self.operation = operation
        self.request = request
        self.rules_only = rules_only
        self.status = 0
        self.accepted = False
        self.streaming = False
        self._content: Node | None = None
        self._stream = rules.StreamRules()
        self._events = 0

    def place(self, location: str) -> Place:
        return Place("response", self.operation.label, location)

    @cached_property
    def _document(self) -> Document:
        return self.validator.document

    def start(self, status: int, headers: Mapping[str, str]) -> list[Violation]:
        """Status, content type and documented headers."""
        found = self._start(status, headers)
        return [] if self.rules_only else found

    def _start(self, status: int, headers: Mapping[str, str]) -> list[Violation]:
        self.status = status
        spec = response_spec(self._document, self.operation, status)
        if spec is None:
            documented = ", ".join(documented_statuses(self._document, self.operation))
            return [
                self.place("status").violation(
                    "",
                    f"one of {documented}",
                    str(status),
                    rule="status",
                    message=f"status {status} is not documented (documented: {documented})",
                )
            ]
        self.accepted = True
        found = self._headers(spec, headers)
        content = spec.value.get("content") or {}
        sent = media_type(header_value(headers, "content-type"))
        if content and sent not in content:
            self.accepted = False
            arrived = repr(sent) if sent else "no Content-Type"
            found.append(
                self.place("header").violation(
                    "Content-Type", " or ".join(content), arrived, rule="content type"
                )
            )
        elif content:
            self._content = Node(f"{spec.pointer}/content/{escape(sent)}/schema", None)
            self.streaming = sent == "text/event-stream"
        return found

    def _headers(self, spec: Node, headers: Mapping[str, str]) -> list[Violation]:
        found = []
        for name in spec.value.get("headers", {}):
            node = self._document.follow(f"{spec.pointer}/headers/{escape(name)}")
            value = header_value(headers, name)
            place = self.place("header")
            if value is None:
                if node.value.get("required"):
                    found.append(place.violation(name, "the header", "nothing", rule="required"))
                continue
            schema_node = self._document.follow(f"{node.pointer}/schema")
            typed, problem = typed_value(value, schema_node.value)
            if problem:
                found.append(place.violation(name, problem, preview(value), rule="type"))
            else:
                found += self.validator.check(schema_node.pointer, typed, place, root=name)
        return found

    def whole(self, body: bytes, *, cut: bool = False) -> list[Violation]:
        """The whole body after `start`: JSON, or every event of a stream.

        `cut`: the reader stopped early on purpose, so how the stream ends is not checked.
        """
        if not self.accepted:
            return []
        if not self.streaming:
            return self.body(body)
        events, complete = read_events(body)
        found = [violation for event in events for violation in self.event(event)]
        return found if cut else found + self.finish(complete=complete)

    def check(self, pointer: str, value: Any, place: Place) -> list[Violation]:
        return [] if self.rules_only else self.validator.check(pointer, value, place)

    def _malformed(self, place: Place, exc: JsonTextError) -> list[Violation]:
        if self.rules_only:
            return []
        return [place.violation("", "JSON text", "malformed JSON", rule="json", message=str(exc))]

    def body(self, body: bytes) -> list[Violation]:
        """A whole (non-streamed) body."""
        place = self.place("body")
        if self._content is None:
            if body:
                return [place.violation("", "no body", f"{len(body)} bytes", rule="body")]
            return []
        try:
            data = decode(body, "the body")
        except JsonTextError as exc:
            return self._malformed(place, exc)
        found = self.check(self._content.pointer, data, place)
        found += rules.response_rules(
            self.operation.operation_id, self._kept_request(), self.status, data, place
        )
        return found

    def _kept_request(self) -> Request:
        """The request as the contract says the server keeps it, for the echo rules.

        Null is "absent" (a create takes the default, an update changes nothing), a field the
        request schema does not name or a value it refuses was ignored (as the platform server
        did), and a create's absent fields take the schema's `default`. A `status` that is
        none of the document's `ContextStatus` values is ignored (the platform document says
        its server did so; in the guide's, such a status is refused before any answer).
        """
        body, sent = self.operation.body, self.request.json
        if body is None or not isinstance(sent, dict):
            return self.request
        pointer = f"{body.pointer}/application~1json/schema"
        schema = self.validator.document.follow(pointer)
        properties = schema.value.get("properties", {}) if isinstance(schema.value, dict) else {}
        kept = {
            name: value
            for name, value in sent.items()
            if name in properties
            and value is not None
            and self.validator.validator(f"{schema.pointer}/properties/{escape(name)}").is_valid(
                value
            )
        }
        statuses = (
            self.validator.document.raw.get("components", {})
            .get("schemas", {})
            .get("ContextStatus", {})
            .get("enum")
        )
        if statuses and kept.get("status") not in (None, *statuses):
            del kept["status"]
        if self.operation.operation_id == "createExecutionContext":
            for name, spec in properties.items():
                if name not in kept and "default" in spec:
                    kept[name] = spec["default"]
        return replace(self.request, json=kept)

    def event(self, event: SseEvent) -> list[Violation]:
        """One Server-Sent Event of a streamed body."""
        assert self._content is not None
        self._events += 1
        location = f"event {self._events} ({event.event})"
        found = self.check(self._content.pointer, event.as_object(), self.place(location))
        found += self._event_data(event, location)
        found += self._stream.event(self._events, event, self.place(location))
        return found

    def finish(self, *, complete: bool) -> list[Violation]:
        """After the last event: the stream's own rules (how it ends, what it adds up to)."""
        return self._stream.finish(complete, self.place("stream"))

    def _event_data(self, event: SseEvent, location: str) -> list[Violation]:
        assert self._content is not None
        pointers = list(self._content_schemas(event))
        if not pointers:
            return []
        place = self.place(f"{location} data")
        try:
            data = decode(event.data.encode("utf-8", "surrogatepass"), "the event data")
        except JsonTextError as exc:
            return self._malformed(place, exc)
        found = []
        for pointer in pointers:
            found += self.check(pointer, data, place)
        return found

    def _content_schemas(self, event: SseEvent) -> Iterable[str]:
        """Pointers of the `contentSchema` that apply to the event's `data` (by `if`)."""
        assert self._content is not None
        node = self._document.follow(self._content.pointer)
        schema = node.value if isinstance(node.value, dict) else {}
        if "contentSchema" in schema.get("properties", {}).get("data", {}):
            yield f"{node.pointer}/properties/data/contentSchema"
        instance = event.as_object()
        for index, part in enumerate(schema.get("allOf", [])):
            base = f"{node.pointer}/allOf/{index}"
            then = part.get("then", {}).get("properties", {}).get("data", {})
            applies = "if" in part and "contentSchema" in then
            if applies and self.validator.validator(f"{base}/if").is_valid(instance):
                yield f"{base}/then/properties/data/contentSchema"
