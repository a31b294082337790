"""Item 1 of the attack: a refused snapshot import changes nothing; an accepted one poisons nothing.

Every snapshot below is refused with a 400 in the envelope, and the state before the import is
still there, whole and working (list, get, history, execute, export). A large import is parsed
and built off the event loop: the server keeps answering while it runs.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.helpers import CONTROL_TOKEN, TOKEN, auth
from wacht_mock import MockConfig, create_app
from wacht_mock.core.server import ServerThread

from .support import envelope_message

pytestmark = pytest.mark.anyio
COLLECTION = "/ai/execution-contexts"
EXECUTE = {"agent_name": "bot", "execution_type": {"new_message": {"message": "hello"}}}

Change = Callable[[dict[str, Any]], None]


@pytest.fixture
async def control() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(MockConfig(seed=1, control_token=CONTROL_TOKEN))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        first = (await c.post(COLLECTION, json={"title": "Snap", "context_group": "g"})).json()
        await c.post(f"{COLLECTION}/{first['id']}/execute", json=EXECUTE)
        await c.post(COLLECTION, json={"title": "Other"})
        yield c


def _first(snapshot: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = next(iter(snapshot["deployments"].values()))[0]
    return item


def context_field(name: str, value: Any) -> Change:
    def change(snapshot: dict[str, Any]) -> None:
        _first(snapshot)["context"][name] = value

    return change


def item_field(name: str, value: Any) -> Change:
    def change(snapshot: dict[str, Any]) -> None:
        _first(snapshot)[name] = value

    return change


def turn_id(value: Any) -> Change:
    def change(snapshot: dict[str, Any]) -> None:
        _first(snapshot)["turns"][0]["id"] = value

    return change


def text_block(value: Any) -> Change:
    def change(snapshot: dict[str, Any]) -> None:
        _first(snapshot)["turns"][0]["blocks"][0]["text"] = value

    return change


def deep_tool_args(snapshot: dict[str, Any]) -> None:
    args: dict[str, Any] = {}
    current = args
    for _ in range(200):
        current["a"] = {}
        current = current["a"]
    block = {"type": "tool_call", "call_id": "c", "name": "t", "args": args}
    _first(snapshot)["turns"][0]["blocks"] = [block]


def duplicate_context(snapshot: dict[str, Any]) -> None:
    items = next(iter(snapshot["deployments"].values()))
    items.append(copy.deepcopy(items[-1]))


def duplicate_turn(snapshot: dict[str, Any]) -> None:
    turns = _first(snapshot)["turns"]
    turns.append(copy.deepcopy(turns[0]))


def deployment_mismatch(snapshot: dict[str, Any]) -> None:
    _first(snapshot)["context"]["deployment_id"] = "12345"


def deployment_key(snapshot: dict[str, Any]) -> None:
    snapshot["deployments"] = {"²": next(iter(snapshot["deployments"].values()))}


REFUSED: dict[str, Change] = {
    "context id ²": context_field("id", "²"),
    "context_group []": context_field("context_group", []),
    "context_group {}": context_field("context_group", {}),
    "turn id ²": turn_id("²"),
    "executions 'x'": item_field("executions", "x"),
    "executions -1": item_field("executions", -1),
    "a text block holding 5": text_block(5),
    "system_instructions {}": context_field("system_instructions", {}),
    "id 05": context_field("id", "05"),
    "id of 30 digits": context_field("id", "1" * 30),
    "id of 2**63": context_field("id", str(2**63)),
    "id with a space": context_field("id", " 5"),
    "last_activity_at +14:00 in year 1": context_field(
        "last_activity_at", "0001-01-01T00:00:00+14:00"
    ),
    "created_at year 9999 west of UTC": context_field("created_at", "9999-12-31T23:59:59-01:00"),
    "created_at not RFC 3339": context_field("created_at", "2026-01-01 00:00:00"),
    "created_at with no zone": context_field("created_at", "2026-01-01T00:00:00"),
    "title of 256": context_field("title", "t" * 256),
    "status unknown": context_field("status", "paused"),
    "execution_state status unknown": lambda s: _first(s)["context"]["execution_state"].update(
        status="paused"
    ),
    "tool-call args nested 200 deep": deep_tool_args,
    "duplicate context ids": duplicate_context,
    "duplicate turn ids": duplicate_turn,
    "a context in another deployment's list": deployment_mismatch,
    "a deployment id ²": deployment_key,
    "an unknown field": item_field("extra", 1),
    "a block of unknown type": lambda s: _first(s)["turns"][0]["blocks"][0].update(type="image"),
    "version 2": lambda s: s.update(version=2),
    "deployments a list": lambda s: s.update(deployments=[]),
}


async def _whole(client: httpx.AsyncClient) -> dict[str, Any]:
    listing = await client.get(COLLECTION)
    assert listing.status_code == 200, listing.text
    snapshot = await client.get("/_mock/state", headers=TOKEN)
    assert snapshot.status_code == 200, snapshot.text
    histories = {}
    for context in listing.json()["data"]:
        got = await client.get(f"{COLLECTION}/{context['id']}")
        assert got.status_code == 200, got.text
        history = await client.get(f"{COLLECTION}/{context['id']}/messages")
        assert history.status_code == 200, history.text
        histories[context["id"]] = history.json()
    return {"list": listing.json(), "snapshot": snapshot.json(), "history": histories}


@pytest.mark.parametrize("name", list(REFUSED))
async def test_a_refused_snapshot_changes_nothing(control: httpx.AsyncClient, name: str) -> None:
    before = await _whole(control)
    snapshot = copy.deepcopy(before["snapshot"])
    REFUSED[name](snapshot)
    response = await control.put("/_mock/state", json=snapshot, headers=TOKEN)
    assert response.status_code == 400, response.text
    assert envelope_message(400, response.content).startswith("Not a valid snapshot")
    assert await _whole(control) == before
    context_id = before["list"]["data"][-1]["id"]
    executed = await control.post(f"{COLLECTION}/{context_id}/execute", json=EXECUTE)
    assert executed.status_code == 200, executed.text


async def test_a_refusal_names_the_place(control: httpx.AsyncClient) -> None:
    snapshot = (await control.get("/_mock/state", headers=TOKEN)).json()
    text_block(5)(snapshot)
    response = await control.put("/_mock/state", json=snapshot, headers=TOKEN)
    message = envelope_message(400, response.content)
    assert "turns/0/blocks/0" in message
    assert "\n" not in message


async def test_an_accepted_snapshot_round_trips_and_ids_stay_in_63_bits(
    control: httpx.AsyncClient,
) -> None:
    before = await _whole(control)
    snapshot = copy.deepcopy(before["snapshot"])
    top = str(2**63 - 100)
    _first(snapshot)["context"]["id"] = top
    response = await control.put("/_mock/state", json=snapshot, headers=TOKEN)
    assert response.json() == {"contexts": 2}
    got = await control.get(f"{COLLECTION}/{top}")
    assert got.status_code == 200
    new = (await control.post(COLLECTION, json={"title": "after"})).json()
    assert int(top) < int(new["id"]) < 2**63
    assert (await control.get(COLLECTION)).status_code == 200


def _large_snapshot(contexts: int) -> bytes:
    deployment = "4242"
    stamp = "2026-01-01T00:00:00.000000Z"
    items = []
    for number in range(contexts):
        context_id = str(10**15 + number * 10)
        turns = [
            {
                "id": str(10**15 + number * 10 + turn + 1),
                "execution_id": str(10**15 + number * 10 + 9),
                "role": "user" if turn % 2 == 0 else "assistant",
                "created_at": stamp,
                "blocks": [{"type": "text", "text": "word " * 40}],
            }
            for turn in range(6)
        ]
        context = {
            "id": context_id,
            "deployment_id": deployment,
            "title": f"Context {number}",
            "system_instructions": None,
            "context_group": "support",
            "status": "active",
            "created_at": stamp,
            "updated_at": stamp,
            "last_activity_at": stamp,
            "completed_at": None,
            "execution_state": None,
        }
        items.append({"context": context, "conversation_id": None, "executions": 3, "turns": turns})
    return json.dumps({"version": 1, "deployments": {deployment: items}}).encode()


def test_a_large_import_does_not_stop_the_server() -> None:
    body = _large_snapshot(8_000)  # about 21 MB
    app = create_app(MockConfig(seed=1, control_token=CONTROL_TOKEN))
    with ServerThread(app) as server, httpx.Client(base_url=server.url, headers=TOKEN) as client:
        done = threading.Event()
        result: dict[str, Any] = {}

        def put() -> None:
            headers = {**TOKEN, "Content-Type": "application/json"}
            started = time.perf_counter()
            response = httpx.put(
                f"{server.url}/_mock/state", content=body, headers=headers, timeout=60
            )
            result["status"], result["seconds"] = (
                response.status_code,
                time.perf_counter() - started,
            )
            done.set()

        threading.Thread(target=put).start()
        time.sleep(0.05)
        gaps = []
        while not done.is_set():
            started = time.perf_counter()
            assert client.get("/_mock/health").status_code == 200
            gaps.append(time.perf_counter() - started)
        assert result["status"] == 200
        assert len(gaps) >= 3, result
        assert max(gaps) < max(0.5, result["seconds"] / 3), (max(gaps), result["seconds"])
