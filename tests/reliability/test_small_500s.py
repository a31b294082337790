"""Item 9 and 11 of the attack: the small 500s, and an encoded slash decoded before routing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.helpers import auth
from wacht_mock import MockConfig, create_app

from .support import envelope_message

pytestmark = pytest.mark.anyio
TOKEN = {"X-Wacht-Mock-Token": "s3cret"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(MockConfig(seed=1, control_token="s3cret"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        yield c


@pytest.mark.parametrize("since", ["%C2%B2", "9" * 5000, "-1", "1.5", ""])
async def test_a_bad_journal_since_is_a_400_that_names_it(
    client: httpx.AsyncClient, since: str
) -> None:
    response = await client.get(f"/_mock/journal?since={since}", headers=TOKEN)
    assert response.status_code == 400, response.text
    assert "since" in envelope_message(400, response.content)


async def test_a_large_but_sane_since_is_answered(client: httpx.AsyncClient) -> None:
    await client.get("/ai/execution-contexts")
    response = await client.get("/_mock/journal", params={"since": "9" * 30}, headers=TOKEN)
    assert response.status_code == 200
    assert response.json()["entries"] == []


@pytest.mark.parametrize("slash", ["%2F", "%2f"])
async def test_an_encoded_slash_in_an_id_is_an_unknown_id(
    client: httpx.AsyncClient, slash: str
) -> None:
    context = (await client.post("/ai/execution-contexts", json={"title": "Slash"})).json()
    body = {"agent_name": "bot", "execution_type": {"new_message": {"message": "hi"}}}
    await client.post(f"/ai/execution-contexts/{context['id']}/execute", json=body)
    for method, tail in [("GET", "messages"), ("DELETE", "messages"), ("PATCH", "x")]:
        url = httpx.URL(f"http://m/ai/execution-contexts/{context['id']}{slash}{tail}")
        response = await client.request(method, url, json={} if method == "PATCH" else None)
        assert response.status_code == 404, response.text
        message = envelope_message(404, response.content)
        assert "not found" in message
        assert f"{context['id']}{slash}{tail}" in message
    url = httpx.URL(f"http://m/ai/execution-contexts/{context['id']}{slash}execute")
    assert (await client.post(url, json=body)).status_code == 405  # an item takes no POST
    still = await client.get(f"/ai/execution-contexts/{context['id']}/messages")
    assert len(still.json()["data"]) == 2


async def test_encoded_characters_other_than_a_slash_still_route(
    client: httpx.AsyncClient,
) -> None:
    context = (await client.post("/ai/execution-contexts", json={"title": "Plain"})).json()
    digits = "".join(f"%{ord(c):02X}" for c in context["id"])
    response = await client.get(f"/ai/execution-contexts/{digits}")
    assert response.status_code == 200
    assert response.json()["id"] == context["id"]
