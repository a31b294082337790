"""The two dialects over HTTP: the bodies the published SDKs send, byte for byte, and the guide's.

The platform bodies are exactly what the Rust crate ``wacht`` 0.1.0-beta.1 and the TypeScript
``@wacht/backend`` 1.0.0-beta.4 put on the wire; each answer must deserialize into models that
mirror the published crate's (its required fields present, ``status`` one of its enum's values).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.helpers import auth
from wacht_mock import FrozenClock, MockConfig, WachtMock, create_app

pytestmark = pytest.mark.anyio
COLLECTION = "/ai/execution-contexts"
JSON = {"Content-Type": "application/json"}

#: What ``AiExecutionContext`` of the published crate (beta.1) requires, and its status enum.
CRATE_REQUIRED = (
    "id",
    "created_at",
    "updated_at",
    "deployment_id",
    "title",
    "last_activity_at",
    "status",
)
CRATE_STATUSES = {"idle", "running", "waiting_for_input", "interrupted", "completed", "failed"}

RUST_CREATE = (
    b'{"title":"Customer Support Context","system_instructions":"You are a helpful customer '
    b'support assistant.","context_group":"support"}'
)
RUST_EXECUTE = (
    b'{"agent_name":"support-bot","execution_type":{"new_message":{"message":"Help me reset my '
    b'password","files":null},"user_input_response":null,"platform_function_result":null,'
    b'"cancel":null}}'
)
TAGGED_EXECUTE = b'{"agent_name":"support-bot","type":"new_message","message":"Hi","files":null}'


def crate_context(data: dict[str, Any]) -> dict[str, Any]:
    """The context as the published crate's serde model reads it, or an AssertionError why not."""
    missing = [name for name in CRATE_REQUIRED if name not in data]
    assert not missing, f"missing field(s) {missing}"
    assert data["status"] in CRATE_STATUSES, f"unknown variant {data['status']!r}"
    for moment in ("created_at", "updated_at", "last_activity_at"):
        datetime.fromisoformat(data[moment].replace("Z", "+00:00"))  # chrono's RFC 3339
    return data


def mock_of(profile: str) -> WachtMock:
    clock = FrozenClock(datetime(2026, 3, 1, tzinfo=UTC))
    return WachtMock(MockConfig(seed=1, clock=clock, profile=profile))  # type: ignore[arg-type]


@pytest.fixture
def platform() -> WachtMock:
    return mock_of("platform")


@pytest.fixture
async def sdk(platform: WachtMock) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(platform))
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        yield c


async def created(client: httpx.AsyncClient, body: bytes = RUST_CREATE) -> dict[str, Any]:
    response = await client.post(COLLECTION, content=body, headers=JSON)
    assert response.status_code == 200, response.text
    context: dict[str, Any] = response.json()
    return context


# -- the published crate's calls, against the platform profile ---------------------------------


async def test_create_with_the_crate_s_body_is_an_idle_context(sdk: httpx.AsyncClient) -> None:
    context = crate_context(await created(sdk))
    assert (context["title"], context["status"], context["context_group"]) == (
        "Customer Support Context",
        "idle",
        "support",
    )


async def test_an_empty_create_has_an_empty_title(sdk: httpx.AsyncClient) -> None:
    context = crate_context(await created(sdk, b"{}"))
    assert (context["title"], context["system_instructions"]) == ("", None)


async def test_the_crate_s_list_query_filters_by_run_state(sdk: httpx.AsyncClient) -> None:
    context = await created(sdk)
    await created(sdk, b'{"title":"Sales","context_group":"sales"}')
    page = await sdk.get(f"{COLLECTION}?limit=50&offset=0&status=idle&context_group=support")
    assert page.status_code == 200
    assert [crate_context(item)["id"] for item in page.json()["data"]] == [context["id"]]
    unknown = await sdk.get(f"{COLLECTION}?limit=50&offset=0&status=bogus")
    assert (unknown.status_code, unknown.json()["data"]) == (200, [])


