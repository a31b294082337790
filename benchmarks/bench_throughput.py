"""Throughput of ``wacht-mock serve`` under load on loopback, against the baselines and Prism.

The load generator is ``wrk`` (one thread, a few keep-alive connections, a Lua script for the
method, headers and body): it costs far less per request than any Python client, so the server
is what saturates. Each server runs in its own process, with the same uvicorn settings where it
is Python:

* the mock, as ``wacht-mock serve --port 0 --log-level warning`` (what a user gets, without
  the line per request that no other server here writes);
* **the baseline**: ``plain.py``, a plain Starlette implementation of the same API doing the
  same work (auth, strict parsing and validation, an in-memory store, JSON), on stock uvicorn
  (httptools and uvloop) as its author would run it, its access log off;
* the same plain app on the mock's own server (uvicorn with the mock's request deadlines and
  one write per response): what is left between it and the mock is the apps' own work;
* ``baseline.py``, bare endpoints answering canned bodies: the floor, labelled as such;
* Stoplight Prism mocking the contract (``-v warn``: no line per request either), when
  ``npx`` can fetch it;
* the mock as ``wacht-mock serve`` starts, a line per request on its standard error (to a
  file): its own row says what that line costs.

All are up at once and loaded one at a time in alternating rounds, five of two seconds (each
figure is its median over them), so that a busy moment of the machine does not land on one
server only, and one bad round of the five decides nothing.
Executions go round a pool of contexts, so that no conversation grows long during a run. Each
operation gets a warm-up per server first, not counted (Prism runs on a JIT that needs it).
After the load, the mock's resident memory is read from ``/proc``.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import statistics
import subprocess
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
from baseline import COLLECTION, SUPPORT, capture, execute_body
from harness import AUTH, KEY, NOTES, Row
from servers import (
    Served,
    canned_server,
    mock_server,
    plain_server,
    prism_available,
    prism_server,
    prism_version,
    rss_bytes,
)

from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig

OPERATIONS = ("list", "get", "create", "execute")
PAGE = 20
POOL = 2000
CONNECTIONS = 8
WARM_UP_SECONDS = {"prism": 2}
WARM_UP_DEFAULT = 1
#: The goals: ahead of the plain implementation, well ahead of Prism.
GOALS = {"plain": 1.0, "prism": 1.5}
NAMES = {
    "plain": "plain Starlette",
    "plain-own": "plain Starlette on the mock's server",
    "canned": "canned bodies",
    "prism": "Prism",
    "mock-logged": "a line per request",
}
TAIL_GOAL = 3.0
PRISM = "`npx @stoplight/prism-cli@5 mock contracts/wacht-api.yaml -v warn` (warnings-only log)"


@dataclass(frozen=True)
class Load:
    """One wrk run's outcome."""

    requests_per_second: float
    median_latency: float
    p99_latency: float
    bad_responses: int
    #: Each round's p99, when this is the rounds' medians.
    p99_rounds: tuple[float, ...] = ()


def run(quick: bool) -> list[Row]:
    if shutil.which("wrk") is None:
        NOTES.append("throughput: skipped, no `wrk` on PATH (Debian: apt-get install wrk)")
        return []
    rounds, seconds = (1, 2) if quick else (5, 2)
    with tempfile.TemporaryDirectory() as folder:
        return _measure(Path(folder), rounds, seconds)


