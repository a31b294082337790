"""Request bodies, read against the profile's contract: what passes, and what the client is told."""

from __future__ import annotations

from typing import Any

import pytest

from wacht_mock.core.errors import BadRequest
from wacht_mock.service.profiles import dialect
from wacht_mock.service.requests import DEFAULT_AGENT, Approval, RequestReader

GUIDE = RequestReader(dialect("guide"))
PLATFORM = RequestReader(dialect("platform"))


def error_of(read: Any, body: Any) -> str:
    with pytest.raises(BadRequest) as caught:
        read(body)
    return caught.value.message


# -- guide: the documented API --------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "kind", "message"),
    [
        ({"new_message": {"message": "Help me", "files": None}}, "new_message", "Help me"),
        ({"continue": {}}, "continue", None),
        ({"stream": {"message": "Hi", "files": ["a.pdf"]}}, "stream", "Hi"),
        ({"new_message": {"message": ""}}, "new_message", ""),
        ({"user_input_response": {"message": "jane@example.com"}}, "user_input_response", None),
        ({"cancel": {}}, "cancel", None),
    ],
)
def test_execute_variants(variant: dict[str, Any], kind: str, message: str | None) -> None:
    request = GUIDE.execute({"agent_name": "support-bot", "execution_type": variant}).value
    assert (request.agent_name, request.kind) == ("support-bot", kind)
    if kind != "user_input_response":
        assert request.message == message
    else:
        assert request.message == "jane@example.com"


def test_the_platform_variants_carry_their_fields() -> None:
    approval = GUIDE.execute(
        {
            "agent_name": "a",
            "execution_type": {
                "approval_response": {
                    "request_message_id": "7",
                    "approvals": [{"tool_name": "refund", "mode": "allow_always"}],
                }
            },
        }
    ).value
    assert approval.request_message_id == "7"
    assert approval.approvals == (Approval("refund", "allow_always"),)
    result = GUIDE.execute(
        {
            "agent_name": "a",
            "execution_type": {"platform_function_result": {"execution_id": "9", "result": [1]}},
        }
    ).value
    assert (result.kind, result.execution_id, result.result) == (
        "platform_function_result",
        "9",
        [1],
    )


@pytest.mark.parametrize(
    ("execution_type", "expected"),
    [
        ({}, "/execution_type: Exactly one execution_type variant must be provided"),
        ({"new_message": {"message": "a"}, "stream": {"message": "b"}}, "got 2"),
        ({"new_mesage": {"message": "a"}}, "did you mean 'new_message'?"),
        ({"new_message": {}}, "/execution_type/new_message/message: required field is missing"),
        (
            {"continue": {"files": [1]}},
            "/execution_type/continue/files/0: expected a string, got 1",
        ),
        ({"new_message": {"message": 5}}, "/execution_type/new_message/message: expected a string"),
    ],
)
def test_bad_execution_types_point_at_the_place(execution_type: Any, expected: str) -> None:
    body = {"agent_name": "a", "execution_type": execution_type}
    message = error_of(GUIDE.execute, body)
    assert message.startswith("Invalid request body: ")
    assert expected in message


def test_a_missing_agent_name_is_refused_in_the_guide() -> None:
    body = {"execution_type": {"continue": {}}}
    assert "/agent_name: required field is missing" in error_of(GUIDE.execute, body)


def test_a_typo_in_a_field_is_refused_with_a_suggestion() -> None:
    message = error_of(GUIDE.create, {"title": "t", "system_instruction": "x"})
    assert "/system_instruction: unknown field" in message
    assert "did you mean 'system_instructions'?" in message


def test_unknown_fields_can_be_ignored_silently() -> None:
    lax = RequestReader(dialect("guide"), ignore_unknown=True)
    created = lax.create({"title": "t", "extra": 1})
    assert (created.value.title, created.notes) == ("t", ())
    execute = {"agent_name": "a", "x": 1, "execution_type": {"continue": {"y": 2}}}
    assert lax.execute(execute).value.kind == "continue"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "/title: required field is missing"),
        ({"title": 7}, "/title: expected a string, got 7"),
        ({"title": None}, "/title: expected a string, got null"),
        ({"title": "t", "status": "paused"}, '/status: expected one of "active", "inactive"'),
        ({"title": "t", "context_group": 3}, "/context_group: expected a string or null, got 3"),
        ([], "/: expected an object, got []"),
    ],
)
def test_bad_creates(body: Any, expected: str) -> None:
    assert expected in error_of(GUIDE.create, body)