async def test_the_typescript_sdk_s_list_sends_limit_and_offset_only(
    sdk: httpx.AsyncClient,
) -> None:
    await created(sdk)
    page = await sdk.get(f"{COLLECTION}?limit=50&offset=0")
    assert page.status_code == 200
    assert len(page.json()["data"]) == 1


async def test_a_platform_page_may_be_larger_than_the_guide_s(sdk: httpx.AsyncClient) -> None:
    assert (await sdk.get(f"{COLLECTION}?limit=500")).status_code == 200
    assert (await sdk.get(f"{COLLECTION}?limit=1001")).status_code == 400


async def test_update_nulls_change_nothing(sdk: httpx.AsyncClient) -> None:
    context = await created(sdk)
    body = b'{"title":null,"system_instructions":null,"context_group":null,"status":null}'
    response = await sdk.patch(f"{COLLECTION}/{context['id']}", content=body, headers=JSON)
    after = crate_context(response.json())
    for name in ("title", "system_instructions", "context_group", "status"):
        assert after[name] == context[name]


async def test_update_with_the_builder_s_fields(sdk: httpx.AsyncClient) -> None:
    context = await created(sdk)
    body = b'{"title":"Updated Support Context","status":"completed"}'
    response = await sdk.patch(f"{COLLECTION}/{context['id']}", content=body, headers=JSON)
    assert (response.json()["title"], response.json()["status"]) == (
        "Updated Support Context",
        "completed",
    )


async def test_an_unknown_update_status_is_ignored_and_journaled(
    sdk: httpx.AsyncClient, platform: WachtMock
) -> None:
    context = await created(sdk)
    body = b'{"title":"Renamed","status":"paused"}'
    response = await sdk.patch(f"{COLLECTION}/{context['id']}", content=body, headers=JSON)
    assert (response.status_code, response.json()["status"]) == (200, "idle")
    assert response.json()["title"] == "Renamed"
    (entry,) = [e for e in platform.journal if e.method == "PATCH"]
    assert any("'paused' is no run state" in v for v in entry.violations)


async def test_unknown_fields_are_answered_but_noted_as_violations(
    sdk: httpx.AsyncClient, platform: WachtMock
) -> None:
    response = await sdk.post(COLLECTION, content=b'{"title":"t","colour":"red"}', headers=JSON)
    assert response.status_code == 200
    (entry,) = list(platform.journal)
    assert any("/colour: unknown field" in v for v in entry.violations)


async def test_execute_with_the_crate_s_body(sdk: httpx.AsyncClient, platform: WachtMock) -> None:
    platform.engine.agent("support-bot").reply("Check your inbox.")
    context = await created(sdk)
    url = f"{COLLECTION}/{context['id']}/execute"
    response = await sdk.post(url, content=RUST_EXECUTE, headers=JSON)
    assert response.status_code == 200, response.text
    result = response.json()
    # beta.1 reads {status: String, conversation_id: Option<String>}.
    assert isinstance(result["status"], str)
    assert isinstance(result["conversation_id"], str)
    assert result["response"]["content"] == "Check your inbox."
    after = crate_context((await sdk.get(f"{COLLECTION}/{context['id']}")).json())
    assert after["status"] == "completed"
    (call,) = platform.engine.agent("support-bot").calls
    assert call.call.message == "Help me reset my password"


async def test_execute_in_the_tagged_form_and_without_an_agent(
    sdk: httpx.AsyncClient, platform: WachtMock
) -> None:
    context = await created(sdk)
    url = f"{COLLECTION}/{context['id']}/execute"
    tagged = await sdk.post(url, content=TAGGED_EXECUTE, headers=JSON)
    assert tagged.status_code == 200, tagged.text
    anonymous = await sdk.post(
        url, content=b'{"execution_type":{"new_message":{"message":"Hi"}}}', headers=JSON
    )
    assert anonymous.status_code == 200, anonymous.text
    state = (await sdk.get(f"{COLLECTION}/{context['id']}")).json()["execution_state"]
    assert state["agent_name"] == "default"


