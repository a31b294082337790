"""Item 9 and 11 of the attack: the small 500s, and an encoded slash decoded before routing."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import TOKEN

from .support import envelope_message

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("since", ["%C2%B2", "9" * 5000, "-1", "1.5", ""])
async def test_a_bad_journal_since_is_a_400_that_names_it(
    control: httpx.AsyncClient, since: str
) -> None:
    response = await control.get(f"/_mock/journal?since={since}", headers=TOKEN)
    assert response.status_code == 400, response.text
    assert "since" in envelope_message(400, response.content)


async def test_a_large_but_sane_since_is_answered(control: httpx.AsyncClient) -> None:
    await control.get("/ai/execution-contexts")
    response = await control.get("/_mock/journal", params={"since": "9" * 30}, headers=TOKEN)
    assert response.status_code == 200
    assert response.json()["entries"] == []


@pytest.mark.parametrize("slash", ["%2F", "%2f"])
async def test_an_encoded_slash_in_an_id_is_an_unknown_id(
    control: httpx.AsyncClient, slash: str
) -> None:
    context = (await control.post("/ai/execution-contexts", json={"title": "Slash"})).json()
    body = {"agent_name": "bot", "execution_type": {"new_message": {"message": "hi"}}}
    await control.post(f"/ai/execution-contexts/{context['id']}/execute", json=body)
    for method, tail in [("GET", "messages"), ("DELETE", "messages"), ("PATCH", "x")]:
        url = httpx.URL(f"http://m/ai/execution-contexts/{context['id']}{slash}{tail}")
        response = await control.request(method, url, json={} if method == "PATCH" else None)
        assert response.status_code == 404, response.text
        message = envelope_message(404, response.content)
        assert "not found" in message
        assert f"{context['id']}{slash}{tail}" in message
    url = httpx.URL(f"http://m/ai/execution-contexts/{context['id']}{slash}execute")
    assert (await control.post(url, json=body)).status_code == 405  # an item takes no POST
    still = await control.get(f"/ai/execution-contexts/{context['id']}/messages")
    assert len(still.json()["data"]) == 2


async def test_encoded_characters_other_than_a_slash_still_route(
    control: httpx.AsyncClient,
) -> None:
    context = (await control.post("/ai/execution-contexts", json={"title": "Plain"})).json()
    digits = "".join(f"%{ord(c):02X}" for c in context["id"])
    response = await control.get(f"/ai/execution-contexts/{digits}")
    assert response.status_code == 200
    assert response.json()["id"] == context["id"]
