"""The mock's own responses, checked against the contract's response schemas and worded rules.

Every kind of answer the mock gives is made here and validated: contexts, pages, execute replies
(tool calls, structured output, a question for the user, a failure), streams, history with every
block type, and every error. A response that drifts from the contract fails here, not in a
user's client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.broken_servers import broken_app
from tests.helpers import KEY, auth
from wacht_mock.contract.validation import ContractValidator
from wacht_mock.contract.violations import Place
from wacht_mock.core.resources import data_dir
from wacht_mock.service.app import create_app
from wacht_mock.service.mock import WachtMock

pytestmark = pytest.mark.anyio

COLLECTION = "/ai/execution-contexts"
VALIDATOR = ContractValidator()


def violations(response: httpx.Response) -> list[str]:
    request = response.request
    found = VALIDATOR.validate_response(
        request.method,
        request.url.path,
        response.status_code,
        headers=dict(response.headers),
        body=response.content,
        query=request.url.query.decode(),
        request_body=request.content,
    )
    return [str(violation) for violation in found]


def envelope_violations(response: httpx.Response) -> list[str]:
    """For answers outside any operation (no route, wrong method): the envelope alone."""
    where = Place("response", f"{response.request.method} {response.request.url.path}", "body")
    found = VALIDATOR.check("/components/schemas/ErrorEnvelope", response.json(), where)
    return [str(violation) for violation in found]


class Recorder:
    """A client that keeps every response it got, to validate them all at the end."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.responses: list[httpx.Response] = []

    async def __call__(self, method: str, path: str, **options: Any) -> httpx.Response:
        response = await self.client.request(method, path, **options)
        self.responses.append(response)
        return response

    async def context(self, **fields: Any) -> str:
        response = await self("POST", COLLECTION, json={"title": "Support", **fields})
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    async def execute(self, context_id: str, variant: str, **body: Any) -> httpx.Response:
        payload = {
            "agent_name": body.pop("agent", "support-bot"),
            "execution_type": {variant: body},
        }
        return await self("POST", f"{COLLECTION}/{context_id}/execute", json=payload)

    def assert_all_conform(self) -> None:
        problems = {
            f"{r.request.method} {r.request.url} -> {r.status_code}": violations(r)
            for r in self.responses
        }
        assert {call: found for call, found in problems.items() if found} == {}


@pytest.fixture
async def calls(mock: WachtMock) -> AsyncIterator[Recorder]:
    mock.load_fixtures([data_dir("fixtures") / "agents.yaml"])
    transport = httpx.ASGITransport(app=create_app(mock))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://mock", headers=auth()
    ) as client:
        yield Recorder(client)


async def test_contexts_and_pages(calls: Recorder) -> None:
    first = await calls.context(context_group="support", system_instructions="Be kind")
    await calls.context(status="archived", context_group="sales")
    await calls("GET", f"{COLLECTION}/{first}")
    await calls("PATCH", f"{COLLECTION}/{first}", json={"title": "Renamed", "context_group": None})
    await calls("PATCH", f"{COLLECTION}/{first}", json={})
    for query in ("", "limit=1", "limit=1&offset=1", "status=archived", "context_group=support"):
        await calls("GET", f"{COLLECTION}?{query}")
    await calls("GET", f"{COLLECTION}?offset=500")
    deleted = await calls("DELETE", f"{COLLECTION}/{first}")
    assert deleted.status_code == 204
    calls.assert_all_conform()


async def test_execute_replies_of_every_shape(calls: Recorder, mock: WachtMock) -> None:
    mock.engine.agent("broken-bot").reply(text="It failed", status="failed")
    context_id = await calls.context(context_group="support")
    shapes = {
        "tool call with a result": "I want a refund",
        "tool call waiting for the tool": "cancel order A1",
        "plain text": "hello",
        "a question for the user": "I forgot my password",
    }
    for message in shapes.values():
        reply = await calls.execute(context_id, "new_message", message=message, files=["a.pdf"])
        assert reply.status_code == 200, reply.text
    asked = await calls("GET", f"{COLLECTION}/{context_id}")
    assert asked.json()["execution_state"]["pending_input_request"] is not None
    await calls.execute(context_id, "continue", files=None)
    await calls.execute(context_id, "new_message", message="x", agent="broken-bot")
    failed = await calls("GET", f"{COLLECTION}/{context_id}")
    assert failed.json()["execution_state"]["status"] == "failed"
    for group in ("triage", "crm"):
        structured = await calls.context(context_group=group)
        reply = await calls.execute(structured, "new_message", message="Sort this")
        assert reply.json()["response"]["structured_output"] is not None
    calls.assert_all_conform()


