"""Every operation over HTTP, in-process: what a client of the real service would see."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.helpers import OTHER_KEY, auth
from wacht_mock import WachtMock
from wacht_mock.service.app import create_app
from wacht_mock.service.faults import FaultRule

pytestmark = pytest.mark.anyio

SUPPORT = {
    "title": "Customer Support Context",
    "system_instructions": "You are a helpful customer support assistant.",
    "context_group": "support",
    "status": "active",
}
EXECUTE = {
    "agent_name": "support-bot",
    "execution_type": {"new_message": {"message": "Help me reset my password", "files": None}},
}


async def create(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/ai/execution-contexts", json={**SUPPORT, **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_error(response: httpx.Response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body == {"errors": [{"message": body["errors"][0]["message"], "code": status}]}
    assert fragment in body["errors"][0]["message"]


async def test_create_returns_the_whole_context(client: httpx.AsyncClient) -> None:
    context = await create(client)
    assert context["title"] == "Customer Support Context"
    assert context["context_group"] == "support"
    assert context["id"].isdigit()
    assert context["deployment_id"].isdigit()
    assert context["created_at"].endswith("Z")
    assert context["completed_at"] is None
    assert context["execution_state"] is None


async def test_get_returns_what_create_returned(client: httpx.AsyncClient) -> None:
    context = await create(client)
    response = await client.get(f"/ai/execution-contexts/{context['id']}")
    assert response.json() == context


async def test_update_changes_only_what_was_sent(client: httpx.AsyncClient) -> None:
    context = await create(client)
    response = await client.patch(
        f"/ai/execution-contexts/{context['id']}", json={"title": "Updated Support Context"}
    )
    updated = response.json()
    assert updated["title"] == "Updated Support Context"
    assert updated["system_instructions"] == context["system_instructions"]
    assert updated["updated_at"] > context["updated_at"]


async def test_a_rejected_update_changes_nothing(client: httpx.AsyncClient) -> None:
    context = await create(client)
    url = f"/ai/execution-contexts/{context['id']}"
    response = await client.patch(url, json={"title": "New", "status": "paused"})
    assert_error(response, 400, "/status")
    assert (await client.get(url)).json() == context


async def test_delete_then_get_is_404(client: httpx.AsyncClient) -> None:
    context = await create(client)
    url = f"/ai/execution-contexts/{context['id']}"
    response = await client.delete(url)
    assert response.status_code == 204
    assert response.content == b""
    assert_error(await client.get(url), 404, "not found")
    assert_error(await client.delete(url), 404, "not found")


async def test_list_filters_before_paging(client: httpx.AsyncClient) -> None:
    for n in range(6):
        await create(client, title=f"c{n}", context_group="sales" if n % 2 else "support")
    response = await client.get(
        "/ai/execution-contexts", params={"context_group": "sales", "limit": 2, "offset": 1}
    )
    page = response.json()
    assert [c["title"] for c in page["data"]] == ["c3", "c1"]
    assert page["has_more"] is False
    assert (page["limit"], page["offset"]) == (2, 1)


async def test_list_defaults(client: httpx.AsyncClient) -> None:
    page = (await client.get("/ai/execution-contexts")).json()
    assert page == {"data": [], "has_more": False, "limit": 50, "offset": 0}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"limit": 0}, "'limit': expected an integer from 1 to 100, got '0'"),
        ({"limit": 101}, "'limit'"),
        ({"limit": "ten"}, "'limit'"),
        ({"limit": "1.5"}, "'limit'"),
        ({"offset": -1}, "'offset': expected an integer of at least 0"),
        ({"status": "paused"}, "'status': expected one of active, inactive, archived"),
        ({"status": "running"}, "'running' is a run state of the platform dialect"),
        ([("limit", "1"), ("limit", "2")], "given 2 times"),
    ],
)
async def test_bad_query_values(client: httpx.AsyncClient, params: Any, fragment: str) -> None:
    assert_error(await client.get("/ai/execution-contexts", params=params), 400, fragment)


async def test_another_deployment_sees_nothing(client: httpx.AsyncClient) -> None:
    context = await create(client)
    other = auth(OTHER_KEY)
    url = f"/ai/execution-contexts/{context['id']}"
    assert_error(await client.get(url, headers=other), 404, "not found")
    assert_error(await client.patch(url, json={"title": "x"}, headers=other), 404, "not found")
    assert_error(await client.delete(url, headers=other), 404, "not found")
    assert_error(await client.post(url + "/execute", json=EXECUTE, headers=other), 404, "")
    listed = (await client.get("/ai/execution-contexts", headers=other)).json()
    assert listed["data"] == []
    assert (await client.get(url)).json() == context


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Authorization": ""}, "API key required"),
        ({"Authorization": "Bearer nope"}, "Invalid API key"),
    ],
)
async def test_auth_errors(
    client: httpx.AsyncClient, headers: dict[str, str], message: str
) -> None:
    response = await client.get("/ai/execution-contexts", headers=headers)
    assert_error(response, 401, message)


@pytest.mark.parametrize("context_id", ["ctx_123", "x" * 300, "a.b.c", "0", "9" * 40])
async def test_unknown_ids_are_404(client: httpx.AsyncClient, context_id: str) -> None:
    assert_error(await client.get(f"/ai/execution-contexts/{context_id}"), 404, "not found")


async def test_unknown_path_and_wrong_method(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/ai/nothing-here"), 404, "No route")
    response = await client.put("/ai/execution-contexts")
    assert_error(response, 405, "PUT")
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    item = await client.post("/ai/execution-contexts/1")
    assert set(item.headers["allow"].split(", ")) == {"GET", "HEAD", "PATCH", "DELETE"}


async def test_bodies_are_checked(client: httpx.AsyncClient) -> None:
    url = "/ai/execution-contexts"
    assert_error(await client.post(url, content=b"{bad"), 415, "application/json")
    json_header = {"Content-Type": "application/json"}
    assert_error(
        await client.post(url, content=b"{bad", headers=json_header), 400, "not valid JSON"
    )
    assert_error(
        await client.post(url, json={"title": "t", "system_instruction": "x"}), 400, "unknown"
    )
    big = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'
    assert_error(await client.post(url, content=big, headers=json_header), 413, "larger than")
    assert (await client.get(url)).json()["data"] == []


async def test_execute_answers_with_a_reply(client: httpx.AsyncClient) -> None:
    context = await create(client)
    response = await client.post(f"/ai/execution-contexts/{context['id']}/execute", json=EXECUTE)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "completed"
    assert result["response"]["role"] == "assistant"
    assert result["response"]["content"]
    after = (await client.get(f"/ai/execution-contexts/{context['id']}")).json()
    assert after["execution_state"]["execution_id"] == result["execution_id"]
    assert after["completed_at"] is not None


async def test_execute_rejects_bad_bodies_and_states(client: httpx.AsyncClient) -> None:
    context = await create(client, status="archived")
    url = f"/ai/execution-contexts/{context['id']}/execute"
    bad = {"agent_name": "a", "execution_type": {}}
    assert_error(await client.post(url, json=bad), 400, "Exactly one execution_type variant")
    assert_error(await client.post(url, json=EXECUTE), 409, "is archived")
    assert_error(await client.post("/ai/execution-contexts/1/execute", json=EXECUTE), 404, "")


async def test_unknown_query_parameters_are_answered_but_noted(
    client: httpx.AsyncClient, mock: WachtMock
) -> None:
    await create(client)
    response = await client.get("/ai/execution-contexts", params={"stauts": "archived"})
    assert len(response.json()["data"]) == 1  # ignored, as the real service does
    (entry,) = mock.journal.entries()[-1:]
    assert entry.violations == (
        "contract violation: unknown query parameter 'stauts' (ignored); did you mean 'status'?",
    )
    both = await client.get("/ai/execution-contexts", params={"page": "2", "limit": "0"})
    assert both.status_code == 400
    assert len(mock.journal.entries()[-1].violations) == 2


async def test_a_trailing_slash_is_an_unknown_path_not_a_redirect(
    client: httpx.AsyncClient,
) -> None:
    context = await create(client)
    response = await client.delete(f"/ai/execution-contexts/{context['id']}/")
    assert_error(response, 404, "No route")
    assert (await client.get(f"/ai/execution-contexts/{context['id']}")).status_code == 200


async def test_a_context_reads_the_same_until_it_changes_then_reads_its_change(
    client: httpx.AsyncClient,
) -> None:
    """Contexts are sent from their encoded text; a change (an update, an execution) is seen
    at once in a read and in a list, byte for byte what the JSON of the context says."""
    made = await create(client, title="first")
    url = f"/ai/execution-contexts/{made['id']}"
    first = await client.get(url)
    assert first.headers["content-type"] == "application/json"
    assert first.json() == made
    assert first.content == json.dumps(made, ensure_ascii=False, separators=(",", ":")).encode()
    assert (await client.get(url)).content == first.content
    updated = (await client.patch(url, json={"title": "second é"})).json()
    assert updated["title"] == "second é"
    assert (await client.get(url)).json() == updated
    assert (await client.post(f"{url}/execute", json=EXECUTE)).status_code == 200
    executed = (await client.get(url)).json()
    assert executed["execution_state"]["agent_name"] == "support-bot"
    listed = await client.get("/ai/execution-contexts", params={"limit": 1})
    assert listed.json() == {"data": [executed], "has_more": False, "limit": 1, "offset": 0}
    shown = {"data": [executed], "has_more": False, "limit": 1, "offset": 0}
    assert listed.content == json.dumps(shown, ensure_ascii=False, separators=(",", ":")).encode()


async def test_an_app_given_another_mock_serves_that_one_from_then_on() -> None:
    app = create_app()
    first = app.mock
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=auth()) as c:
        await create(c)
        app.mock = second = WachtMock()
        assert app.state.mock is second
        listed = (await c.get("/ai/execution-contexts")).json()
        assert listed["data"] == []  # its store
        second.faults.add([FaultRule(operation="list", status=503)])
        assert (await c.get("/ai/execution-contexts")).status_code == 503  # its faults
    assert [entry.status for entry in second.journal] == [200, 503]  # its journal
    assert [entry.method for entry in first.journal] == ["POST"]
