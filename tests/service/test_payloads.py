"""Request bodies: what passes, and what the client is told when it does not."""

from __future__ import annotations

from typing import Any

import pytest

from wacht_mock.core.errors import BadRequest
from wacht_mock.service.payloads import (
    CreateContextRequest,
    ExecuteRequest,
    UpdateContextRequest,
    validate,
)


def error_of(model: Any, body: Any, **options: Any) -> str:
    with pytest.raises(BadRequest) as caught:
        validate(model, body, **options)
    return caught.value.message


@pytest.mark.parametrize(
    ("variant", "kind", "message"),
    [
        ({"new_message": {"message": "Help me", "files": None}}, "new_message", "Help me"),
        ({"continue": {}}, "continue", None),
        ({"stream": {"message": "Hi", "files": ["a.pdf"]}}, "stream", "Hi"),
    ],
)
def test_execute_variants(variant: dict[str, Any], kind: str, message: str | None) -> None:
    request = validate(ExecuteRequest, {"agent_name": "support-bot", "execution_type": variant})
    assert request.kind == kind
    assert request.message == message


def test_files_are_kept() -> None:
    body = {"agent_name": "a", "execution_type": {"continue": {"files": ["x", "y"]}}}
    assert validate(ExecuteRequest, body).files == ("x", "y")


@pytest.mark.parametrize(
    ("execution_type", "expected"),
    [
        ({}, "/execution_type: Exactly one execution_type variant"),
        ({"new_message": {"message": "a"}, "stream": {"message": "b"}}, "Exactly one"),
        ({"new_mesage": {"message": "a"}}, "Exactly one"),
        ("new_message", "Exactly one"),
        ({"new_message": None}, "/execution_type/new_message: expected an object, got null"),
        ({"new_message": {}}, "/execution_type/new_message/message: required field is missing"),
        (
            {"stream": {"message": ""}},
            "/execution_type/stream/message: expected a string of at least 1 character, got ''",
        ),
        (
            {"continue": {"files": [1]}},
            "/execution_type/continue/files/0: expected a string, got 1",
        ),
    ],
)
def test_bad_execution_types_point_at_the_place(execution_type: Any, expected: str) -> None:
    body = {"agent_name": "a", "execution_type": execution_type}
    assert expected in error_of(ExecuteRequest, body)


def test_missing_agent_name() -> None:
    body = {"execution_type": {"continue": {}}}
    assert "/agent_name: required field is missing" in error_of(ExecuteRequest, body)


def test_a_typo_in_a_field_is_refused_with_a_suggestion() -> None:
    message = error_of(CreateContextRequest, {"title": "t", "system_instruction": "x"})
    assert "/system_instruction: unknown field" in message
    assert "did you mean 'system_instructions'?" in message


def test_unknown_fields_can_be_ignored() -> None:
    body = {"title": "t", "extra": 1}
    assert validate(CreateContextRequest, body, ignore_unknown=True).title == "t"
    execute = {"agent_name": "a", "x": 1, "execution_type": {"continue": {"y": 2}}}
    assert validate(ExecuteRequest, execute, ignore_unknown=True).kind == "continue"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "/title: required field is missing"),
        ({"title": 7}, "/title: expected a string, got 7"),
        ({"title": ""}, "/title: expected a string of at least 1 character, got ''"),
        ({"title": "x" * 256}, "/title: expected a string of at most 255 characters, got 'xxx"),
        (
            {"title": "t", "status": "paused"},
            "/status: expected one of 'active', 'inactive' or 'archived', got 'paused'",
        ),
        (
            {"title": "t", "status": None},
            "/status: expected one of 'active', 'inactive' or 'archived', got null",
        ),
        (
            {"title": "t", "context_group": {"a": True}},
            '/context_group: expected a string, got {"a": true}',
        ),
        ({"title": "t", "context_group": 3}, "/context_group: expected a string, got 3"),
        ([], "/: expected an object, got []"),
    ],
)
def test_bad_creates(body: Any, expected: str) -> None:
    assert expected in error_of(CreateContextRequest, body)


def test_create_defaults_to_active() -> None:
    assert validate(CreateContextRequest, {"title": "t"}).status == "active"


def test_update_reports_only_sent_fields() -> None:
    update = validate(UpdateContextRequest, {"context_group": None, "status": "archived"})
    assert update.changes() == {"context_group": None, "status": "archived"}
    assert validate(UpdateContextRequest, {}).changes() == {}


@pytest.mark.parametrize("field", ["title", "status"])
def test_update_may_not_null_title_or_status(field: str) -> None:
    message = error_of(UpdateContextRequest, {field: None})
    assert message == f"Invalid request body: /{field}: may not be null"


def test_continue_with_null_says_null_not_none() -> None:
    body = {"agent_name": "a", "execution_type": {"continue": None}}
    assert error_of(ExecuteRequest, body).endswith(
        "/execution_type/continue: expected an object, got null"
    )


def test_types_are_strict() -> None:
    assert "expected a string" in error_of(UpdateContextRequest, {"title": b"x"})
    assert "/title" in error_of(UpdateContextRequest, {"title": 1.5})
