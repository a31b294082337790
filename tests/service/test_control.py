"""The control API (/_mock/): off by default, guarded by a token, as able as the pytest handle."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import CONTROL_TOKEN, TOKEN
from wacht_mock import MockConfig, WachtMock, create_app

pytestmark = pytest.mark.anyio


async def seed_conversation(client: httpx.AsyncClient) -> str:
    context = (await client.post("/ai/execution-contexts", json={"title": "Snap"})).json()
    body = {"agent_name": "bot", "execution_type": {"new_message": {"message": "hello"}}}
    await client.post(f"/ai/execution-contexts/{context['id']}/execute", json=body)
    await client.post("/ai/execution-contexts", json={"title": "Other", "context_group": "g"})
    context_id: str = context["id"]
    return context_id


async def test_off_unless_asked_for(client: httpx.AsyncClient) -> None:
    response = await client.post("/_mock/reset", headers=TOKEN)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == 404


@pytest.mark.parametrize("token", [None, "wrong"])
async def test_needs_the_token(control: httpx.AsyncClient, token: str | None) -> None:
    headers = {} if token is None else {"X-Wacht-Mock-Token": token}
    response = await control.get("/_mock/settings", headers=headers)
    assert response.status_code == 401
    assert "X-Wacht-Mock-Token" in response.json()["errors"][0]["message"].title()


async def test_health(control: httpx.AsyncClient) -> None:
    assert (await control.get("/_mock/health", headers=TOKEN)).json()["status"] == "ok"


async def test_reset_forgets_everything(control: httpx.AsyncClient) -> None:
    await seed_conversation(control)
    assert (await control.post("/_mock/reset", headers=TOKEN)).status_code == 204
    assert (await control.get("/ai/execution-contexts")).json()["data"] == []


async def test_a_reset_body_is_refused_once_past_4_kib_not_read_whole(
    control: httpx.AsyncClient,
) -> None:
    """It was read whole, however large, before its bound was looked at."""
    sent = []

    async def chunks() -> Any:
        for _ in range(64):
            sent.append(1024)
            yield b" " * 1024  # no Content-Length: only reading it tells its size

    headers = {**TOKEN, "Content-Type": "application/json"}
    large = await control.post("/_mock/reset", content=chunks(), headers=headers)
    assert large.status_code == 413, large.text
    assert "larger than 4096 bytes" in large.json()["errors"][0]["message"]
    assert sum(sent) <= 8 * 1024  # read up to the bound, not the 64 KiB sent


async def test_a_reset_body_is_an_object_or_nothing(control: httpx.AsyncClient) -> None:
    headers = {**TOKEN, "Content-Type": "application/json"}
    for falsy in (b"[]", b"0", b'""', b"null", b" null "):
        refused = await control.post("/_mock/reset", content=falsy, headers=headers)
        assert refused.status_code == 400, (falsy, refused.text)
    await seed_conversation(control)
    assert (await control.post("/_mock/reset", content=b"{}", headers=headers)).status_code == 204
    assert (await control.get("/ai/execution-contexts")).json()["data"] == []


async def test_fixtures_load_scripts_and_contexts(control: httpx.AsyncClient) -> None:
    document: dict[str, Any] = {
        "deployments": {"wk_test_alpha": {"contexts": [{"title": "Seeded"}]}},
        "agents": {"bot": {"reply": "scripted over HTTP"}},
    }
    loaded = await control.post("/_mock/fixtures", json=document, headers=TOKEN)
    assert loaded.json() == {"contexts_created": 1}
    (context,) = (await control.get("/ai/execution-contexts")).json()["data"]
    body = {"agent_name": "bot", "execution_type": {"new_message": {"message": "x"}}}
    reply = await control.post(f"/ai/execution-contexts/{context['id']}/execute", json=body)
    assert reply.json()["response"]["content"] == "scripted over HTTP"
    calls = (await control.get("/_mock/agents/bot/calls", headers=TOKEN)).json()
    assert calls["call_count"] == 1
    assert calls["calls"][0]["reply"] == "scripted over HTTP"


async def test_bad_fixture_documents_are_400(control: httpx.AsyncClient) -> None:
    bad = {"agents": {"bot": {"rules": [{"when": {"mesage": "x"}, "reply": "y"}]}}}
    response = await control.post("/_mock/fixtures", json=bad, headers=TOKEN)
    assert response.status_code == 400
    assert "mesage" in response.json()["errors"][0]["message"]


async def test_settings(control: httpx.AsyncClient) -> None:
    changed = await control.put(
        "/_mock/settings", json={"seed": 9, "strict_agents": True}, headers=TOKEN
    )
    assert changed.json() == {"seed": 9, "strict_agents": True, "profile": "guide"}
    bad = await control.put("/_mock/settings", json={"seed": "9"}, headers=TOKEN)
    assert bad.status_code == 400


async def test_journal_read_and_clear(control: httpx.AsyncClient) -> None:
    await control.get("/ai/execution-contexts")
    await control.get("/ai/execution-contexts?limit=0")
    journal = (await control.get("/_mock/journal", headers=TOKEN)).json()
    listed, refused = journal["entries"][:2]
    assert listed["status"] == 200
    assert refused["violations"][0].startswith("contract violation: Query parameter 'limit'")
    since = (await control.get(f"/_mock/journal?since={listed['number']}", headers=TOKEN)).json()
    assert since["entries"][0]["number"] == refused["number"]
    await control.delete("/_mock/journal", headers=TOKEN)
    assert (await control.get("/_mock/journal", headers=TOKEN)).json()["entries"][:1] == []


async def test_snapshot_round_trip(control: httpx.AsyncClient) -> None:
    context_id = await seed_conversation(control)
    listing = (await control.get("/ai/execution-contexts")).json()
    history = (await control.get(f"/ai/execution-contexts/{context_id}/messages")).json()
    snapshot = (await control.get("/_mock/state", headers=TOKEN)).json()
    await control.post("/_mock/reset", headers=TOKEN)
    restored = await control.put("/_mock/state", json=snapshot, headers=TOKEN)
    assert restored.json() == {"contexts": 2}
    assert (await control.get("/ai/execution-contexts")).json() == listing
    assert (await control.get(f"/ai/execution-contexts/{context_id}/messages")).json() == history
    new = (await control.post("/ai/execution-contexts", json={"title": "after"})).json()
    assert int(new["id"]) > max(int(c["id"]) for c in listing["data"])


async def test_a_bad_snapshot_is_400_and_changes_nothing(control: httpx.AsyncClient) -> None:
    await seed_conversation(control)
    before = (await control.get("/ai/execution-contexts")).json()
    response = await control.put(
        "/_mock/state", json={"version": 1, "deployments": {"1": [{}]}}, headers=TOKEN
    )
    assert response.status_code == 400
    assert (await control.get("/ai/execution-contexts")).json() == before


def test_the_mock_object_round_trips_too() -> None:
    mock = WachtMock()
    from wacht_mock.service.snapshot import export_state, import_state
    from wacht_mock.service.store import NewContext

    mock.store.create("7", NewContext("kept"))
    snapshot = export_state(mock.store)
    mock.reset()
    assert import_state(mock.store, snapshot) == 1
    assert [c.title for c in mock.store.contexts("7")] == ["kept"]
    with pytest.raises(ValueError, match="version"):
        import_state(mock.store, {"version": 2})


async def test_reading_an_unknown_agent_s_calls_creates_nothing(control: httpx.AsyncClient) -> None:
    calls = (await control.get("/_mock/agents/ghost/calls", headers=TOKEN)).json()
    assert calls == {"called": False, "call_count": 0, "calls": []}
    mock: WachtMock = control._transport.app.state.mock  # type: ignore[attr-defined]
    assert mock.engine.find("ghost") is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "ctx_1"), ("created_at", None), ("created_at", "2026-01-01T00:00:00"), ("status", "x")],
)
async def test_a_snapshot_bad_deep_inside_is_400_and_changes_nothing(
    control: httpx.AsyncClient, field: str, value: object
) -> None:
    await seed_conversation(control)
    before = (await control.get("/ai/execution-contexts")).json()
    snapshot = (await control.get("/_mock/state", headers=TOKEN)).json()
    first = next(iter(snapshot["deployments"].values()))[0]
    first["context"][field] = value
    response = await control.put("/_mock/state", json=snapshot, headers=TOKEN)
    assert response.status_code == 400
    assert (await control.get("/ai/execution-contexts")).json() == before


async def test_a_fixture_document_with_a_bad_key_loads_nothing(control: httpx.AsyncClient) -> None:
    document = {
        "agents": {"bot": {"reply": "should not load"}},
        "deployments": {"wk_test_alpha": {"contexts": [{"title": "no"}]}, "badkey": {}},
    }
    response = await control.post("/_mock/fixtures", json=document, headers=TOKEN)
    assert response.status_code == 400
    assert (await control.get("/ai/execution-contexts")).json()["data"] == []
    calls = (await control.get("/_mock/agents/bot/calls", headers=TOKEN)).json()
    assert calls["call_count"] == 0
    mock: WachtMock = control._transport.app.state.mock  # type: ignore[attr-defined]
    assert not mock.engine.agent("bot").is_scripted


@pytest.mark.parametrize("token", [CONTROL_TOKEN, None])
async def test_health_and_contract_need_no_token_and_are_always_on(token: str | None) -> None:
    app = create_app(MockConfig(control_token=token))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
        health = await client.get("/_mock/health")
        contract = await client.get("/_mock/contract")
        as_json = await client.get("/_mock/contract", headers={"Accept": "application/json"})
        refused = await client.post("/_mock/health")
        guarded = await client.get("/_mock/journal")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert contract.headers["content-type"].startswith("application/yaml")
    assert contract.text.startswith("openapi: 3.1")
    assert as_json.json()["paths"]["/ai/execution-contexts"]
    assert refused.status_code == 405
    assert guarded.status_code == (401 if token else 404)


async def test_fixtures_can_be_sent_as_yaml(control: httpx.AsyncClient) -> None:
    document = "agents:\n  support-bot:\n    reply: from YAML\n"
    headers = {**TOKEN, "Content-Type": "application/yaml"}
    loaded = await control.post("/_mock/fixtures", content=document, headers=headers)
    assert loaded.status_code == 200, loaded.text
    context = (await control.post("/ai/execution-contexts", json={"title": "x"})).json()
    body = {"agent_name": "support-bot", "execution_type": {"new_message": {"message": "hi"}}}
    reply = await control.post(f"/ai/execution-contexts/{context['id']}/execute", json=body)
    assert reply.json()["response"]["content"] == "from YAML"
    broken = await control.post("/_mock/fixtures", content="agents: [", headers=headers)
    assert broken.status_code == 400
    assert broken.json()["errors"][0]["message"].startswith("Request body is not valid YAML")


async def test_the_state_holds_the_settings_too(control: httpx.AsyncClient) -> None:
    await control.put("/_mock/settings", json={"seed": 9, "strict_agents": True}, headers=TOKEN)
    snapshot = (await control.get("/_mock/state", headers=TOKEN)).json()
    assert snapshot["settings"] == {"seed": 9, "strict_agents": True, "profile": "guide"}
    await control.put("/_mock/settings", json={"seed": 1, "strict_agents": False}, headers=TOKEN)
    restored = await control.put("/_mock/state", json=snapshot, headers=TOKEN)
    assert restored.status_code == 200
    settings = (await control.get("/_mock/settings", headers=TOKEN)).json()
    assert settings == {"seed": 9, "strict_agents": True, "profile": "guide"}


async def test_faults_through_the_control_api(control: httpx.AsyncClient) -> None:
    rule = {"operation": "list", "status": 503, "times": 2}
    added = await control.post("/_mock/faults", json=rule, headers=TOKEN)
    assert added.json()["faults"][0]["left"] == 2
    codes = [(await control.get("/ai/execution-contexts")).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    listed = (await control.get("/_mock/faults", headers=TOKEN)).json()["faults"]
    assert (listed[0]["fired"], listed[0]["left"]) == (2, 0)
    journal = (await control.get("/_mock/journal", headers=TOKEN)).json()["entries"]
    assert [e["fault"] for e in journal] == [
        "fault 1 (1 of 2): list: status 503",
        "fault 1 (2 of 2): list: status 503",
        None,
    ]
    bad = await control.post("/_mock/faults", json={"operation": "list"}, headers=TOKEN)
    assert bad.status_code == 400
    assert "a fault needs a status, drop: true or a latency" in bad.json()["errors"][0]["message"]
    assert (await control.delete("/_mock/faults", headers=TOKEN)).status_code == 204
    assert (await control.get("/_mock/faults", headers=TOKEN)).json()["faults"] == []
