"""Memory stays bounded: a long conversation, its deletion, fat headers, many agent names.

Each test measures what Python holds (``tracemalloc``, after a full collection) before and after
a bounded amount of traffic over a real socket, and fails on growth that a bounded mock cannot
have. The minutes-long soak of the same kind is ``benchmarks/soak.py``.
"""

from __future__ import annotations

import gc
import tracemalloc
import warnings
from collections.abc import Iterator

import httpx
import pytest

from wacht_mock.service.config import MockConfig

from .support import COLLECTION, Served, message_body, served

KEY = "wk_test_memory"
CALL_LOG = 50
JOURNAL = 30


@pytest.fixture
def live() -> Iterator[Served]:
    config = MockConfig(seed=1, journal_size=JOURNAL, call_log_size=CALL_LOG)
    # What earlier tests in this process left for the collector is theirs, not this test's: it
    # goes before the measurement starts (an unclosed client socket among it warns, harmlessly).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    with served(config) as fresh:
        fresh.mock.engine.agent("support-bot").reply("Noted: {message}")
        tracemalloc.start()
        try:
            yield fresh
        finally:
            tracemalloc.stop()


def _held() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def _execute(client: httpx.Client, context_id: str, count: int) -> None:
    for n in range(count):
        response = client.post(
            f"{COLLECTION}/{context_id}/execute", json=message_body(f"message {n}")
        )
        assert response.status_code == 200, response.text


def test_a_long_conversation_costs_its_turns_and_no_more(live: Served) -> None:
    with live.client(KEY) as client:
        context_id = client.post(COLLECTION, json={"title": "Long chat"}).json()["id"]
        _execute(client, context_id, CALL_LOG)  # the call log and the journal are full now
        warm = _held()
        _execute(client, context_id, 200)  # the conversation goes from 100 to 500 turns
        grown = _held()
        per_execute = (grown - warm) / 200
        # Two stored turns take about 1 KB. Copying the history into each logged call kept
        # ~100 B per earlier turn: at these lengths, 10-50 KB an execute.
        assert per_execute < 3_000, f"{per_execute:.0f} B held per execute"

        assert client.delete(f"{COLLECTION}/{context_id}").status_code == 204
        freed = _held()
        # The call log still refers to the deleted context's calls; its turns are freed.
        assert grown - freed > 0.8 * (grown - warm), (warm, grown, freed)
    assert live.server_errors() == []


def _tracked() -> int:
    gc.collect()
    return len(gc.get_objects())


def test_a_text_turn_is_nothing_for_the_collector_to_visit(live: Served) -> None:
    # Each full collection visited every object a conversation held: under load its pauses
    # were the execute tail. A text-only turn held a turn, a tuple and a block (six objects an
    # execute); it is kept as a tuple of strings and a time, which the collector stops
    # tracking once it has seen it.
    with live.client(KEY) as client:
        context_id = client.post(COLLECTION, json={"title": "Long chat"}).json()["id"]
        _execute(client, context_id, CALL_LOG)  # the call log and the journal are full now
        warm = _tracked()
        _execute(client, context_id, 200)
        per_execute = (_tracked() - warm) / 200
        assert per_execute < 0.5, f"{per_execute:.2f} objects tracked per execute"
        turns = client.get(f"{COLLECTION}/{context_id}/messages", params={"limit": 2}).json()
        assert [turn["blocks"] for turn in turns["data"]] == [
            [{"type": "text", "text": "message 0"}],
            [{"type": "text", "text": "Noted: message 0"}],
        ]
    assert live.server_errors() == []


def test_a_journal_entry_is_two_objects_for_the_collector(live: Served) -> None:
    # Every request leaves an entry that lives until the ring drops it; the collector visits
    # it on each pass meanwhile. A whole body is kept as its bytes (no object of its own).
    with live.client(KEY) as client:
        context_id = client.post(COLLECTION, json={"title": "Read often"}).json()["id"]
        for _ in range(JOURNAL):
            assert client.get(f"{COLLECTION}/{context_id}").status_code == 200
        full = _tracked()
        kept = live.mock.journal.entries()
        assert len(kept) == JOURNAL
        assert kept[-1].response_body.startswith('{"id":"' + context_id)
        del kept
        live.mock.journal.clear()
        per_entry = (full - _tracked()) / JOURNAL
        assert per_entry < 2.5, f"{per_entry:.2f} objects tracked per journal entry"


def test_a_context_read_and_listed_is_one_object_for_the_collector(live: Served) -> None:
    # A mock under a create load holds tens of thousands of contexts: each full collection
    # visits them all. Its encoded JSON (made once, for reads and lists) is part of it.
    with live.client(KEY) as client:
        for _ in range(JOURNAL):  # the journal is full: its entries come and go from now on
            client.post(COLLECTION, json={"title": "Warm-up"})
        before = _tracked()
        made = [client.post(COLLECTION, json={"title": f"Context {n}"}).json() for n in range(200)]
        listed = [
            *client.get(COLLECTION, params={"limit": 100}).json()["data"],
            *client.get(COLLECTION, params={"limit": 100, "offset": 100}).json()["data"],
        ]
        assert listed == made[::-1]  # every one encoded (and kept) for the list
        per_context = (_tracked() - before) / 200
        assert per_context < 1.5, f"{per_context:.2f} objects tracked per context"


def test_fat_headers_and_query_strings_are_clipped_in_the_journal(live: Served) -> None:
    padding = {f"x-padding-{n}": "p" * 5_000 for n in range(12)}  # 60 kB of headers
    query = "?" + "q=" + "y" * 30_000
    with live.client(KEY) as client:
        for _ in range(JOURNAL):
            assert client.get(COLLECTION + query, headers=padding).status_code == 200
        warm = _held()
        for _ in range(100):
            assert client.get(COLLECTION + query, headers=padding).status_code == 200
        grown = _held()
    assert len(live.mock.journal) == JOURNAL
    assert max(entry.size for entry in live.mock.journal) < 20_000
    assert grown - warm < 200_000, f"{grown - warm} B more after 100 requests"


def test_a_reset_frees_the_agents_it_forgets(live: Served) -> None:
    with live.client(KEY) as client:
        live.mock.reset()
        context_id = client.post(COLLECTION, json={"title": "Many agents"}).json()["id"]
        # What the first execution loads once (the default agent's words, the headers shown)
        # is not an agent's: loaded before counting.
        client.post(f"{COLLECTION}/{context_id}/execute", json=message_body("Hi", agent="first"))
        before = _held()
        for n in range(200):
            body = message_body("Hi", agent=f"agent-{n}")
            response = client.post(f"{COLLECTION}/{context_id}/execute", json=body)
            assert response.status_code == 200
        live.mock.reset()
        after = _held()
    assert after - before < 100_000, f"{after - before} B kept after the reset"
