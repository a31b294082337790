"""What a test pays for the mock: server start and stop, per-test reset, the pytest fixture.

* start/stop: :class:`~wacht_mock.core.server.ServerThread` against a stock ``uvicorn.Server``
  run in a
  thread the usual way (wait for ``started``, stop with ``should_exit``), on the same app.
* reset: :meth:`WachtMock.reset` after what a typical test leaves behind, against building a
  fresh :class:`WachtMock` (the other way to get a clean state).
* the fixture: a generated pytest run of tests that use ``wacht_mock`` against the same tests
  without it (see :func:`fixture_overhead`).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import uvicorn
from baseline import SUPPORT, bare_app, capture, execute_body
from harness import AUTH, Budget, Row, compare, median, quiet_gc, warmup_count
from starlette.types import ASGIApp

from wacht_mock.core.server import ServerThread, uvicorn_config
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock

START_STOP_TARGET = 0.020
RESET_TARGET = 0.001
FIXTURE_TARGET = 0.001


def run(quick: bool) -> list[Row]:
    rows = _start_stop(Budget(count=10 if quick else 20, seconds=6.0, rounds=2))
    rows.append(_create_app(Budget(count=100 if quick else 400, seconds=3.0)))
    rows.append(_reset(Budget(count=200 if quick else 1000, seconds=3.0)))
    return rows


# -- start and stop -------------------------------------------------------------------------


class StockServer:
    """``uvicorn.Server`` in a daemon thread, started and stopped the documented way."""

    def __init__(self, app: ASGIApp) -> None:
        self.server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", 0))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> StockServer:
        self.thread.start()
        deadline = time.perf_counter() + 10
        while not self.server.started:
            if time.perf_counter() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.0001)
        return self

    @property
    def url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class Cycle:
    """Start a server, make one request (optionally keeping the connection), stop it; timed."""

    def __init__(self, make: type[ServerThread] | type[StockServer], keep_client: bool) -> None:
        self.make = make
        self.keep_client = keep_client
        self.app = create_app()
        self.starts: list[float] = []
        self.stops: list[float] = []

    def __call__(self) -> None:
        started = time.perf_counter()
        server = self.make(self.app).start()
        self.starts.append(time.perf_counter() - started)
        client = httpx.Client(base_url=server.url, headers=AUTH)
        client.get("/ai/execution-contexts")
        if not self.keep_client:
            client.close()
        stopping = time.perf_counter()
        server.stop()
        self.stops.append(time.perf_counter() - stopping)
        client.close()

    def drop_warmup(self, count: int) -> None:
        del self.starts[:count], self.stops[:count]


def _start_stop(budget: Budget) -> list[Row]:
    rows: list[Row] = []
    for keep_client in (False, True):
        ours, stock = Cycle(ServerThread, keep_client), Cycle(StockServer, keep_client)
        compare(ours, stock, budget)
        ours.drop_warmup(warmup_count(budget))
        stock.drop_warmup(warmup_count(budget))
        if not keep_client:
            rows.append(_fixture_row("server start", ours.starts, stock.starts))
        name = "server stop, a client still connected" if keep_client else "server stop"
        rows.append(_fixture_row(name, ours.stops, stock.stops))
    return rows


def _fixture_row(name: str, ours: list[float], stock: list[float]) -> Row:
    value = median(ours)
    return Row(
        group="fixture",
        name=name,
        value=value,
        unit="s",
        baseline_name="stock uvicorn thread",
        baseline=median(stock),
        target="≤ 20 ms",
        met=value <= START_STOP_TARGET,
        note=f"n={len(ours)}",
    )


# -- building an app, resetting a mock ------------------------------------------------------


def _create_app(budget: Budget) -> Row:
    bodies = asyncio.run(capture(create_app(), AUTH, 5))
    with quiet_gc():
        ours, bare = compare(create_app, lambda: bare_app(bodies), budget)
    return Row(
        group="fixture",
        name="create_app() (fresh mock + app)",
        value=median(ours),
        unit="s",
        baseline_name="bare Starlette app",
        baseline=median(bare),
        note=f"n={len(ours)}",
    )


def _used_mock() -> WachtMock:
    """What a typical test leaves: ten contexts, four executions, two scripts, a journal."""
    mock = WachtMock(MockConfig(seed=1))
    app = create_app(mock)

    async def use() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
            client.headers.update(AUTH)
            ids = [
                (await client.post("/ai/execution-contexts", json=SUPPORT)).json()["id"]
                for _ in range(10)
            ]
            for context_id in ids[:4]:
                url = f"/ai/execution-contexts/{context_id}/execute"
                await client.post(url, json=execute_body())

    mock.engine.agent("support-bot").when(message_contains="refund").reply("Refunds take 5 days")
    mock.engine.agent("billing-bot").reply("Your invoice is on its way")
    asyncio.run(use())
    return mock


def _reset(budget: Budget) -> Row:
    mocks = [_used_mock() for _ in range(budget.count)]
    ours: list[float] = []
    fresh: list[float] = []
    with quiet_gc():
        for mock in mocks:
            started = time.perf_counter()
            mock.reset()
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            WachtMock(MockConfig(seed=1))
            fresh.append(time.perf_counter() - started)
    value = median(ours)
    return Row(
        group="fixture",
        name="per-test reset (WachtMock.reset)",
        value=value,
        unit="s",
        baseline_name="a fresh WachtMock",
        baseline=median(fresh),
        target="≤ 1 ms",
        met=value <= RESET_TARGET,
        note=f"n={len(ours)}",
    )


# -- the pytest fixture ---------------------------------------------------------------------

TESTS_WITH = """
def test_{n}(wacht_mock) -> None:
    assert wacht_mock is not None
