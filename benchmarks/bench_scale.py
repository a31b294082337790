"""How a page's cost and the memory grow with the tenant, and with the number of tenants.

One tenant holds 10,000 and 50,000 contexts (4 in 5 active, four context groups); each list
query is timed in-process (httpx + ASGI transport, so the figure is what a client sees) in
alternating rounds with the same query on a tenant of 100: a page should cost about the same
however large the tenant. Deep pages start 90% of the way down the (filtered) list. Then 1,000
tenants of 100 contexts each, listing one of them. Memory is what ``tracemalloc`` sees the store
take. The last rows show what an execution costs once a conversation is long.
"""

from __future__ import annotations

import asyncio
import gc
import json
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from baseline import COLLECTION, SUPPORT, execute_body
from harness import AUTH, KEY, Budget, Row, compare_async, median, quiet_gc

from wacht_mock.service.app import create_app
from wacht_mock.service.auth import deployment_id_for
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.store import NewContext, Store
from wacht_mock.service.views import context_json

GROUPS = ("support", "sales", "billing", "operations")
LIMIT = 20
FLAT = 1.5
LONG_FLAT = 1.2
LONG_TURNS = (1_000, 5_000)
REFERENCE = 100
FILTER = {"status": "active", "context_group": "support"}


@dataclass(frozen=True)
class Query:
    name: str
    params: dict[str, Any]
    matching: Callable[[int], int]

    def page_params(self, size: int, deep: bool) -> dict[str, Any]:
        offset = max(0, int(self.matching(size) * 0.9) - LIMIT) if deep else 0
        return {**self.params, "limit": LIMIT, "offset": offset}


QUERIES = (
    Query("unfiltered", {}, lambda size: size),
    Query("status+group filter", FILTER, lambda size: _filtered_count(size)),
)


def run(quick: bool) -> list[Row]:
    sizes = (10_000,) if quick else (10_000, 50_000)
    budget = Budget(count=200 if quick else 300, seconds=2.0)
    reference, _ = _filled(REFERENCE, tenants=1)
    rows: list[Row] = []
    for size in sizes:
        mock, memory = _filled(size, tenants=1)
        rows += asyncio.run(_list_rows(mock, reference, size, budget))
        if size == sizes[-1]:
            rows.append(_memory_row(mock, size, memory))
        del mock
        gc.collect()
    rows += _many_tenants(reference, budget)
    rows += asyncio.run(_long_conversation(Budget(count=100 if quick else 300, seconds=3.0)))
    return rows


# -- building the state ---------------------------------------------------------------------


