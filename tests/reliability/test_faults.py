"""Faults scripted into agents leave the server healthy and the context's state truthful.

An HTTP fault (429, 500, 503) answers instead of the agent: nothing is recorded, the context is
exactly as it was. A stream that breaks (cut short, ended by an ``error`` event, or its
connection dropped) marks the execution failed, with its error, and keeps only the user's turn.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from wacht_mock import HttpFault, Reply, StreamFault
from wacht_mock.agents import StreamFaultMode

from .support import (
    COLLECTION,
    Served,
    envelope_message,
    message_body,
    served,
    stream_body,
    walk,
)

KEY = "wk_test_faults"
REPLY = "one two three four five"


@pytest.fixture
def live() -> Iterator[Served]:
    with served() as fresh:
        yield fresh


@dataclass(frozen=True)
class Streamed:
    """What a client got from a streamed execution before it ended, and how it ended."""

    events: list[tuple[str, Any]]
    dropped: bool


def _context(client: httpx.Client) -> str:
    context_id: str = client.post(COLLECTION, json={"title": "Faulty"}).json()["id"]
    return context_id


def _stream(client: httpx.Client, context_id: str, agent: str) -> Streamed:
    url = f"{COLLECTION}/{context_id}/execute"
    received = b""
    try:
        with client.stream("POST", url, json=stream_body(agent=agent)) as response:
            assert response.status_code == 200
            for chunk in response.iter_raw():
                received += chunk
    except httpx.RemoteProtocolError:
        return Streamed(_events(received), dropped=True)
    return Streamed(_events(received), dropped=False)


def _events(raw: bytes) -> list[tuple[str, Any]]:
    events = []
    for block in raw.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


def _snapshot(client: httpx.Client, context_id: str) -> tuple[Any, list[dict[str, Any]]]:
    url = f"{COLLECTION}/{context_id}"
    return client.get(url).json(), walk(client, url + "/messages")


def _assert_healthy(live: Served, client: httpx.Client, context_id: str) -> None:
    """A normal execution still works, and the context then says so."""
    answer = _stream(client, context_id, "healthy-bot")
    assert not answer.dropped
    name, end = answer.events[-1]
    assert name == "message_end"
    context = client.get(f"{COLLECTION}/{context_id}").json()
    assert context["execution_state"]["execution_id"] == end["execution_id"]
    assert context["execution_state"]["status"] == "completed"
    assert context["execution_state"]["error"] is None
    assert context["completed_at"] is not None
    assert [entry.error for entry in live.mock.journal.entries() if entry.error] == []


# -- HTTP faults ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["new_message", "stream"])
@pytest.mark.parametrize(
    ("status", "retry_after", "message"),
    [(429, "1", "Too Many Requests"), (500, None, "Internal Server Error"), (503, "7", "busy")],
)
def test_an_http_fault_answers_in_the_envelope_and_records_nothing(
    live: Served, kind: str, status: int, retry_after: str | None, message: str
) -> None:
    scripted: dict[str, Any] = {"retry_after": 7, "message": "busy"} if status == 503 else {}
    live.mock.engine.agent("faulty-bot").fail(status, **scripted)
    with live.client(KEY) as client:
        context_id = _context(client)
        client.post(f"{COLLECTION}/{context_id}/execute", json=message_body())
        before = _snapshot(client, context_id)
        body = (
            message_body(agent="faulty-bot")
            if kind == "new_message"
            else stream_body(agent="faulty-bot")
        )
        response = client.post(f"{COLLECTION}/{context_id}/execute", json=body)
        assert response.status_code == status
        assert envelope_message(status, response.content) == message
        assert response.headers.get("retry-after") == retry_after
        assert _snapshot(client, context_id) == before
        _assert_healthy(live, client, context_id)


# -- broken streams -------------------------------------------------------------------------


@pytest.mark.parametrize("after_events", [0, 1, 3])
@pytest.mark.parametrize("mode", ["cut", "error", "drop"])
def test_a_broken_stream_marks_the_execution_failed_with_its_error(
    live: Served, mode: StreamFaultMode, after_events: int
) -> None:
    fault = StreamFault(mode, after_events, message="Upstream model overloaded", code=503)
    live.mock.engine.agent("flaky-bot").reply(REPLY, fault=fault)
    with live.client(KEY) as client:
        context_id = _context(client)
        history_before = walk(client, f"{COLLECTION}/{context_id}/messages")
        got = _stream(client, context_id, "flaky-bot")
        _assert_broken_as_scripted(got, mode, after_events)
        context, history = _snapshot(client, context_id)
        state = context["execution_state"]
        assert state["status"] == "failed"
        assert state["error"] == {"message": "Upstream model overloaded", "code": 503}
        assert context["completed_at"] is None
        new_turns = history[len(history_before) :]
        assert [turn["role"] for turn in new_turns] == ["user"]
        assert new_turns[0]["execution_id"] == state["execution_id"]
        if after_events:
            assert got.events[0][1]["execution_id"] == state["execution_id"]
        _assert_healthy(live, client, context_id)


def _assert_broken_as_scripted(got: Streamed, mode: str, after_events: int) -> None:
    names = [name for name, _ in got.events]
    assert "message_end" not in names
    assert got.dropped == (mode == "drop")
    if mode == "error":
        assert names == [*_clean_start(after_events), "error"]
        assert got.events[-1][1] == {
            "errors": [{"message": "Upstream model overloaded", "code": 503}]
        }
    else:
        assert names == _clean_start(after_events)


def _clean_start(count: int) -> list[str]:
    return ["message_start", "content_delta", "content_delta", "content_delta"][:count]


# -- a run of faults, then recovery ---------------------------------------------------------


def test_retrying_through_faults_ends_in_a_truthful_state(live: Served) -> None:
    cut = StreamFault("cut", 2)
    live.mock.engine.agent("retry-bot").replies(
        [Reply(fault=HttpFault(503)), Reply(text=REPLY, fault=cut), "All good now"]
    )
    with live.client(KEY) as client:
        context_id = _context(client)
        url = f"{COLLECTION}/{context_id}/execute"
        first = client.post(url, json=stream_body(agent="retry-bot"))
        assert first.status_code == 503
        assert client.get(f"{COLLECTION}/{context_id}").json()["execution_state"] is None
        second = _stream(client, context_id, "retry-bot")
        third = _stream(client, context_id, "retry-bot")
        context, history = _snapshot(client, context_id)
    assert [name for name, _ in second.events] == ["message_start", "content_delta"]
    assert third.events[-1][1]["response"]["content"] == "All good now"
    assert context["execution_state"]["execution_id"] == third.events[-1][1]["execution_id"]
    assert context["execution_state"]["status"] == "completed"
    executions = [second.events[0][1]["execution_id"], third.events[0][1]["execution_id"]]
    assert [(t["role"], t["execution_id"]) for t in history] == [
        ("user", executions[0]),
        ("user", executions[1]),
        ("assistant", executions[1]),
    ]


def test_a_storm_of_faults_from_many_clients_leaves_every_context_truthful(live: Served) -> None:
    engine = live.mock.engine
    engine.agent("limited-bot").fail(429)
    engine.agent("broken-bot").fail(500)
    engine.agent("cut-bot").reply(REPLY, fault=StreamFault("cut", 2))
    engine.agent("error-bot").reply(REPLY, fault=StreamFault("error", 1))
    engine.agent("drop-bot").reply(REPLY, fault=StreamFault("drop", 3))
    agents = ["limited-bot", "cut-bot", "broken-bot", "error-bot", "drop-bot", "healthy-bot"]

    def client_run(number: int) -> tuple[str, str | None]:
        """Faults in turn on one context; the id of the last execution that got recorded."""
        with live.client(KEY) as client:
            context_id = _context(client)
            recorded: str | None = None
            for turn in range(12):
                agent = agents[(number + turn) % len(agents)]
                if agent in ("limited-bot", "broken-bot"):
                    client.post(f"{COLLECTION}/{context_id}/execute", json=stream_body(agent=agent))
                    continue
                got = _stream(client, context_id, agent)
                recorded = got.events[0][1]["execution_id"]
            return context_id, recorded

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(client_run, range(8)))
    with live.client(KEY) as client:
        for context_id, recorded in outcomes:
            state = client.get(f"{COLLECTION}/{context_id}").json()["execution_state"]
            assert state["execution_id"] == recorded
        _assert_healthy(live, client, outcomes[0][0])
