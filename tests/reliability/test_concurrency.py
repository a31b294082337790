"""Many clients at once, over a real socket, in one shared tenant and in tenants of their own.

Each client owns some contexts: it alone writes their ``title`` and runs their executions; its
neighbour alone writes their ``system_instructions``; scratch contexts are created and deleted
around them. Afterwards every invariant holds: the right contexts and no others, unique ids,
conversations in order, and no update lost.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from .support import (
    COLLECTION,
    Served,
    message_body,
    served,
    stream_body,
    tenant_state,
    walk,
)

CLIENTS = 12
KEPT = 3
SCRATCH = 3
WRITES = 3
EXECUTIONS = 2
SHARED = "wk_test_shared"


def private_key(client: int) -> str:
    return f"wk_test_private{client}"


@dataclass(frozen=True)
class Run:
    """One execution as its client saw it."""

    execution_id: str
    conversation_id: str


@dataclass
class Ledger:
    """What one client did and therefore expects: its contexts, its last writes, its runs."""

    kept: dict[str, list[str]] = field(default_factory=dict)  # tenant key -> ids
    deleted: dict[str, list[str]] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    instructions: dict[str, str] = field(default_factory=dict)
    executions: dict[str, list[Run]] = field(default_factory=dict)


@pytest.fixture
def live() -> Iterator[Served]:
    with served() as fresh:
        yield fresh


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if status == 200 else None


def _create(client: httpx.Client, ledger: Ledger, title: str) -> str:
    context_id: str = _ok(client.post(COLLECTION, json={"title": title}))["id"]
    ledger.created.append(context_id)
    return context_id


def _delete(client: httpx.Client, ledger: Ledger, key: str, context_id: str) -> None:
    _ok(client.delete(f"{COLLECTION}/{context_id}"), 204)
    ledger.deleted.setdefault(key, []).append(context_id)


def _execute(client: httpx.Client, context_id: str, turn: int) -> Run:
    """One execution, streamed every other time."""
    url = f"{COLLECTION}/{context_id}/execute"
    if turn % 2 == 0:
        answer = _ok(client.post(url, json=message_body(f"turn {turn}")))
        return Run(answer["execution_id"], answer["conversation_id"])
    with client.stream("POST", url, json=stream_body(f"turn {turn}")) as response:
        assert response.status_code == 200
        events = _events(response.read().decode())
    deltas = "".join(data["text"] for name, data in events if name == "content_delta")
    name, end = events[-1]
    assert name == "message_end"
    assert end["response"]["content"] == deltas
    return Run(end["execution_id"], end["conversation_id"])


def _events(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((fields["event"], json.loads(fields["data"])))
    return events


# -- the two phases every client goes through -----------------------------------------------


def _setup_phase(number: int, clients: dict[str, httpx.Client], ledger: Ledger) -> None:
    """Create kept and scratch contexts in both tenants; delete half the scratch ones."""
    for key, client in clients.items():
        ledger.kept[key] = [_create(client, ledger, f"{number} kept {k}") for k in range(KEPT)]
        scratch = [_create(client, ledger, f"{number} scratch {k}") for k in range(SCRATCH)]
        for context_id in scratch[::2]:
            _delete(client, ledger, key, context_id)
        for context_id in scratch[1::2]:
            _ok(client.patch(f"{COLLECTION}/{context_id}", json={"status": "inactive"}))
            _delete(client, ledger, key, context_id)
        _ok(client.get(COLLECTION, params={"limit": 5, "status": "active"}))


def _work_phase(
    number: int, clients: dict[str, httpx.Client], ledger: Ledger, neighbour_kept: list[str]
) -> None:
    """Own titles and executions; the neighbour's instructions; scratch churn; reads."""
    for key, client in clients.items():
        for write in range(WRITES):
            for context_id in ledger.kept[key]:
                title = f"client {number} write {write}"
                _ok(client.patch(f"{COLLECTION}/{context_id}", json={"title": title}))
                ledger.titles[context_id] = title
            for context_id in neighbour_kept if key == SHARED else []:
                text = f"from client {number}, write {write}"
                body = {"system_instructions": text}
                _ok(client.patch(f"{COLLECTION}/{context_id}", json=body))
                ledger.instructions[context_id] = text
            scratch = _create(client, ledger, f"{number} late scratch {write}")
            _delete(client, ledger, key, scratch)
        for context_id in ledger.kept[key]:
            runs = ledger.executions.setdefault(context_id, [])
            runs += [_execute(client, context_id, turn) for turn in range(EXECUTIONS)]
        _ok(client.get(COLLECTION, params={"limit": 7, "offset": 3}))


def _run_clients(live: Served) -> list[Ledger]:
    ledgers = [Ledger() for _ in range(CLIENTS)]
    setup_done = threading.Barrier(CLIENTS)

    def client_run(number: int) -> None:
        keys = (SHARED, private_key(number))
        clients = {key: live.client(key) for key in keys}
        try:
            _setup_phase(number, clients, ledgers[number])
            setup_done.wait(timeout=60)
            neighbour = ledgers[(number - 1) % CLIENTS].kept[SHARED]
            _work_phase(number, clients, ledgers[number], neighbour)
        finally:
            for client in clients.values():
                client.close()

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        for outcome in [pool.submit(client_run, number) for number in range(CLIENTS)]:
            outcome.result(timeout=120)
    return ledgers


