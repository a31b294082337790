"""A soak: mixed load for a bounded time, with a small journal; memory stays flat.

Clients create, update, execute (plain and streamed, scripted and default agents), read lists
and conversations, send a bad request now and then, and delete, in rounds. Between rounds the
load pauses and ``tracemalloc`` reads what Python holds. Once the journal's ring buffer, the
agents' call logs and the mock's other bounded caches are full, what the mock
holds must stop growing.

About 15 s by default (up to 45 s on a slow machine, to fill the call logs first);
``WACHT_MOCK_SOAK_SECONDS=60`` runs it longer.
"""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from wacht_mock.service import views
from wacht_mock.service.auth import deployment_id_for
from wacht_mock.service.config import MockConfig

from .support import COLLECTION, Served, message_body, served, stream_body

SECONDS = float(os.environ.get("WACHT_MOCK_SOAK_SECONDS", "15"))
MAX_ROUNDS = 10_000
KEYS = ("wk_test_soak0", "wk_test_soak1")
AGENTS = ("support-bot", "default-bot-0", "default-bot-1", "default-bot-2")
JOURNAL = 200
CALL_LOG = 20
CLIENTS = 4
WARM_UP = 0.4
#: Rounds before the warm-up sample, and after it: on a loaded machine rounds are slow, and the
#: mock's bounded caches fill by rounds, not by seconds (so the run may take longer, up to a cap).
WARM_ROUNDS = 9
ROUNDS_AFTER_WARM = 6
MAX_SECONDS_FACTOR = 4
#: What a request may leave behind for good, on average, once everything bounded is full. The
#: leak this guards against (an unbounded call log) kept about 500 B a request; on a loaded
#: machine the rings fill more slowly within the time budget, so the bound leaves room for that.
BYTES_PER_REQUEST = 128


@pytest.fixture
def live() -> Iterator[Served]:
    with served(MockConfig(seed=3, journal_size=JOURNAL, call_log_size=CALL_LOG)) as fresh:
        engine = fresh.mock.engine
        engine.agent("support-bot").when(message_contains="refund").reply("Refunds take 5 days")
        engine.agent("support-bot").reply("Hello from {context.title}")
        yield fresh


def _lifecycle(client: httpx.Client, number: int) -> None:
    """One context from creation to deletion, with everything a client does in between."""
    created = client.post(COLLECTION, json={"title": f"Soak {number}", "context_group": "soak"})
    assert created.status_code == 200, created.text
    url = f"{COLLECTION}/{created.json()['id']}"
    assert client.patch(url, json={"system_instructions": "Be brief."}).status_code == 200
    for turn, message in enumerate(["Hello", "I want a refund", "Thanks", "Bye"]):
        agent = "support-bot" if turn % 2 else f"default-bot-{number % 3}"
        if turn % 2:
            with client.stream("POST", url + "/execute", json=stream_body(message, agent)) as r:
                assert r.status_code == 200
                r.read()
        else:
            response = client.post(url + "/execute", json=message_body(message, agent))
            assert response.status_code == 200, response.text
    assert client.get(COLLECTION, params={"context_group": "soak", "limit": 10}).status_code == 200
    assert client.get(url + "/messages", params={"limit": 5}).status_code == 200
    assert client.patch(url, json={"status": "paused"}).status_code == 400
    assert client.get(url).status_code == 200
    assert client.delete(url).status_code == 204


def _round(live: Served, clients: list[httpx.Client], round_number: int) -> None:
    def work(index: int) -> None:
        for repeat in range(2):
            _lifecycle(clients[index], round_number * 10 + index * 2 + repeat)

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(work, range(CLIENTS)))


def _held() -> int:
    """What Python holds now (the load is paused), after a full collection."""
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def _steady(samples: list[tuple[int, int]]) -> tuple[int, int]:
    """The middle of a few samples: one sample's noise does not decide."""
    held = sorted(sample[1] for sample in samples)[len(samples) // 2]
    return samples[len(samples) // 2][0], held


def _fill_bounded_caches() -> None:
    """Fill the timestamp cache past its bound, so that filling it is not counted as growth.

    Three times over: its table then has the size that evictions keep it at.
    """
    size = views.timestamp.cache_info().maxsize or 0
    start = datetime(2000, 1, 1, tzinfo=UTC)
    for step in range(3 * size):
        views.timestamp(start + timedelta(microseconds=step))


def _call_logs_full(live: Served) -> bool:
    """Whether every agent's call log, in each deployment (each has its own), is full."""
    engine = live.mock.engine
    return all(
        engine.agent(agent).call_count_in(deployment_id_for(key)) >= CALL_LOG
        for agent in AGENTS
        for key in KEYS
    )


def test_memory_stays_flat_under_a_long_mixed_load(live: Served) -> None:
    clients = [live.client(KEYS[n % 2]) for n in range(CLIENTS)]
    tracemalloc.start()
    try:
        _fill_bounded_caches()
        samples: list[tuple[int, int]] = []  # (requests answered, bytes held)
        started = time.monotonic()
        warm: tuple[int, int] | None = None
        full_at = warm_round = MAX_ROUNDS
        for round_number in range(MAX_ROUNDS):
            _round(live, clients, round_number)
            samples.append((live.answered, _held()))
            elapsed = time.monotonic() - started
            if full_at == MAX_ROUNDS and _call_logs_full(live):
                full_at = round_number
            if (
                warm is None
                and elapsed > WARM_UP * SECONDS
                and round_number >= max(WARM_ROUNDS, full_at + 2)  # the samples: logs full
            ):
                warm, warm_round = _steady(samples[-3:]), round_number
            # On a slow machine, more rounds (up to a few times the time): enough rounds after
            # the warm-up that growth is measured at all.
            measured = round_number >= warm_round + ROUNDS_AFTER_WARM
            if (elapsed > SECONDS and measured) or elapsed > MAX_SECONDS_FACTOR * SECONDS:
                break
    finally:
        tracemalloc.stop()
        for client in clients:
            client.close()
    assert warm is not None, f"the call logs were not full after {len(samples)} rounds"
    (requests_then, held_then), (requests_now, held_now) = warm, _steady(samples[-3:])
    assert len(live.mock.journal) == JOURNAL
    assert len(live.mock.engine.agent("support-bot").calls) == CALL_LOG
    growth = (held_now - held_then) / max(1, requests_now - requests_then)
    assert growth < BYTES_PER_REQUEST, (
        f"{growth:.0f} bytes kept per request after the warm-up; held by round: "
        + ", ".join(f"{held // 1024} KiB" for _, held in samples)
    )
    assert live.server_errors() == []