async def test_streams(calls: Recorder) -> None:
    context_id = await calls.context(context_group="support")
    with_tools = await calls.execute(context_id, "stream", message="I want a refund")
    assert "event: tool_call" in with_tools.text
    await calls.execute(context_id, "stream", message="hello")
    sales = await calls.context()
    first = await calls.execute(sales, "stream", message="plans?", agent="sales-bot")
    limited = await calls.execute(sales, "stream", message="more", agent="sales-bot")
    faulted = await calls.execute(sales, "stream", message="team", agent="sales-bot")
    assert (first.status_code, limited.status_code) == (200, 429)
    assert "event: error" in faulted.text
    calls.assert_all_conform()


async def test_history_with_every_block_type(calls: Recorder) -> None:
    context_id = await calls.context(context_group="support")
    await calls.execute(context_id, "new_message", message="I want a refund", files=["r.pdf"])
    await calls.execute(context_id, "new_message", message="hello")
    await calls.execute(context_id, "new_message", message="A1?", agent="orders-bot")
    history = await calls("GET", f"{COLLECTION}/{context_id}/messages")
    kinds = {block["type"] for turn in history.json()["data"] for block in turn["blocks"]}
    assert kinds == {"text", "file", "tool_call", "tool_result", "reasoning", "feedback"}
    await calls("GET", f"{COLLECTION}/{context_id}/messages?limit=2&offset=1")
    await calls("GET", f"{COLLECTION}/{await calls.context()}/messages")
    calls.assert_all_conform()


async def test_every_error(calls: Recorder, mock: WachtMock) -> None:
    for status in (500, 503):
        mock.engine.agent(f"fault-{status}").fail(status)
    context_id = await calls.context()
    archived = await calls.context(status="archived")
    errors = [
        await calls("POST", COLLECTION, json={"title": 5}),
        await calls("GET", f"{COLLECTION}?limit=0"),
        await calls("GET", COLLECTION, headers={"Authorization": ""}),
        await calls("GET", COLLECTION, headers=auth("not-a-key")),
        await calls("GET", f"{COLLECTION}/404"),
        await calls.execute(archived, "new_message", message="hi"),
        await calls.execute(context_id, "continue"),
        await calls(
            "POST",
            COLLECTION,
            content=b"x" * (1024 * 1024 + 1),
            headers={"Content-Type": "application/json"},
        ),
        await calls("POST", COLLECTION, content=b"title", headers={"Content-Type": "text/plain"}),
        await calls.execute(context_id, "new_message", message="now", agent="fault-500"),
        await calls.execute(context_id, "new_message", message="now", agent="fault-503"),
        await calls("PATCH", f"{COLLECTION}/404", json={"title": "t"}),
        await calls("DELETE", f"{COLLECTION}/404"),
        await calls("GET", f"{COLLECTION}/404/messages"),
    ]
    assert [r.status_code for r in errors] == [
        400,
        400,
        401,
        401,
        404,
        409,
        409,
        413,
        415,
        500,
        503,
        404,
        404,
        404,
    ]
    calls.assert_all_conform()


async def test_answers_outside_the_operations_keep_the_envelope(calls: Recorder) -> None:
    for response in (
        await calls.client.get("/ai/nowhere"),
        await calls.client.put(COLLECTION),
        await calls.client.post(f"{COLLECTION}/1/messages"),
    ):
        assert response.status_code in (404, 405)
        assert envelope_violations(response) == []


async def test_a_drifting_response_fails_this_check() -> None:
    transport = httpx.ASGITransport(app=broken_app("missing required field"))
    async with httpx.AsyncClient(transport=transport, base_url="http://drift") as client:
        response = await client.post(COLLECTION, json={"title": "t"}, headers=auth(KEY))
    assert violations(response) == ["body /execution_state: required field is missing"]