"""
TESTS_INPROCESS = """
def test_{n}(wacht_mock_inprocess) -> None:
    assert wacht_mock_inprocess is not None
"""
TESTS_WITHOUT = """
def test_{n}() -> None:
    assert True
"""
#: Written next to the generated tests: each test's own time (setup, call, teardown), read
#: inside pytest, so that interpreter start-up and plugin imports (the same for both) stay out.
TIMING_CONFTEST = """
import json
import os
import time

_started = {}
_took = []


def pytest_runtest_logstart(nodeid, location):
    _started[nodeid] = time.perf_counter()


def pytest_runtest_logfinish(nodeid, location):
    _took.append(time.perf_counter() - _started.pop(nodeid))


def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["WACHT_MOCK_BENCH_TIMES"], "w") as out:
        json.dump(_took, out)
"""


def fixture_overhead(quick: bool) -> list[Row]:
    """Tests that use ``wacht_mock`` (and ``wacht_mock_inprocess``) against tests that do not.

    Each set runs in its own pytest process, the sets taking turns; each test's own time is read
    inside pytest. The figure is the mean extra time a test pays for the fixture, the session's
    one-off setup included; the note splits it exactly into the tests after the first and the
    first test's extra time (the session's server start), over the count.
    """
    count = 100 if quick else 300
    repeats = 1 if quick else 5  # the session's setup (an import) differs by tens of ms a run
    templates = {"without": TESTS_WITHOUT, "socket": TESTS_WITH, "inprocess": TESTS_INPROCESS}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        dirs = {name: _write_tests(root / name, text, count) for name, text in templates.items()}
        runs: dict[str, list[list[float]]] = {name: [] for name in templates}
        for _ in range(repeats):
            for name, directory in dirs.items():
                runs[name].append(_test_times(directory))
    # The median run of each set, by its total.
    chosen = {name: sorted(found, key=sum)[len(found) // 2] for name, found in runs.items()}
    without = chosen["without"]
    socket_cost = _per_test(chosen["socket"], without)
    rows = []
    for name, label in (("socket", "wacht_mock"), ("inprocess", "wacht_mock_inprocess")):
        cost = _per_test(chosen[name], without)
        after, first = _split(chosen[name], without)
        note = (
            f"= {after * 1e3:.3f} ms a test after the first x {count - 1} + "
            f"{first * 1e3:.1f} ms once (the first test: the session's setup), over {count}; "
            f"median of {repeats} run(s)"
        )
        if name == "socket":
            rows.append(
                Row(
                    group="fixture",
                    name=f"{label} fixture, per test ({count} tests)",
                    value=cost,
                    unit="s",
                    baseline_name="a test without it",
                    baseline=sum(without) / count,
                    target="≤ 1 ms",
                    met=cost <= FIXTURE_TARGET,
                    note=note,
                )
            )
        else:
            rows.append(
                Row(
                    group="fixture",
                    name=f"{label} fixture, per test ({count} tests)",
                    value=cost,
                    unit="s",
                    baseline_name="the socket fixture",
                    baseline=socket_cost,
                    target="≤ the socket fixture",
                    met=cost <= socket_cost,
                    note=note,
                )
            )
    return rows


def _per_test(times: list[float], without: list[float]) -> float:
    """The mean extra time of a test in ``times`` over one in ``without``."""
    return (sum(times) - sum(without)) / len(times)


def _split(times: list[float], without: list[float]) -> tuple[float, float]:
    """The mean extra time of the tests after the first, and the first test's extra time."""
    after = (sum(times[1:]) - sum(without[1:])) / (len(times) - 1)
    return after, times[0] - without[0]


def _write_tests(folder: Path, template: str, count: int) -> Path:
    folder.mkdir()
    (folder / "conftest.py").write_text(TIMING_CONFTEST)
    per_file = 50
    for first in range(0, count, per_file):
        body = "".join(template.format(n=n) for n in range(first, min(count, first + per_file)))
        (folder / f"test_generated_{first // per_file}.py").write_text(body)
    return folder


def _test_times(folder: Path) -> list[float]:
    """Each test's time in one pytest run of the folder, in the order they ran."""
    times_file = folder / "times.json"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)]
    if not _plugin_registered():
        command[3:3] = ["-p", "wacht_mock.testing.plugin"]
    environment = {**os.environ, "WACHT_MOCK_BENCH_TIMES": str(times_file)}
    done = subprocess.run(
        command, cwd=folder, capture_output=True, text=True, timeout=300, env=environment
    )
    if done.returncode != 0:
        raise RuntimeError(f"the generated pytest run failed:\n{done.stdout[-2000:]}")
    times: list[float] = json.loads(times_file.read_text())
    return times


def _plugin_registered() -> bool:
    return any(
        point.value == "wacht_mock.testing.plugin" for point in entry_points(group="pytest11")
    )
