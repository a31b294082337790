"""Same seed, same frozen time, same requests: byte-identical bodies from two fresh servers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.helpers import auth
from wacht_mock import FrozenClock, MockConfig, create_app

pytestmark = pytest.mark.anyio
FIXTURES = [Path(__file__).resolve().parents[2] / "fixtures"]


async def conversation(seed: int) -> list[bytes]:
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    app = create_app(MockConfig(seed=seed, clock=clock, fixtures=FIXTURES))
    transport = httpx.ASGITransport(app=app)
    bodies: list[bytes] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        created = await c.post("/ai/execution-contexts", json={"title": "Determinism"})
        url = f"/ai/execution-contexts/{created.json()['id']}"
        for agent, message in [("support-bot", "hi"), ("unscripted", "x"), ("support-bot", "?")]:
            body = {"agent_name": agent, "execution_type": {"new_message": {"message": message}}}
            bodies.append((await c.post(url + "/execute", json=body)).content)
        stream = {"agent_name": "anyone", "execution_type": {"stream": {"message": "s"}}}
        bodies.append((await c.post(url + "/execute", json=stream)).content)
        bodies.append((await c.get(url + "/messages")).content)
        bodies.append((await c.get("/ai/execution-contexts", headers=auth("wk_test_demo"))).content)
        bodies.insert(0, created.content)
    return bodies


async def test_same_seed_gives_identical_bodies() -> None:
    first, second = await conversation(42), await conversation(42)
    assert first == second


async def test_another_seed_gives_other_generated_text() -> None:
    first, other = await conversation(42), await conversation(43)
    assert first[2] != other[2]  # the unscripted agent's generated reply
    assert first[-1] != other[-1]  # the generated contexts