def _status(n: int) -> str:
    return "active" if n % 5 else ("inactive", "archived")[n // 5 % 2]


def _filtered_count(size: int) -> int:
    return sum(1 for n in range(size) if _status(n) == "active" and n % len(GROUPS) == 0)


def _fill(store: Store, deployment_id: str, size: int) -> None:
    for n in range(size):
        new = NewContext(
            title=f"Context {n}",
            system_instructions=f"You are a helpful customer support assistant (desk {n}).",
            context_group=GROUPS[n % len(GROUPS)],
            status=_status(n),  # type: ignore[arg-type]
        )
        store.create(deployment_id, new)


def _filled(size: int, tenants: int) -> tuple[WachtMock, int]:
    """A mock whose first tenant is the benchmark key's; and what the contexts take (bytes)."""
    mock = WachtMock()
    deployments = [deployment_id_for(KEY)] + [str(10**15 + n) for n in range(tenants - 1)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for deployment_id in deployments:
        _fill(mock.store, deployment_id, size)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return mock, used


# -- lists ----------------------------------------------------------------------------------


async def _list_rows(mock: WachtMock, reference: WachtMock, size: int, budget: Budget) -> list[Row]:
    rows = []
    async with _client(mock) as client, _client(reference) as small:
        for query in QUERIES:
            for deep in (False, True):
                ours = _lister(client, query.page_params(size, deep))
                theirs = _lister(small, query.page_params(REFERENCE, deep))
                value, base = await _compare(ours, theirs, budget)
                page = "deep page" if deep else "first page"
                name = f"list {query.name}, {page}, {size:,} contexts"
                rows.append(_flat_row(name, value, base, f"same, {REFERENCE} contexts"))
    return rows


def _client(mock: WachtMock) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(mock))
    return httpx.AsyncClient(transport=transport, base_url="http://mock", headers=AUTH)


def _lister(client: httpx.AsyncClient, params: dict[str, Any]) -> Callable[[], Awaitable[None]]:
    async def call() -> None:
        response = await client.get(COLLECTION, params=params)
        if response.status_code != 200 or len(response.json()["data"]) != LIMIT:
            raise RuntimeError(f"unexpected list answer: {response.text[:200]}")

    return call


async def _compare(
    ours: Callable[[], Awaitable[None]], theirs: Callable[[], Awaitable[None]], budget: Budget
) -> tuple[float, float]:
    """Both queries in alternating rounds: the medians."""
    with quiet_gc():
        mine, base = await compare_async(ours, theirs, budget)
    return median(mine), median(base)


def _flat_row(name: str, value: float, base: float, base_name: str) -> Row:
    return Row(
        group="scale",
        name=name,
        value=value,
        unit="s",
        baseline_name=base_name,
        baseline=base,
        target=f"≤ {FLAT}x (near-flat)",
        met=value <= FLAT * base,
    )


def _many_tenants(reference: WachtMock, budget: Budget) -> list[Row]:
    mock, memory = _filled(REFERENCE, tenants=1000)
    params = QUERIES[0].page_params(REFERENCE, deep=False)
    value, base = asyncio.run(_list_in(mock, reference, params, budget))
    name = f"list unfiltered, first page, 1 of 1,000 tenants x {REFERENCE} contexts"
    rows = [_flat_row(name, value, base, f"one tenant of {REFERENCE}")]
    rows.append(_memory_row(mock, REFERENCE * 1000, memory, "1,000 tenants x 100 contexts"))
    return rows


async def _list_in(
    mock: WachtMock, reference: WachtMock, params: dict[str, Any], budget: Budget
) -> tuple[float, float]:
    async with _client(mock) as client, _client(reference) as small:
        return await _compare(_lister(client, params), _lister(small, params), budget)


# -- memory ---------------------------------------------------------------------------------


def _memory_row(mock: WachtMock, count: int, used: int, where: str = "") -> Row:
    sample = next(mock.store.contexts(deployment_id_for(KEY)))
    wire = len(json.dumps(context_json(sample)).encode())
    where = where or f"{count:,} contexts in one tenant"
    return Row(
        group="scale",
        name=f"memory per context ({where}; {used / 2**20:,.0f} MiB in all)",
        value=used / count,
        unit="B",
        baseline_name="its JSON on the wire",
        baseline=wire,
        note="tracemalloc: contexts and their sorted indexes",
    )


# -- long conversations ---------------------------------------------------------------------


async def _long_conversation(budget: Budget) -> list[Row]:
    """An execution in a context that already has 1,000 (then 5,000) turns, against one in a
    fresh context; and what the mock holds once it is that long (the call log included)."""
    rows: list[Row] = []
    for turns in LONG_TURNS:
        gc.collect()
        tracemalloc.start()
        mock = WachtMock()
        async with _client(mock) as client:
            fresh = await _contexts(client, budget.count + 20)
            long_one = (await _contexts(client, 1))[0]
            for _ in range(turns // 2):  # two turns each
                await client.post(f"{COLLECTION}/{long_one}/execute", json=execute_body())
            gc.collect()
            held = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            rows += await _long_rows(client, fresh, long_one, turns, budget, held)
        del mock
    return rows


async def _long_rows(
    client: httpx.AsyncClient,
    fresh: list[str],
    long_one: str,
    turns: int,
    budget: Budget,
    held: int,
) -> list[Row]:
    ids = iter(fresh)

    async def in_fresh() -> None:
        await client.post(f"{COLLECTION}/{next(ids)}/execute", json=execute_body())

    async def in_long() -> None:
        await client.post(f"{COLLECTION}/{long_one}/execute", json=execute_body())

    with quiet_gc():
        longs, shorts = await compare_async(in_long, in_fresh, budget)
    long, short = median(longs), median(shorts)
    return [
        Row(
            group="scale",
            name=f"execute in a context with {turns:,}+ turns",
            value=long,
            unit="s",
            baseline_name="in a fresh context",
            baseline=short,
            target=f"≤ {LONG_FLAT}x (flat)",
            met=long <= LONG_FLAT * short,
        ),
        Row(
            group="scale",
            name=f"memory held after {turns:,} turns in one context (call log included)",
            value=held / turns,
            unit="B",
            baseline_name="per turn",
            note=f"tracemalloc: {held / 2**20:,.1f} MiB in all",
        ),
    ]


async def _contexts(client: httpx.AsyncClient, count: int) -> list[str]:
    return [(await client.post(COLLECTION, json=SUPPORT)).json()["id"] for _ in range(count)]
