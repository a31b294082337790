"""The request journal: complete entries, masked keys, a bounded ring, readable summaries."""

from __future__ import annotations

import json
from dataclasses import fields

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from tests.helpers import KEY, auth
from wacht_mock import MockConfig, WachtMock, create_app
from wacht_mock.core.journal import Entry, Journal, RawBody, mask_key
from wacht_mock.core.recording import Recorder
from wacht_mock.core.server import ServerThread

pytestmark = pytest.mark.anyio
JSON = {"content-type": "application/json"}
ASK = {"message": "x"}


async def test_an_entry_holds_the_request_and_what_the_mock_answered(mock: WachtMock) -> None:
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
    assert entry.headers["authorization"] == "Bearer wk_test_…"  # a short key shows no tail
    assert KEY not in str(entry.as_dict())
    assert entry.deployment_id is not None
    assert entry.duration_ms >= 0
    # Recorded without the dataclass's constructor: every field is there, as it would set it.
    assert {field.name for field in fields(Entry)} <= entry.__dict__.keys()
    rebuilt = Entry(**{field.name: getattr(entry, field.name) for field in fields(Entry)})
    assert rebuilt == entry
    assert rebuilt.size == entry.size


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
        "contract violation: Invalid request body: /title: expected a string, got 1 (an integer)",
    )
    assert executed.agent_name == "bot"
    assert executed.script is not None
    assert "[bot" in executed.summary()


def test_the_ring_keeps_only_the_newest() -> None:
    journal = Journal(size=3)
    for _ in range(10):
        number = journal.next_number()
        journal.record(Entry(number, 0.0, "GET", "/", "", {}, "", 200, "", 0.1))
    assert [e.number for e in journal.entries()] == [8, 9, 10]
    assert journal.total == 10
    assert [e.number for e in journal.entries(since=9)] == [10]
    journal.clear()
    assert len(journal) == 0


def test_the_ring_is_bounded_in_bytes_too() -> None:
    journal = Journal(size=100, max_bytes=50_000)
    for _ in range(20):
        journal.record(
            Entry(journal.next_number(), 0.0, "GET", "/", "", {}, "x" * 10_000, 200, "", 0)
        )
    assert [e.number for e in journal.entries()] == [17, 18, 19, 20]
    assert journal.bytes == sum(e.size for e in journal.entries()) <= 50_000
    assert journal.total == 20
    huge = Entry(journal.next_number(), 0.0, "GET", "/", "", {}, "x" * 90_000, 200, "", 0)
    journal.record(huge)
    assert journal.entries() == [huge]  # the newest is always kept
    journal.clear()
    assert journal.bytes == 0


async def test_headers_and_query_strings_are_clipped(mock: WachtMock) -> None:
    transport = httpx.ASGITransport(app=create_app(mock))
    padding = {f"x-pad-{n}": "p" * 5000 for n in range(12)}
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        await c.get("/ai/execution-contexts?" + "q=" + "y" * 60_000, headers=padding)
    entry = mock.journal.entries()[-1]
    assert entry.query.startswith("q=yyy")
    assert entry.query.endswith("… (60002 bytes)")
    assert len(entry.query) < 5000
    assert entry.headers["x-pad-0"].startswith("p" * 1024)
    assert entry.headers["x-pad-0"].endswith("… (5000 characters)")
    assert sum(len(k) + len(v) for k, v in entry.headers.items()) < 10_000
    assert entry.headers["…"].endswith("more headers not kept")
    assert entry.headers["authorization"].startswith("Bearer wk_test_…")
    assert entry.size < 20_000


def test_large_bodies_are_clipped_with_their_whole_length_noted(mock: WachtMock) -> None:
    mock.engine.agent("bot").reply("word " * 60_000)
    upload = json.dumps({"title": "x" * 300_000}).encode()
    with ServerThread(create_app(mock)) as server, httpx.Client(base_url=server.url) as client:
        client.post("/ai/execution-contexts", content=upload, headers={**auth(), **JSON})
        context = client.post("/ai/execution-contexts", json={"title": "t"}, headers=auth())
        execute = f"/ai/execution-contexts/{context.json()['id']}/execute"
        answers = [
            client.post(
                execute, json={"agent_name": "bot", "execution_type": {kind: ASK}}, headers=auth()
            )
            for kind in ("new_message", "stream")
        ]
    assert [answer.status_code for answer in answers] == [200, 200]
    uploaded, _, whole, streamed = mock.journal.entries()
    assert uploaded.body.endswith(f"… ({len(upload)} bytes)")
    assert whole.response_body.endswith(f"… ({len(answers[0].content)} bytes)")
    assert streamed.response_body.endswith(f"… ({len(answers[1].content)} bytes)")
    assert max(entry.size for entry in mock.journal.entries()) < 40_000


def test_the_journal_size_is_configurable() -> None:
    assert WachtMock(MockConfig(journal_size=5)).journal.size == 5
    assert WachtMock(MockConfig(journal_bytes=5000)).journal.max_bytes == 5000
    with pytest.raises(ValueError, match="at least one"):
        Journal(size=0)
    with pytest.raises(ValueError, match="max_bytes"):
        Journal(max_bytes=0)


@pytest.mark.parametrize(
    ("header", "masked"),
    [
        ("Bearer wk_live_abcdef1234", "Bearer wk_live_…"),
        ("Bearer wk_live_abcdefghij1234", "Bearer wk_live_…1234"),
        ("Bearer other-token-9999", "Bearer …"),
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


async def test_large_bodies_are_clipped_with_their_whole_length_and_keys_masked(
    mock: WachtMock,
) -> None:
    transport = httpx.ASGITransport(app=create_app(mock))
    secret = "wk_live_abcdefghijklmnop1234"
    title = f"{secret} " + "t" * 250_000
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        response = await c.post("/ai/execution-contexts", json={"title": title})
    assert response.status_code == 400
    entry = mock.journal.entries()[-1]
    sent = len(response.request.content)
    assert entry.body.startswith('{"title":"wk_live_…1234 ttt')
    assert secret not in entry.body
    assert entry.body.endswith(f"… ({sent} bytes)")
    assert len(entry.body) < 20_000
    assert entry.size < 20_000


def test_the_byte_bound_counts_bodies_nobody_has_read() -> None:
    journal = Journal(size=100, max_bytes=50_000)
    for _ in range(20):
        body = RawBody(b"x" * 30_000, 30_000)
        journal.record(Entry(journal.next_number(), 0.0, "POST", "/", "", {}, body, 200, "", 0))
    held = journal.bytes
    assert 20_000 < held <= 50_000
    entries = journal.entries()
    assert [e.number for e in entries] == [19, 20]  # 17 KiB each, at most 50,000 bytes
    assert entries[0].body == "x" * 16 * 1024 + "… (30000 bytes)"
    assert sum(e.size for e in entries) == held  # reading them changes nothing
