"""The contract validator: requests and responses, with messages that say where and what."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wacht_mock.contract.drift import DriftReport, folded
from wacht_mock.contract.validation import ContractValidator
from wacht_mock.contract.violations import Violation
from wacht_mock.core.jsontext import JsonTextError, decode
from wacht_mock.core.sse import SseEvent, SseReader, read_events

COLLECTION = "/ai/execution-contexts"
ITEM = COLLECTION + "/7391586104289181696"
EXECUTE = ITEM + "/execute"
HEADERS = {"Authorization": "Bearer wk_test_alpha", "Content-Type": "application/json"}
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def validator() -> ContractValidator:
    return ContractValidator()


def request(
    validator: ContractValidator,
    method: str,
    path: str,
    body: Any = None,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
) -> list[str]:
    raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    found = validator.validate_request(
        method, path, query=query, headers=HEADERS if headers is None else headers, body=raw
    )
    return [str(violation) for violation in found]


def context(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "id": "7391586104289181696",
        "deployment_id": "7391585000000000001",
        "title": "Customer Support Context",
        "system_instructions": None,
        "context_group": "support",
        "status": "active",
        "created_at": "2026-11-20T23:24:22.123456Z",
        "updated_at": "2026-11-20T23:24:22.123456Z",
        "last_activity_at": "2026-11-20T23:24:22.123456Z",
        "completed_at": None,
        "execution_state": None,
    }
    return {**value, **changes}


def response(
    validator: ContractValidator,
    method: str,
    path: str,
    status: int,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    query: str = "",
    request_body: Any = None,
) -> list[Violation]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = None if request_body is None else json.dumps(request_body).encode()
    return validator.validate_response(
        method,
        path,
        status,
        headers=JSON if headers is None else headers,
        body=raw,
        query=query,
        request_body=sent,
    )


# -- requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"title": 7}, "body /title: expected a string, got 7 (an integer)"),
        ({}, "body /title: required field is missing"),
        (
            {"title": "x" * 256},
            "body /title: expected a string of at most 255 characters, got",
        ),
        (
            {"title": "t", "status": "paused"},
            'body /status: expected one of "active", "inactive", "archived", got "paused"',
        ),
        (
            {"title": "t", "system_instruction": "x"},
            "body /system_instruction: unknown field (not in the contract); "
            "did you mean 'system_instructions'?",
        ),
        ([], "body /: expected an object, got [] (an array)"),
    ],
)
def test_create_bodies(validator: ContractValidator, body: Any, expected: str) -> None:
    (found,) = request(validator, "POST", COLLECTION, body)
    assert found.startswith(expected)


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": "t", "status": None, "context_group": "", "system_instructions": None},
    ],
)
def test_create_bodies_may_hold_empty_strings_and_nulls(
    validator: ContractValidator, body: Any
) -> None:
    assert request(validator, "POST", COLLECTION, body) == []


@pytest.mark.parametrize(
    ("execution_type", "expected"),
    [
        (
            {},
            "body /execution_type: expected exactly one of new_message, continue, stream, "
            "user_input_response, approval_response, platform_function_result, cancel, got none",
        ),
        (
            {"new_message": {"message": "a"}, "stream": {"message": "b"}},
            "got 2: new_message, stream; send one variant per request",
        ),
        ({"new_mesage": {"message": "a"}}, "got 'new_mesage'; did you mean 'new_message'?"),
        ("new_message", "expected an object with exactly one of new_message, continue, stream"),
        (
            {"new_message": {}},
            "body /execution_type/new_message/message: required field is missing "
            "(closest variant: new_message)",
        ),
        (
            {"stream": {"message": "x" * 65_537}},
            "body /execution_type/stream/message: expected a string of at most 65536 characters",
        ),
        (
            {"continue": {"files": [1]}},
            "body /execution_type/continue/files/0: expected a string, got 1 (an integer) "
            "(closest variant: continue)",
        ),
        (
            {"new_message": {"message": "x"}, "extra": 1},
            "body /execution_type/extra: unknown field (not in the contract) "
            "(closest variant: new_message)",
        ),
    ],
)
def test_execution_type_names_the_closest_variant(
    validator: ContractValidator, execution_type: Any, expected: str
) -> None:
    found = request(
        validator, "POST", EXECUTE, {"agent_name": "a", "execution_type": execution_type}
    )
    assert len(found) == 1
    assert expected in found[0]


def test_a_good_request_has_no_violations(validator: ContractValidator) -> None:
    body = {
        "agent_name": "bot",
        "execution_type": {"new_message": {"message": "hi", "files": None}},
    }
    assert request(validator, "POST", EXECUTE, body) == []
    assert request(validator, "GET", COLLECTION, query="limit=100&offset=0&status=active") == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("limit=0", "query limit: expected an integer of at least 1, got 0"),
        ("limit=101", "query limit: expected an integer of at most 100, got 101"),
        ("offset=x", 'query offset: expected an integer, got "x"'),
        ("status=paused", 'query status: expected one of "active", "inactive", "archived"'),
        ("limit=5&limit=6", "query limit: expected one value, got 2 values"),
        ("statuss=active", "query statuss: unknown parameter (not in the contract); did you mean"),
    ],
)
def test_query_parameters(validator: ContractValidator, query: str, expected: str) -> None:
    found = request(validator, "GET", COLLECTION, query=query)
    assert len(found) == 1
    assert found[0].startswith(expected)


def test_unknown_fields_and_parameters_can_be_ignored() -> None:
    lax = ContractValidator(ignore_unknown_fields=True)
    assert request(lax, "POST", COLLECTION, {"title": "t", "extra": 1}) == []
    assert request(lax, "GET", COLLECTION, query="cache_buster=1") == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"title": "t",}', "body: the body is not valid JSON: Expecting property name"),
        (b'{"title": "a", "title": "b"}', "body: the body has the key 'title' twice"),
        (b"\xff", "body: the body is not valid UTF-8 (byte 0)"),
    ],
)
def test_malformed_json(validator: ContractValidator, raw: bytes, expected: str) -> None:
    assert request(validator, "POST", COLLECTION, raw)[0].startswith(expected)


def test_content_type_auth_method_and_path(validator: ContractValidator) -> None:
    text = {**HEADERS, "Content-Type": "text/plain"}
    assert request(validator, "POST", COLLECTION, {"title": "t"}, headers=text) == [
        "header Content-Type: expected application/json, got 'text/plain'"
    ]
    assert request(validator, "GET", COLLECTION, headers={}) == [
        "header Authorization: expected 'Bearer <API key>', got nothing"
    ]
    basic = {"Authorization": "Basic wk_test_alpha"}
    assert request(validator, "GET", COLLECTION, headers=basic) == [
        "header Authorization: expected 'Bearer <API key>', got 'Basic' …"
    ]
    assert request(validator, "PUT", COLLECTION) == [
        "method: PUT is not an operation of /ai/execution-contexts; allowed: GET, POST"
    ]
    assert request(validator, "GET", "/ai/contexts") == [
        "path: /ai/contexts is not in the contract"
    ]
    assert request(validator, "POST", COLLECTION, b"") == [
        "body: expected a JSON body, got nothing"
    ]


def test_a_violation_carries_its_parts(validator: ContractValidator) -> None:
    (found,) = validator.validate_request("POST", COLLECTION, headers=HEADERS, body=b'{"title": 7}')
    assert (found.direction, found.operation) == ("request", "POST /ai/execution-contexts")
    assert (found.location, found.pointer, found.where) == ("body", "/title", "body /title")
    assert (found.expected, found.arrived, found.rule) == ("a string", "7 (an integer)", "type")


# -- responses ---------------------------------------------------------------------------------


def test_a_documented_response_is_clean(validator: ContractValidator) -> None:
    assert response(validator, "GET", ITEM, 200, context()) == []
    envelope = {"errors": [{"message": "Execution context 1 not found", "code": 404}]}
    assert response(validator, "GET", ITEM, 404, envelope) == []
    assert validator.validate_response("DELETE", ITEM, 204) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (context(deployment_id=7), "body /deployment_id: expected a string, got 7 (an integer)"),
        (
            {k: v for k, v in context().items() if k != "execution_state"},
            "body /execution_state: required",
        ),
        (
            context(created_at="yesterday"),
            "body /created_at: expected a date-time string (RFC 3339)",
        ),
        (
            context(execution_state={"execution_id": "1"}),
            "body /execution_state/conversation_id: required field is missing",
        ),
    ],
)
def test_response_bodies(validator: ContractValidator, body: Any, expected: str) -> None:
    found = [str(v) for v in response(validator, "GET", ITEM, 200, body)]
    assert found
    assert found[0].startswith(expected)
    assert all(v.direction == "response" for v in response(validator, "GET", ITEM, 200, body))


def test_status_content_type_and_envelope(validator: ContractValidator) -> None:
    (status,) = response(validator, "POST", COLLECTION, 201, context())
    assert (
        str(status)
        == "status: status 201 is not documented (documented: 200, 400, 401, 413, 415, 500)"
    )
    (kind,) = response(
        validator, "GET", ITEM, 200, b"<html/>", headers={"content-type": "text/html"}
    )
    assert str(kind) == "header Content-Type: expected application/json, got 'text/html'"
    found = {str(v) for v in response(validator, "GET", ITEM, 404, {"detail": "Not Found"})}
    assert found == {
        "body /errors: required field is missing",
        "body /detail: unknown field (not in the contract)",
    }
    (body,) = validator.validate_response("DELETE", ITEM, 204, body=b"{}")
    assert str(body) == "body: expected no body, got 2 bytes"


def test_a_documented_header_is_checked(validator: ContractValidator) -> None:
    envelope = {"errors": [{"message": "Slow down", "code": 429}]}
    (missing,) = response(validator, "POST", EXECUTE, 429, envelope)
    assert str(missing) == "header Retry-After: expected the header, got nothing"
    (typed,) = response(
        validator, "POST", EXECUTE, 429, envelope, headers={**JSON, "Retry-After": "soon"}
    )
    assert str(typed) == 'header Retry-After: expected an integer, got "soon"'
    assert (
        response(validator, "POST", EXECUTE, 429, envelope, headers={**JSON, "Retry-After": "2"})
        == []
    )


def test_history_blocks_name_their_variant(validator: ContractValidator) -> None:
    turn = {
        "id": "1",
        "execution_id": "2",
        "role": "assistant",
        "created_at": "2026-01-01T00:00:00Z",
        "blocks": [{"type": "tool_call", "call_id": "c1", "name": "lookup", "args": []}],
    }
    page = {"data": [turn], "has_more": False, "limit": 50, "offset": 0}
    (found,) = response(validator, "GET", ITEM + "/messages", 200, page)
    assert str(found) == (
        "body /data/0/blocks/0/args: expected an object, got [] (an array) "
        "(closest variant: ToolCallBlock)"
    )


# -- the worded rules --------------------------------------------------------------------------


def page_of(*items: dict[str, Any], limit: int = 50, offset: int = 0) -> dict[str, Any]:
    return {"data": list(items), "has_more": False, "limit": limit, "offset": offset}


def test_an_ignored_filter_is_named(validator: ContractValidator) -> None:
    body = page_of(context(status="archived"))
    (found,) = response(validator, "GET", COLLECTION, 200, body, query="status=active")
    assert str(found) == (
        'body /data/0/status: expected "active" (the status filter sent), got "archived"; '
        "the list ignored its status filter"
    )
    assert found.rule == "filter"


def test_a_page_echoes_what_was_asked(validator: ContractValidator) -> None:
    (limit,) = response(validator, "GET", COLLECTION, 200, page_of(limit=50), query="limit=10")
    assert str(limit).startswith("body /limit: expected 10 (the limit asked for), got 50")
    items = [context(id=str(n)) for n in (3, 2, 1)]
    (size,) = response(validator, "GET", COLLECTION, 200, page_of(*items, limit=2), query="limit=2")
    assert str(size) == "body /data: expected at most 2 items, got 3 items"


def test_the_list_order_is_checked(validator: ContractValidator) -> None:
    older, newer = context(id="1"), context(id="2", last_activity_at="2026-11-21T00:00:00Z")
    assert response(validator, "GET", COLLECTION, 200, page_of(newer, older)) == []
    (found,) = response(validator, "GET", COLLECTION, 200, page_of(older, newer))
    assert found.rule == "order"
    assert found.where == "body /data/1"


def test_an_error_code_is_the_status(validator: ContractValidator) -> None:
    envelope = {"errors": [{"message": "gone", "code": 404}]}
    (found,) = response(validator, "GET", ITEM, 500, envelope)
    assert str(found) == (
        "body /errors/0/code: expected 500, got 404; "
        "an error's code is the HTTP status of the answer"
    )


def test_create_and_update_answer_what_was_sent(validator: ContractValidator) -> None:
    sent = {"title": "Sales", "context_group": "sales"}
    found = response(validator, "POST", COLLECTION, 200, context(), request_body=sent)
    assert [v.where for v in found] == ["body /title", "body /context_group"]
    assert (
        response(validator, "PATCH", ITEM, 200, context(), request_body={"status": "active"}) == []
    )
    (other,) = response(validator, "GET", ITEM, 200, context(id="5"))
    assert str(other) == 'body /id: expected "7391586104289181696" (the id in the path), got "5"'


# -- streams -----------------------------------------------------------------------------------


def sse(*events: tuple[str, Any], ids: bool = True) -> bytes:
    out = b""
    for number, (name, data) in enumerate(events, start=1):
        event = SseEvent(name, json.dumps(data), str(number) if ids else None)
        out += event.encode()
    return out


START = {"execution_id": "1", "conversation_id": "2", "message_id": "3"}
REPLY = {
    "message_id": "3",
    "role": "assistant",
    "content": "Hello there",
    "tool_calls": [],
    "reasoning": None,
    "structured_output": None,
    "usage": {"input_tokens": 1, "output_tokens": 2},
    "stop_reason": "end_turn",
}
END = {"execution_id": "1", "conversation_id": "2", "status": "completed", "response": REPLY}
STREAM = {"content-type": "text/event-stream; charset=utf-8"}


def stream(validator: ContractValidator, body: bytes) -> list[str]:
    found = validator.validate_response("POST", EXECUTE, 200, headers=STREAM, body=body)
    return [str(v) for v in found]


def test_a_clean_stream(validator: ContractValidator) -> None:
    body = sse(
        ("message_start", START),
        ("content_delta", {"text": "Hello "}),
        ("content_delta", {"text": "there"}),
        ("message_end", END),
    )
    assert stream(validator, body) == []
    error = {"errors": [{"message": "overloaded", "code": 503}]}
    assert stream(validator, sse(("message_start", START), ("error", error))) == []


def test_stream_events_are_validated_by_their_data_schema(validator: ContractValidator) -> None:
    body = sse(
        ("message_start", START),
        ("content_delta", {"text": 5}),
        ("message_end", {**END, "response": {**REPLY, "content": ""}}),
    )
    assert stream(validator, body) == [
        "event 2 (content_delta) data /text: expected a string, got 5 (an integer)"
    ]


def test_stream_framing_rules(validator: ContractValidator) -> None:
    wrong_sum = sse(
        ("message_start", START), ("content_delta", {"text": "Hi"}), ("message_end", END)
    )
    assert stream(validator, wrong_sum) == [
        "event 3 (message_end) data /response/content: expected the content_delta texts joined, "
        'got "Hello there"'
    ]
    no_ids = sse(("message_start", START), ids=False)
    assert stream(validator, no_ids)[0] == "event 1 (message_start) /id: required field is missing"
    twice = {**END, "response": {**REPLY, "content": "", "message_id": "9"}}
    late = sse(("message_start", START), ("message_end", twice), ("content_delta", {"text": ""}))
    assert stream(validator, late) == [
        'event 2 (message_end) data /response/message_id: expected "3" (as in message_start), '
        'got "9"',
        "event 3 (content_delta): expected nothing after message_end, got content_delta",
    ]
    cut = sse(("message_start", START), ("content_delta", {"text": "Hel"}))
    assert stream(validator, cut) == [
        "stream: expected message_end or error as the last event, got 2 events and no end"
    ]
    unknown = sse(("message_begin", START))
    assert stream(validator, unknown)[:2] == [
        'event 1 (message_begin) /event: expected one of "message_start", "content_delta", '
        '"tool_call", "message_end", "error", got "message_begin"',
        "event 1 (message_begin): expected message_start first, got message_begin",
    ]


# -- the pieces underneath ---------------------------------------------------------------------


def test_sse_reader_handles_split_lines_comments_and_cuts() -> None:
    reader = SseReader()
    assert reader.feed(b": keep-alive\r\nevent: a\r") == []
    assert reader.feed(b"\nid: 1\ndata: x\ndata: y\r\n") == []
    assert reader.feed(b"\r\n") == [SseEvent("a", "x\ny", "1")]
    events, complete = read_events(b"data: one\n\ndata: half")
    assert (events, complete) == ([SseEvent("message", "one")], False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"[1, NaN]", "Body is not valid JSON: NaN is not a JSON number"),
        (b'["\\ud800"]', "Body holds a lone UTF-16 surrogate"),
        (b"[" * 100_000, "Body is nested too deeply"),
        (b"9" * 5000, "Body holds a number of 5000 digits"),
    ],
)
def test_json_text_is_strict(raw: bytes, expected: str) -> None:
    with pytest.raises(JsonTextError, match=expected.split(": ")[-1]):
        decode(raw, "Body")


def test_drift_folds_indexes_and_counts(validator: ContractValidator) -> None:
    report = DriftReport()
    for index in range(3):
        body = page_of(*[context(deployment_id=7)] * (index + 1))
        report.add(response(validator, "GET", COLLECTION, 200, body))
    (item,) = report.items()
    assert (item.operation, item.where, item.count) == (
        "GET /ai/execution-contexts",
        "body /data/*/deployment_id",
        6,
    )
    assert "6  response  GET /ai/execution-contexts" in report.text()
    assert folded(response(validator, "GET", ITEM, 200, context(title=1))[0]) == "body /title"
