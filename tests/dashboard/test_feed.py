"""The live feed over a real socket: new requests as Server-Sent Events, bounded, masked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.dashboard.support import SECRET_KEY, SECRET_PART, TOKEN, UI, serving
from wacht_mock.core.journal import MAX_SUBSCRIBERS
from wacht_mock.core.sse import SseEvent, SseReader


@contextmanager
def signed_in(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=5) as client:
        assert client.post(f"{UI}/sign-in", data={"token": TOKEN}).status_code == 303
        yield client


def read_entries(stream: httpx.Response, count: int) -> list[SseEvent]:
    reader, seen = SseReader(), []
    for chunk in stream.iter_raw():
        seen += [event for event in reader.feed(chunk) if event.event == "entry"]
        if len(seen) >= count:
            return seen
    raise AssertionError(f"the feed ended after {len(seen)} entries")


def test_a_request_arrives_on_the_feed_as_it_is_made_with_its_key_masked() -> None:
    with serving() as (_, url), signed_in(url) as client:
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {SECRET_KEY}"})
        with api, client.stream("GET", f"{UI}/feed") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            api.post("/ai/execution-contexts", json={"title": f"about {SECRET_KEY}"})
            api.get(f"/ai/execution-contexts?title={SECRET_KEY}")
            first, second = read_entries(stream, 2)
    row = json.loads(first.data)
    assert first.id == "1"
    assert (row["method"], row["path"], row["status"]) == ("POST", "/ai/execution-contexts", 200)
    assert row["operation"] == "POST /ai/execution-contexts"
    assert SECRET_PART not in first.data + second.data
    assert "wk_test_…Xy31" in json.loads(second.data)["path"]


def test_a_feed_starts_after_since_or_the_last_event_id() -> None:
    with serving() as (_, url), signed_in(url) as client:
        for _ in range(3):
            client.get("/ai/execution-contexts", headers={"Authorization": f"Bearer {SECRET_KEY}"})
        with client.stream("GET", f"{UI}/feed?since=1") as stream:
            assert [e.id for e in read_entries(stream, 2)] == ["2", "3"]
        with client.stream("GET", f"{UI}/feed", headers={"Last-Event-ID": "2"}) as stream:
            assert [e.id for e in read_entries(stream, 1)] == ["3"]


def test_past_the_subscribers_the_journal_allows_a_feed_is_a_503_in_the_envelope() -> None:
    with serving() as (mock, url), signed_in(url) as client:
        held = [mock.journal.subscribe() for _ in range(MAX_SUBSCRIBERS)]
        answer = client.get(f"{UI}/feed")
        assert answer.status_code == 503
        assert "subscribers already" in answer.json()["errors"][0]["message"]
        held[0].close()
        with client.stream("GET", f"{UI}/feed") as stream:
            assert stream.status_code == 200
