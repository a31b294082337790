"""Item 7 of the attack: reset restores the start state kept in memory; it never reads the disk.

After an edit of a fixture file that no longer loads, ``POST /_mock/reset`` answered 500 and had
wiped everything anyway. A changed file is ``--watch``'s business: it takes a good edit into the
start state and keeps the old one on a bad edit.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.helpers import CONTROL_TOKEN, KEY, TOKEN, auth
from wacht_mock import MockConfig, WachtMock, create_app
from wacht_mock.service.watch import FixtureWatcher

pytestmark = pytest.mark.anyio
COLLECTION = "/ai/execution-contexts"
START = f"""
deployments:
  {KEY}:
    contexts:
      - {{title: Seeded one}}
      - {{title: Seeded two}}
agents:
  bot: {{reply: "From the start state"}}
"""
EXECUTE = {"agent_name": "bot", "execution_type": {"new_message": {"message": "hi"}}}


async def _titles(client: httpx.AsyncClient) -> list[str]:
    response = await client.get(COLLECTION)
    assert response.status_code == 200, response.text
    return sorted(context["title"] for context in response.json()["data"])


async def _reply(client: httpx.AsyncClient) -> str:
    context_id = (await client.get(COLLECTION)).json()["data"][0]["id"]
    response = await client.post(f"{COLLECTION}/{context_id}/execute", json=EXECUTE)
    assert response.status_code == 200, response.text
    content: str = response.json()["response"]["content"]
    return content


@pytest.mark.parametrize("edit", ["broken: [yaml", "deployments: {not_a_key: {}}", None])
async def test_reset_restores_the_start_state_whatever_the_disk_says(
    tmp_path: Path, edit: str | None
) -> None:
    path = tmp_path / "start.yaml"
    path.write_text(START)
    app = create_app(MockConfig(seed=1, control_token=CONTROL_TOKEN, fixtures=[path]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        await c.post(COLLECTION, json={"title": "Added by a test"})
        if edit is None:
            path.unlink()
        else:
            path.write_text(edit)
        response = await c.post("/_mock/reset", headers=TOKEN)
        assert response.status_code == 204, response.text
        assert await _titles(c) == ["Seeded one", "Seeded two"]
        assert await _reply(c) == "From the start state"


def test_watch_takes_a_good_edit_into_the_start_state_and_keeps_it_on_a_bad_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "start.yaml"
    path.write_text(START)
    mock = WachtMock(MockConfig(seed=1, fixtures=[path]))
    reports: list[str] = []
    watcher = FixtureWatcher(mock, reports.append)
    path.write_text(START.replace("From the start state", "Edited"))
    _touch(path, 1)
    assert watcher.check() == [path]
    mock.reset()
    assert _scripted_reply(mock) == "Edited"
    path.write_text("broken: [yaml")
    _touch(path, 2)
    assert watcher.check() == []
    assert "not reloaded" in reports[-1]
    mock.reset()
    assert _scripted_reply(mock) == "Edited"


def _touch(path: Path, seconds: int) -> None:
    import os

    stamp = path.stat().st_mtime + seconds
    os.utime(path, (stamp, stamp))


def _scripted_reply(mock: WachtMock) -> str:
    from wacht_mock.service.auth import deployment_id_for

    deployment = deployment_id_for(KEY)
    context = mock.store.list(deployment, limit=1, offset=0).data[0]
    request = mock.requests.execute(EXECUTE).value
    reply = mock.executions.execute(deployment, context.id, request).reply
    assert reply is not None
    text: str = reply.text
    return text
