"""Latency per operation, in-process (httpx + ASGI transport) and over a loopback socket.

Each operation of the mock against bare Starlette endpoints answering canned bodies captured
from the mock (:mod:`baseline`: the floor, no work behind them), in alternating rounds.
``stream first byte`` is the time until the first event of a streamed execution arrives:
in-process it is read straight off the ASGI ``send`` (httpx's ASGI transport buffers a whole
response), over the socket off the first chunk.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
from baseline import (
    COLLECTION,
    SUPPORT,
    Bodies,
    bare_app,
    call_asgi,
    capture,
    execute_body,
)
from harness import AUTH, Budget, Row, compare, compare_async, median, quiet_gc, warmup_count
from starlette.types import ASGIApp, Message

from wacht_mock.core.server import ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig

PAGE = 20
TARGET = 1.5
OPERATIONS = ("get", "list", "create", "update", "execute", "stream first byte")


class Targets:
    """Where each operation goes: one context for get/update, a pool to spread executions.

    Executions go round a pool as large as the number of executions, so that each context has
    one plain and one streamed execution: conversations stay short, as in a typical test (what
    a long conversation costs is measured in the scale suite).
    """

    def __init__(self, context_id: str, pool: list[str]) -> None:
        self.context_url = f"{COLLECTION}/{context_id}"
        self.pool_ids = pool
        self.pool = [f"{COLLECTION}/{i}/execute" for i in pool]
        self.turn = 0

    def next_execute(self) -> str:
        self.turn += 1
        return self.pool[self.turn % len(self.pool)]


def run(quick: bool) -> list[Row]:
    budget = Budget(count=300, seconds=1.5) if quick else Budget(count=1000, seconds=2.5)
    return asyncio.run(_in_process(budget)) + _over_socket(budget)


# -- in-process -----------------------------------------------------------------------------

AsyncOp = Callable[[], Awaitable[object]]


async def _in_process(budget: Budget) -> list[Row]:
    mock_app = create_app(MockConfig(seed=1))
    bodies = await capture(mock_app, AUTH, PAGE)
    base_app = bare_app(bodies)
    async with _client(mock_app) as ours, _client(base_app) as theirs:
        targets = await _targets(ours, bodies, _pool_size(budget))
        theirs_targets = Targets(bodies.created["id"], targets.pool_ids[:1])
        rows = []
        for name in OPERATIONS:
            subject = _async_op(name, ours, mock_app, targets)
            baseline = _async_op(name, theirs, base_app, theirs_targets)
            with quiet_gc():
                mine, base = await compare_async(subject, baseline, budget)
            rows.append(_row("latency in-process", name, mine, base))
    return rows


def _client(app: ASGIApp) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://mock", headers=AUTH)


def _pool_size(budget: Budget) -> int:
    return budget.count + warmup_count(budget)


async def _targets(client: httpx.AsyncClient, bodies: Bodies, size: int) -> Targets:
    pool = [(await client.post(COLLECTION, json=SUPPORT)).json()["id"] for _ in range(size)]
    return Targets(bodies.created["id"], pool)


def _async_op(name: str, client: httpx.AsyncClient, app: ASGIApp, targets: Targets) -> AsyncOp:
    url = targets.context_url
    requests: dict[str, AsyncOp] = {
        "get": lambda: _ok(client.get(url)),
        "list": lambda: _ok(client.get(COLLECTION, params={"limit": PAGE})),
        "create": lambda: _ok(client.post(COLLECTION, json=SUPPORT)),
        "update": lambda: _ok(client.patch(url, json={"title": "Updated Support Context"})),
        "execute": lambda: _ok(client.post(targets.next_execute(), json=execute_body())),
        "stream first byte": lambda: _asgi_first_byte(app, targets.next_execute()),
    }
    return requests[name]


async def _ok(request: Awaitable[httpx.Response]) -> None:
    response = await request
    if response.status_code != 200:
        raise RuntimeError(f"unexpected {response.status_code}: {response.text[:200]}")


async def _asgi_first_byte(app: ASGIApp, path: str) -> float:
    started = time.perf_counter()
    first: float | None = None

    async def send(message: Message) -> None:
        nonlocal first
        if first is None and message["type"] == "http.response.body" and message.get("body"):
            first = time.perf_counter() - started

    body = _STREAM_BODY
    await call_asgi(app, "POST", path, AUTH, body, send)
    if first is None:
        raise RuntimeError("the stream sent no event")
    return first


_STREAM_BODY = httpx.Request("POST", "/", json=execute_body("stream")).read()


# -- over a socket --------------------------------------------------------------------------

SyncOp = Callable[[], object]


def _over_socket(budget: Budget) -> list[Row]:
    mock_app = create_app(MockConfig(seed=1))
    bodies = asyncio.run(capture(mock_app, AUTH, PAGE))
    with ServerThread(mock_app) as mine, ServerThread(bare_app(bodies)) as base:
        ours = httpx.Client(base_url=mine.url, headers=AUTH)
        theirs = httpx.Client(base_url=base.url, headers=AUTH)
        with ours, theirs:
            size = _pool_size(budget)
            pool = [ours.post(COLLECTION, json=SUPPORT).json()["id"] for _ in range(size)]
            targets = Targets(bodies.created["id"], pool)
            theirs_targets = Targets(bodies.created["id"], pool[:1])
            return [
                _socket_row(name, ours, theirs, (targets, theirs_targets), budget)
                for name in OPERATIONS
            ]


def _socket_row(
    name: str,
    ours: httpx.Client,
    theirs: httpx.Client,
    targets: tuple[Targets, Targets],
    budget: Budget,
) -> Row:
    subject, baseline = _sync_op(name, ours, targets[0]), _sync_op(name, theirs, targets[1])
    with quiet_gc():
        mine, base = compare(subject, baseline, budget)
    return _row("latency over a socket", name, mine, base)


def _sync_op(name: str, client: httpx.Client, targets: Targets) -> SyncOp:
    url = targets.context_url
    requests: dict[str, SyncOp] = {
        "get": lambda: _check(client.get(url)),
        "list": lambda: _check(client.get(COLLECTION, params={"limit": PAGE})),
        "create": lambda: _check(client.post(COLLECTION, json=SUPPORT)),
        "update": lambda: _check(client.patch(url, json={"title": "Updated Support Context"})),
        "execute": lambda: _check(client.post(targets.next_execute(), json=execute_body())),
        "stream first byte": lambda: _socket_first_byte(client, targets.next_execute()),
    }
    return requests[name]


def _check(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"unexpected {response.status_code}: {response.text[:200]}")


def _socket_first_byte(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    with client.stream("POST", path, json=execute_body("stream")) as response:
        chunks = response.iter_raw()
        next(chunks)
        first = time.perf_counter() - started
        for _ in chunks:
            pass
    return first


def _row(group: str, name: str, mine: list[float], base: list[float]) -> Row:
    ours, theirs = median(mine), median(base)
    return Row(
        group=group,
        name=name,
        value=ours,
        unit="s",
        baseline_name="canned-body Starlette",
        baseline=theirs,
        target=f"≤ {TARGET}x baseline",
        met=ours <= TARGET * theirs,
        note=f"n={len(mine)}",
    )
