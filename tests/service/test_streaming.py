"""Streamed replies over a real socket: events, pacing and faults as a client sees them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from tests.helpers import auth
from wacht_mock import ServerThread, StreamFault, ToolCall, WachtMock, create_app


@pytest.fixture(scope="module")
def shared_mock() -> WachtMock:
    return WachtMock()


@pytest.fixture(scope="module")
def server(shared_mock: WachtMock) -> Iterator[ServerThread]:
    with ServerThread(create_app(shared_mock)) as server:
        yield server


@pytest.fixture
def client(server: ServerThread, shared_mock: WachtMock) -> Iterator[httpx.Client]:
    shared_mock.reset()
    with httpx.Client(base_url=server.url, headers=auth(), timeout=10) as client:
        yield client


def stream_events(client: httpx.Client, message: str = "Hi") -> list[tuple[str, Any, float]]:
    """``(event, data, seconds since the request)`` for each event of a streamed execution."""
    context = client.post("/ai/execution-contexts", json={"title": "Streams"}).json()
    body = {"agent_name": "bot", "execution_type": {"stream": {"message": message}}}
    started = time.perf_counter()
    url = f"/ai/execution-contexts/{context['id']}/execute"
    with connect_sse(client, "POST", url, json=body) as source:
        assert source.response.headers["content-type"].startswith("text/event-stream")
        return [
            (event.event, json.loads(event.data), time.perf_counter() - started)
            for event in source.iter_sse()
        ]


def names(events: list[tuple[str, Any, float]]) -> list[str]:
    return [name for name, _, _ in events]


def test_a_stream_carries_the_whole_reply(client: httpx.Client, shared_mock: WachtMock) -> None:
    shared_mock.engine.agent("bot").reply(
        "Your order has shipped.", tool_calls=[ToolCall("lookup", {"id": "A1"}, id="call_9")]
    )
    events = stream_events(client)
    assert names(events) == [
        "message_start",
        *["content_delta"] * 4,
        "tool_call",
        "message_end",
    ]
    end = events[-1][1]
    deltas = "".join(data["text"] for name, data, _ in events if name == "content_delta")
    assert deltas == end["response"]["content"] == "Your order has shipped."
    assert events[0][1]["execution_id"] == end["execution_id"]
    assert events[-2][1] == {"id": "call_9", "name": "lookup", "args": {"id": "A1"}}


def test_chunks_by_character_and_fixed_size(client: httpx.Client, shared_mock: WachtMock) -> None:
    shared_mock.engine.agent("bot").replies(
        [{"text": "abc", "chunking": "char"}, {"text": "abcdefg", "chunking": 3}]
    )
    by_char = [d["text"] for n, d, _ in stream_events(client) if n == "content_delta"]
    by_size = [d["text"] for n, d, _ in stream_events(client) if n == "content_delta"]
    assert by_char == ["a", "b", "c"]
    assert by_size == ["abc", "def", "g"]


def test_latency_and_chunk_delay_pace_the_stream(
    client: httpx.Client, shared_mock: WachtMock
) -> None:
    shared_mock.engine.agent("bot").reply("one two three", latency=0.3, chunk_delay=0.2)
    events = stream_events(client)
    last_delta = [t for n, _, t in events if n == "content_delta"][-1]
    # Lower bounds from the request's start only: a slow machine makes events later, never
    # earlier (the gap between two events can shrink when the first one is held up).
    assert events[0][2] >= 0.3
    assert last_delta >= 0.3 + 2 * 0.2


def test_a_cut_stream_ends_without_message_end(
    client: httpx.Client, shared_mock: WachtMock
) -> None:
    shared_mock.engine.agent("bot").reply("a b c d", fault=StreamFault("cut", 2))
    assert names(stream_events(client)) == ["message_start", "content_delta"]


def test_an_error_event_mid_stream(client: httpx.Client, shared_mock: WachtMock) -> None:
    shared_mock.engine.agent("bot").reply(
        "a b c d", fault=StreamFault("error", 3, "overloaded", 503)
    )
    events = stream_events(client)
    assert names(events) == ["message_start", "content_delta", "content_delta", "error"]
    assert events[-1][1] == {"errors": [{"message": "overloaded", "code": 503}]}


def test_a_dropped_connection(client: httpx.Client, shared_mock: WachtMock) -> None:
    shared_mock.engine.agent("bot").reply("a b c d", fault=StreamFault("drop", 1))
    with pytest.raises(httpx.RemoteProtocolError):
        stream_events(client)
    assert client.get("/ai/execution-contexts").status_code == 200
