"""The client under test, checked by the mock: each kind of bad request is refused with a message
a user can act on, and lands in the journal as a contract violation.

The contract validator (what the proxy uses) must refuse the same request at the same place, so
the mock and the contract cannot disagree about what a client may send.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.helpers import KEY, auth
from wacht_mock.contract.validation import ContractValidator
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock

pytestmark = pytest.mark.anyio

COLLECTION = "/ai/execution-contexts"


@dataclass(frozen=True)
class Bad:
    """A bad request, the answer it gets, and where the contract validator must point."""

    name: str
    method: str
    path: str
    status: int
    message: str
    where: str
    body: Any = None
    query: str = ""
    content_type: str = "application/json"

    def raw(self) -> bytes | None:
        if self.body is None or isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


def execute(execution_type: Any) -> dict[str, Any]:
    return {"agent_name": "support-bot", "execution_type": execution_type}


EXECUTE = COLLECTION + "/{id}/execute"
BAD = [
    Bad(
        "unknown field",
        "POST",
        COLLECTION,
        400,
        "Invalid request body: /system_instruction: unknown field (not in the contract); "
        "did you mean 'system_instructions'?",
        "body /system_instruction",
        {"title": "t", "system_instruction": "Be brief"},
    ),
    Bad(
        "wrong type",
        "POST",
        COLLECTION,
        400,
        "Invalid request body: /title: expected a string, got 7",
        "body /title",
        {"title": 7},
    ),
    Bad(
        "missing field",
        "POST",
        COLLECTION,
        400,
        "Invalid request body: /title: required field is missing",
        "body /title",
        {},
    ),
    Bad(
        "missing variant",
        "POST",
        EXECUTE,
        400,
        "Invalid request body: /execution_type: Exactly one execution_type variant must be "
        "provided: new_message, continue, stream, user_input_response, approval_response, "
        "platform_function_result or cancel, got none",
        "body /execution_type",
        execute({}),
    ),
    Bad(
        "several variants",
        "POST",
        EXECUTE,
        400,
        "Invalid request body: /execution_type: Exactly one execution_type variant must be "
        "provided: new_message, continue, stream, user_input_response, approval_response, "
        "platform_function_result or cancel, got 2: 'new_message' and 'stream'; "
        "send one variant per request",
        "body /execution_type",
        execute({"new_message": {"message": "a"}, "stream": {"message": "b"}}),
    ),
    Bad(
        "misspelt variant",
        "POST",
        EXECUTE,
        400,
        "got 'new_mesage'; did you mean 'new_message'?",
        "body /execution_type",
        execute({"new_mesage": {"message": "Help"}}),
    ),
    Bad(
        "bad field inside a variant",
        "POST",
        EXECUTE,
        400,
        "Invalid request body: /execution_type/stream/message: required field is missing",
        "body /execution_type/stream/message",
        execute({"stream": {"files": None}}),
    ),
    Bad(
        "bad query value",
        "GET",
        COLLECTION,
        400,
        "Query parameter 'limit': expected an integer from 1 to 100, got '0'",
        "query limit",
        query="limit=0",
    ),
    Bad(
        "bad query choice",
        "GET",
        COLLECTION,
        400,
        "Query parameter 'status': expected one of active, inactive, archived, got 'paused'",
        "query status",
        query="status=paused",
    ),
    Bad(
        "malformed JSON",
        "POST",
        COLLECTION,
        400,
        "Request body is not valid JSON: Expecting ',' delimiter at line 1 column 15",
        "body",
        b'{"title": "t" "status": "active"}',
    ),
    Bad(
        "wrong content type",
        "POST",
        COLLECTION,
        415,
        "Request body must be application/json, got 'text/plain'",
        "header Content-Type",
        b"title=t",
        content_type="text/plain",
    ),
]


@pytest.fixture
def validator() -> ContractValidator:
    return ContractValidator()


async def send(client: httpx.AsyncClient, bad: Bad) -> httpx.Response:
    created = await client.post(COLLECTION, json={"title": "Target"})
    path = bad.path.format(id=created.json()["id"])
    return await client.request(
        bad.method,
        path + (f"?{bad.query}" if bad.query else ""),
        content=bad.raw(),
        headers={"Content-Type": bad.content_type} if bad.body is not None else {},
    )


@pytest.mark.parametrize("bad", BAD, ids=[bad.name for bad in BAD])
async def test_a_bad_request_is_refused_with_a_message_to_act_on(
    client: httpx.AsyncClient, mock: WachtMock, bad: Bad
) -> None:
    response = await send(client, bad)
    assert response.status_code == bad.status, response.text
    (error,) = response.json()["errors"]
    assert bad.message in error["message"]
    assert error["code"] == bad.status
    entry = mock.journal.entries()[-1]
    assert entry.violations == (f"contract violation: {error['message']}",)
    assert not any(earlier.violations for earlier in mock.journal.entries()[:-1])


@pytest.mark.parametrize("bad", BAD, ids=[bad.name for bad in BAD])
def test_the_contract_refuses_the_same_request_at_the_same_place(
    validator: ContractValidator, bad: Bad
) -> None:
    headers = {**auth(), "Content-Type": bad.content_type}
    found = validator.validate_request(
        bad.method, bad.path.format(id="1"), query=bad.query, headers=headers, body=bad.raw()
    )
    assert [violation.where for violation in found] == [bad.where]


async def test_a_good_request_leaves_no_violation(
    client: httpx.AsyncClient, mock: WachtMock
) -> None:
    created = await client.post(COLLECTION, json={"title": "t", "context_group": "support"})
    await client.get(COLLECTION, params={"status": "active", "limit": 10})
    await client.post(
        f"{COLLECTION}/{created.json()['id']}/execute",
        json=execute({"new_message": {"message": "Help", "files": None}}),
    )
    await client.get(f"{COLLECTION}/unknown")
    assert [entry.status for entry in mock.journal.entries()] == [200, 200, 200, 404]
    assert not any(entry.violations for entry in mock.journal.entries())


async def test_unknown_fields_can_be_allowed_but_wrong_types_cannot() -> None:
    mock = WachtMock(MockConfig(ignore_unknown_fields=True))
    transport = httpx.ASGITransport(app=create_app(mock))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        extra = await client.post(COLLECTION, json={"title": "t", "x": 1}, headers=auth(KEY))
        typed = await client.post(COLLECTION, json={"title": 1}, headers=auth(KEY))
    assert (extra.status_code, typed.status_code) == (200, 400)
    assert [bool(entry.violations) for entry in mock.journal.entries()] == [False, True]