async def test_files_of_every_form_reach_the_history(sdk: httpx.AsyncClient) -> None:
    context = await created(sdk)
    body = (
        b'{"agent_name":"a","execution_type":{"new_message":{"message":"See","files":['
        b'"a.pdf",{"name":"b.txt","content":"aGk=","content_type":"text/plain"},'
        b'{"filename":"c.png","mime_type":"image/png","data":"aGk="}]}}}'
    )
    response = await sdk.post(f"{COLLECTION}/{context['id']}/execute", content=body, headers=JSON)
    assert response.status_code == 200, response.text
    turns = (await sdk.get(f"{COLLECTION}/{context['id']}/messages")).json()["data"]
    files = [block["file"] for block in turns[0]["blocks"] if block["type"] == "file"]
    assert files == ["a.pdf", "b.txt", "c.png"]


async def test_a_wrong_type_is_still_a_400_in_the_envelope(sdk: httpx.AsyncClient) -> None:
    response = await sdk.post(COLLECTION, content=b'{"title":5}', headers=JSON)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "Invalid request body: /title: expected a string or null, got 5 "
                "(an integer)",
                "code": 400,
            }
        ]
    }


# -- the guide profile: clients written from the guide ----------------------------------------


async def test_the_guide_accepts_nulls_and_empty_strings(client: httpx.AsyncClient) -> None:
    created = await client.post(COLLECTION, json={"title": "", "status": None, "context_group": ""})
    assert created.status_code == 200, created.text
    context = created.json()
    assert (context["title"], context["status"], context["context_group"]) == ("", "active", "")
    nulls = {"title": None, "system_instructions": None, "context_group": None, "status": None}
    updated = await client.patch(f"{COLLECTION}/{context['id']}", json=nulls)
    assert updated.status_code == 200
    assert {k: updated.json()[k] for k in nulls} == {k: context[k] for k in nulls}
    empty = {"agent_name": "bot", "execution_type": {"new_message": {"message": ""}}}
    assert (await client.post(f"{COLLECTION}/{context['id']}/execute", json=empty)).is_success


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/{id}/execute", RUST_EXECUTE),
        ("POST", "/{id}/execute", TAGGED_EXECUTE),
        ("PATCH", "/{id}", b'{"status":"idle"}'),
        ("GET", "?status=waiting_for_input", None),
    ],
)
async def test_the_platform_dialect_in_the_guide_names_the_switch(
    client: httpx.AsyncClient, method: str, path: str, body: bytes | None
) -> None:
    context = (await client.post(COLLECTION, json={"title": "t"})).json()
    url = COLLECTION + path.format(id=context["id"])
    response = await client.request(method, url, content=body, headers=JSON if body else {})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert "start the mock with --profile platform" in error["message"]


async def test_the_control_api_switches_the_profile() -> None:
    mock = WachtMock(MockConfig(control_token="t0ken"))
    transport = httpx.ASGITransport(app=create_app(mock))
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        token = {"X-Wacht-Mock-Token": "t0ken"}
        answer = await c.put("/_mock/settings", json={"profile": "platform"}, headers=token)
        assert answer.json()["profile"] == "platform"
        assert (await created(c))["status"] == "idle"
        bad = await c.put("/_mock/settings", json={"profile": "klingon"}, headers=token)
        assert bad.status_code == 400
        await c.post("/_mock/reset", headers=token)
        assert (await c.get("/_mock/settings", headers=token)).json()["profile"] == "guide"


def test_a_bad_profile_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="profile must be one of guide, platform, got 'klingon'"):
        MockConfig(profile="klingon")  # type: ignore[arg-type]