def _measure(folder: Path, rounds: int, seconds: int) -> list[Row]:
    bodies_file = folder / "bodies.json"
    asyncio.run(capture(create_app(MockConfig(seed=1)), AUTH, PAGE)).save(bodies_file)
    with ExitStack() as stack:
        servers = {
            "mock": stack.enter_context(mock_server()),
            "mock-logged": stack.enter_context(mock_server(request_log=True)),
            "plain": stack.enter_context(plain_server()),
            "plain-own": stack.enter_context(plain_server(on_mock_server=True)),
            "canned": stack.enter_context(canned_server(bodies_file)),
        }
        if prism_available():
            try:
                servers["prism"] = stack.enter_context(prism_server())
                NOTES.append(f"throughput: Prism {prism_version()}, run as users run it: {PRISM}")
            except RuntimeError as exc:
                NOTES.append(f"throughput: Prism skipped, it did not start ({exc})")
        else:
            NOTES.append("throughput: Prism skipped, no `npx` on PATH (npm is needed to fetch it)")
        ids = {name: [str(10**17 + n) for n in range(POOL)] for name in servers}
        for name in ("mock", "mock-logged", "plain", "plain-own"):
            ids[name] = prepare(servers[name].url)
        results = {op: _load_op(op, servers, ids, folder, rounds, seconds) for op in OPERATIONS}
        process = servers["mock"].process
        rss = rss_bytes(process.pid) if process is not None else 0
    rows = [row for op in OPERATIONS for row in _rows(op, results[op])]
    rows += _tail_rows(results)
    if rss:
        rows.append(
            Row(
                group="throughput",
                name="the mock's resident memory after the load",
                value=rss / 2**20,
                unit="MiB",
                note=f"{POOL} contexts, every operation above; /proc/PID/status VmRSS",
            )
        )
    return rows


def _load_op(
    op: str,
    servers: dict[str, Served],
    ids: dict[str, list[str]],
    folder: Path,
    rounds: int,
    seconds: int,
) -> dict[str, Load]:
    """Every server under ``op``: a warm-up each, then rounds in turn; each figure's median
    over them."""
    scripts = {}
    for name, server in servers.items():
        scripts[name] = folder / f"{op}-{name}.lua"
        scripts[name].write_text(lua_script(op, ids[name]))
        run_wrk(server.url, scripts[name], WARM_UP_SECONDS.get(name, WARM_UP_DEFAULT))
    loads: dict[str, list[Load]] = {name: [] for name in servers}
    for _ in range(rounds):
        for name, server in servers.items():
            loads[name].append(run_wrk(server.url, scripts[name], seconds))
    return {name: _median_load(runs) for name, runs in loads.items()}


def _median_load(runs: list[Load]) -> Load:
    """Each figure's median over the rounds; the non-2xx answers of them all. (A round is two
    seconds: one pause of the server, or of the machine, is enough to set its p99.)"""
    return Load(
        statistics.median(load.requests_per_second for load in runs),
        statistics.median(load.median_latency for load in runs),
        statistics.median(load.p99_latency for load in runs),
        sum(load.bad_responses for load in runs),
        tuple(load.p99_latency for load in runs),
    )


def prepare(url: str) -> list[str]:
    """A page's worth of contexts to list, and a pool to execute in; their ids."""
    with httpx.Client(base_url=url, headers=AUTH) as client:
        return [client.post(COLLECTION, json=SUPPORT).json()["id"] for _ in range(POOL)]


def lua_script(op: str, ids: list[str]) -> str:
    """A wrk script that sends ``op`` (executions round the pool of ``ids``)."""
    if op == "list":
        paths, method, body = [f"{COLLECTION}?limit={PAGE}"], "GET", None
    elif op == "get":
        paths, method, body = [f"{COLLECTION}/{context_id}" for context_id in ids], "GET", None
    elif op == "create":
        paths, method, body = [COLLECTION], "POST", SUPPORT
    else:
        paths = [f"{COLLECTION}/{context_id}/execute" for context_id in ids]
        method, body = "POST", execute_body()
    lua_body = "nil" if body is None else _lua_string(json.dumps(body))
    lua_paths = ", ".join(_lua_string(path) for path in paths)
    return f"""
wrk.headers["Authorization"] = {_lua_string("Bearer " + KEY)}
wrk.headers["Content-Type"] = "application/json"
local paths = {{{lua_paths}}}
local body = {lua_body}
local turn = 0
request = function()
  turn = turn + 1
  return wrk.format({_lua_string(method)}, paths[(turn % #paths) + 1], nil, body)
end
"""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(url: str, script: Path, seconds: int) -> Load:
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(script)]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    return _parse(done.stdout)


