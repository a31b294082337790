"""The request journal: complete entries, masked keys, a bounded ring, readable summaries."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from tests.helpers import KEY, auth
from wacht_mock import MockConfig, WachtMock, create_app
from wacht_mock.core.journal import Entry, Journal, mask_key
from wacht_mock.core.recording import Recorder

pytestmark = pytest.mark.anyio


async def test_an_entry_is_recorded_before_the_client_sees_the_response(mock: WachtMock) -> None:
    transport = httpx.ASGITransport(app=create_app(mock))
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        await c.post("/ai/execution-contexts?x=1", json={"title": "Journal"})
        (entry,) = mock.journal.entries()
    assert (entry.method, entry.path, entry.query, entry.status) == (
        "POST",
        "/ai/execution-contexts",
        "x=1",
        200,
    )
    assert '"Journal"' in entry.body
    assert '"Journal"' in entry.response_body
    assert entry.headers["authorization"] == "Bearer wk_test_…" + KEY[-4:]
    assert KEY not in str(entry.as_dict())
    assert entry.deployment_id is not None
    assert entry.duration_ms >= 0


async def test_violations_and_script_steps_are_noted(mock: WachtMock) -> None:
    mock.engine.agent("bot").reply("hi")
    transport = httpx.ASGITransport(app=create_app(mock))
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        await c.post("/ai/execution-contexts", json={"title": 1})
        context = (await c.post("/ai/execution-contexts", json={"title": "t"})).json()
        body = {"agent_name": "bot", "execution_type": {"new_message": {"message": "x"}}}
        await c.post(f"/ai/execution-contexts/{context['id']}/execute", json=body)
    bad, _, executed = mock.journal.entries()
    assert bad.violations == (
        "contract violation: Invalid request body: /title: expected a string, got 1",
    )
    assert executed.agent_name == "bot"
    assert executed.script is not None
    assert "[bot" in executed.summary()


def test_the_ring_keeps_only_the_newest() -> None:
    journal = Journal(size=3)
    for _ in range(10):
        number = journal.next_number()
        journal.record(Entry(number, 0.0, "GET", "/", "", (), b"", 200, b"", 0.1))
    assert [e.number for e in journal.entries()] == [8, 9, 10]
    assert journal.total == 10
    assert [e.number for e in journal.entries(since=9)] == [10]
    journal.clear()
    assert len(journal) == 0


def test_the_journal_size_is_configurable() -> None:
    assert WachtMock(MockConfig(journal_size=5)).journal.size == 5
    with pytest.raises(ValueError, match="at least one"):
        Journal(size=0)


@pytest.mark.parametrize(
    ("header", "masked"),
    [
        ("Bearer wk_live_abcdef1234", "Bearer wk_live_…1234"),
        ("Bearer other-token-9999", "Bearer …9999"),
        ("Bearer", "…"),
    ],
)
def test_keys_are_masked(header: str, masked: str) -> None:
    assert mask_key(header) == masked


async def test_a_scripted_fault_names_its_script_step(mock: WachtMock) -> None:
    mock.engine.agent("bot").fail(503)
    transport = httpx.ASGITransport(app=create_app(mock))
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        context = (await c.post("/ai/execution-contexts", json={"title": "t"})).json()
        body = {"agent_name": "bot", "execution_type": {"new_message": {"message": "x"}}}
        assert (
            await c.post(f"/ai/execution-contexts/{context['id']}/execute", json=body)
        ).status_code == 503
    faulted = mock.journal.entries()[-1]
    assert faulted.script is not None
    assert faulted.script.startswith("bot")
    assert faulted.error is None


@pytest.mark.parametrize(("method", "status"), [("DELETE", 204), ("GET", 304), ("HEAD", 200)])
async def test_a_response_that_ends_with_its_head_is_recorded_before_it_is_sent(
    method: str, status: int
) -> None:
    journal = Journal()
    seen_at_start: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            seen_at_start.append(len(journal))

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": method, "path": "/x", "headers": []}
    await Recorder(app, journal, skip_prefix="/_mock/")(scope, receive, send)
    assert seen_at_start == [1]
    assert [e.status for e in journal.entries()] == [status]