# -- the invariants -------------------------------------------------------------------------


def test_many_clients_at_once_lose_nothing_and_leak_nothing(live: Served) -> None:
    ledgers = _run_clients(live)
    every_id = [context_id for ledger in ledgers for context_id in ledger.created]
    assert len(every_id) == len(set(every_id)), "an id was handed out twice"
    expected = _expected_contexts(ledgers)
    for key, kept in expected.items():
        with live.client(key) as client:
            state = tenant_state(client)
        contexts = {c["id"]: c for c in state["contexts"]}
        assert sorted(contexts) == sorted(kept), f"{key} holds other contexts than it kept"
        _assert_listed_in_order(state["contexts"])
        for context_id in kept:
            _assert_context(contexts[context_id], state["history"][context_id], ledgers)
        _assert_gone(live, key, [i for ledger in ledgers for i in ledger.deleted.get(key, [])])
    assert live.server_errors() == []


def _assert_gone(live: Served, key: str, deleted: list[str]) -> None:
    with live.client(key) as client:
        for context_id in deleted:
            assert client.get(f"{COLLECTION}/{context_id}").status_code == 404
            assert client.get(f"{COLLECTION}/{context_id}/messages").status_code == 404


def _expected_contexts(ledgers: list[Ledger]) -> dict[str, list[str]]:
    expected: dict[str, list[str]] = {}
    for ledger in ledgers:
        for key, kept in ledger.kept.items():
            expected.setdefault(key, []).extend(kept)
    return expected


def _assert_listed_in_order(contexts: list[dict[str, Any]]) -> None:
    keys = [(c["last_activity_at"], int(c["id"])) for c in contexts]
    assert keys == sorted(keys, reverse=True), "the list is not newest activity first"


def _assert_context(
    context: dict[str, Any], history: list[dict[str, Any]], ledgers: list[Ledger]
) -> None:
    context_id = context["id"]
    assert context["title"] == _last(ledgers, lambda ledger: ledger.titles, context_id)
    wrote: list[str | None] = [
        ledger.instructions[context_id] for ledger in ledgers if context_id in ledger.instructions
    ]
    assert [context["system_instructions"]] == (wrote or [None]), "an update was lost"
    runs = _last(ledgers, lambda ledger: ledger.executions, context_id)
    _assert_history(history, [run.execution_id for run in runs])
    state = context["execution_state"]
    assert (state["execution_id"], state["status"]) == (runs[-1].execution_id, "completed")
    assert {run.conversation_id for run in runs} == {state["conversation_id"]}


def _last(ledgers: list[Ledger], table: Callable[[Ledger], dict[str, Any]], key: str) -> Any:
    (value,) = [table(ledger)[key] for ledger in ledgers if key in table(ledger)]
    return value


def _assert_history(history: list[dict[str, Any]], runs: list[str]) -> None:
    """A user turn then the agent's answer per execution, in the order the client ran them."""
    assert [turn["role"] for turn in history] == ["user", "assistant"] * len(runs)
    assert [turn["execution_id"] for turn in history] == [r for r in runs for _ in range(2)]
    times = [turn["created_at"] for turn in history]
    assert times == sorted(times), "turns are not oldest first"


def test_one_context_executed_by_many_clients_keeps_one_conversation(live: Served) -> None:
    with live.client(SHARED) as client:
        context_id = client.post(COLLECTION, json={"title": "Busy"}).json()["id"]

    def run(number: int) -> list[Run]:
        with live.client(SHARED) as own:
            return [_execute(own, context_id, number + turn) for turn in range(4)]

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        runs = list(pool.map(run, range(CLIENTS)))
    with live.client(SHARED) as client:
        history = walk(client, f"{COLLECTION}/{context_id}/messages")
        state = client.get(f"{COLLECTION}/{context_id}").json()["execution_state"]
    executed = [turn["execution_id"] for turn in history[::2]]
    assert [turn["role"] for turn in history] == ["user", "assistant"] * len(executed)
    every_run = [run for client_runs in runs for run in client_runs]
    assert sorted(executed) == sorted(run.execution_id for run in every_run)
    for client_runs in runs:  # each client's executions appear in the order it ran them
        own = [run.execution_id for run in client_runs]
        assert [e for e in executed if e in own] == own
    assert state["execution_id"] == executed[-1]
    assert {run.conversation_id for run in every_run} == {state["conversation_id"]}
    assert live.server_errors() == []


def test_turn_ids_sort_in_conversation_order(live: Served) -> None:
    """Ids are snowflakes, which sort in creation order: sorting turns by id keeps the dialogue."""
    with live.client(SHARED) as client:
        context_id = client.post(COLLECTION, json={"title": "Ordered"}).json()["id"]
        for turn in range(3):
            _execute(client, context_id, turn)
        history = walk(client, f"{COLLECTION}/{context_id}/messages")
    by_id = sorted(history, key=lambda turn: int(turn["id"]))
    assert [t["role"] for t in by_id] == [t["role"] for t in history] == ["user", "assistant"] * 3