def _parse(output: str) -> Load:
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    median = _percentile(output, "50%")
    p99 = _percentile(output, "99%")
    bad = re.search(r"Non-2xx or 3xx responses:\s+([0-9]+)", output)
    errors = re.search(r"Socket errors:.*", output)
    if rate is None or median is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    bad_count = int(bad.group(1)) if bad else 0
    if errors:
        NOTES.append(f"throughput: wrk reported {errors.group(0).strip()}")
    return Load(float(rate.group(1)), median, p99, bad_count)


def _percentile(output: str, label: str) -> float | None:
    found = re.search(rf"^\s+{label}\s+([0-9.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if found is None:
        return None
    return float(found.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[found.group(2)]


def _rows(op: str, results: dict[str, Load]) -> list[Row]:
    mine = results["mock"]
    return [_row(op, mine, name, results[name]) for name in NAMES if name in results]


def _row(op: str, mine: Load, name: str, theirs: Load) -> Row:
    if name == "mock-logged":
        return _log_row(op, mine, theirs)
    ratio = mine.requests_per_second / theirs.requests_per_second
    goal = GOALS.get(name)
    note = f"p50 {_ms(mine.median_latency)} vs {_ms(theirs.median_latency)}"
    if name == "plain-own":
        note += "; the same server: the difference is the apps' own work"
    if name in ("plain", "plain-own"):
        own = 1 / mine.requests_per_second - 1 / theirs.requests_per_second
        note += f"; {own * 1e6:+.0f} µs a request against the plain server"
    if name == "canned":
        note += "; the floor: fixed bytes, no auth, parsing, validation or store"
    if name == "prism" and op == "list":
        note += f"; Prism answers its 1-item example, the mock a page of {PAGE}"
    if mine.bad_responses or theirs.bad_responses:
        note += f"; non-2xx {mine.bad_responses} vs {theirs.bad_responses}"
    return Row(
        group="throughput",
        name=f"{op} vs {NAMES[name]}",
        value=mine.requests_per_second,
        unit="req/s",
        baseline_name=NAMES[name],
        baseline=theirs.requests_per_second,
        target=f"≥ {goal:g}x" if goal else "-",
        met=ratio >= goal if goal else None,
        note=note,
        higher_is_better=True,
    )


def _log_row(op: str, mine: Load, logged: Load) -> Row:
    """The mock as it starts (a line per request) against the mock without: the line's cost."""
    cost = 1 / logged.requests_per_second - 1 / mine.requests_per_second
    return Row(
        group="throughput",
        name=f"{op}, `wacht-mock serve` as it starts (a line per request)",
        value=logged.requests_per_second,
        unit="req/s",
        baseline_name="without the line",
        baseline=mine.requests_per_second,
        target="-",
        met=None,
        note=f"{cost * 1e6:+.0f} µs a request for the line; p50 {_ms(logged.median_latency)}",
        higher_is_better=True,
    )


def _tail_rows(results: dict[str, dict[str, Load]]) -> list[Row]:
    rows = []
    for op in OPERATIONS:
        mine, plain = results[op]["mock"], results[op]["plain"]
        rows.append(
            Row(
                group="throughput",
                name=f"{op} p99 latency under load",
                value=mine.p99_latency,
                unit="s",
                baseline_name="its p50",
                baseline=mine.median_latency,
                target=f"≤ {TAIL_GOAL:g}x p50",
                met=mine.p99_latency <= TAIL_GOAL * mine.median_latency,
                note=f"p50 {_ms(mine.median_latency)}; the rounds' p99s "
                f"{', '.join(f'{p99 * 1e3:.2f}' for p99 in mine.p99_rounds)} ms; plain "
                f"Starlette p99 {_ms(plain.p99_latency)}, p50 {_ms(plain.median_latency)}; "
                f"wrk -c{CONNECTIONS}, medians of {len(mine.p99_rounds)} rounds",
            )
        )
    return rows


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"