def test_null_is_absent_in_a_create_and_empty_strings_are_kept() -> None:
    new = GUIDE.create({"title": "", "status": None, "context_group": ""}).value
    assert (new.title, new.status, new.context_group) == ("", "active", "")


def test_null_is_no_change_in_an_update() -> None:
    body = {"title": None, "system_instructions": None, "context_group": None, "status": None}
    assert GUIDE.update(body).value == {}
    assert GUIDE.update({"context_group": "", "status": "archived"}).value == {
        "context_group": "",
        "status": "archived",
    }


def test_types_are_strict() -> None:
    assert "expected a string" in error_of(GUIDE.update, {"title": 1.5})
    assert "expected a string" in error_of(GUIDE.update, {"title": True})


@pytest.mark.parametrize(
    ("read", "body", "expected"),
    [
        (GUIDE.create, {"title": "t", "status": "idle"}, "'idle' is a run state of the platform"),
        (GUIDE.update, {"status": "running"}, "'running' is a run state of the platform"),
        (
            GUIDE.execute,
            {
                "agent_name": "a",
                "execution_type": {"new_message": {"message": "m"}, "cancel": None},
            },
            "sent as null beside 'new_message': that is the platform dialect",
        ),
        (
            GUIDE.execute,
            {"agent_name": "a", "type": "new_message", "message": "m", "files": None},
            "internally tagged execute body",
        ),
        (
            GUIDE.execute,
            {
                "agent_name": "a",
                "execution_type": {"new_message": {"message": "m", "files": [{"name": "a"}]}},
            },
            "file objects are the platform dialect",
        ),
    ],
)
def test_the_platform_dialect_in_the_guide_names_the_switch(
    read: Any, body: Any, expected: str
) -> None:
    message = error_of(read, body)
    assert expected in message
    assert "start the mock with --profile platform" in message


# -- platform: the published SDKs ------------------------------------------------------------

RUST_BETA1 = {
    "agent_name": "support-bot",
    "execution_type": {
        "new_message": {"message": "Help me reset my password", "files": None},
        "user_input_response": None,
        "platform_function_result": None,
        "cancel": None,
    },
}


def test_the_struct_of_optional_variants_is_one_variant() -> None:
    request = PLATFORM.execute(RUST_BETA1).value
    assert (request.kind, request.message, request.files) == (
        "new_message",
        "Help me reset my password",
        (),
    )


def test_the_tagged_form_and_an_absent_agent() -> None:
    body = {"type": "new_message", "message": "hi", "files": None, "agent_name": None}
    request = PLATFORM.execute(body).value
    assert (request.agent_name, request.kind, request.message) == (
        DEFAULT_AGENT,
        "new_message",
        "hi",
    )


def test_files_may_be_strings_or_either_object() -> None:
    files = [
        "a.pdf",
        {"name": "b.txt", "content": "aGk=", "content_type": "text/plain"},
        {"filename": "c.png", "mime_type": "image/png", "data": "aGk="},
    ]
    body = {"execution_type": {"new_message": {"message": "", "files": files}}}
    assert PLATFORM.execute(body).value.files == ("a.pdf", "b.txt", "c.png")


def test_all_null_variants_are_no_variant() -> None:
    body = {"execution_type": {"new_message": None, "cancel": None}}
    assert "Exactly one execution_type variant must be provided" in error_of(PLATFORM.execute, body)


def test_unknown_fields_are_answered_but_noted() -> None:
    read = PLATFORM.create({"title": "t", "status": "active", "colour": "red"})
    assert (read.value.title, read.value.status) == ("t", "idle")
    assert len(read.notes) == 2
    assert all(note.startswith("contract violation: /") for note in read.notes)
    assert any("/colour: unknown field" in note for note in read.notes)


def test_an_unknown_update_status_is_ignored_and_noted() -> None:
    read = PLATFORM.update({"title": "x", "status": "paused"})
    assert read.value == {"title": "x"}
    (note,) = read.notes
    assert "/status" in note
    assert "the platform server ignored it" in note


def test_a_platform_create_may_be_empty() -> None:
    new = PLATFORM.create({}).value
    assert (new.title, new.status, new.system_instructions) == ("", "idle", None)


def test_a_wrong_type_is_still_refused_on_the_platform() -> None:
    assert "/title: expected a string or null, got 5" in error_of(PLATFORM.create, {"title": 5})
