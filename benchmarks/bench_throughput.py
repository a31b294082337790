"""Throughput of ``wacht-mock serve`` under load on loopback, against the baseline and Prism.

The load generator is ``wrk`` (one thread, a few keep-alive connections, a Lua script for the
method, headers and body): it costs far less per request than any Python client, so the server
is what saturates. Each server runs in its own process: the mock as ``wacht-mock serve --port
0``, the bare Starlette baseline served the same way (same uvicorn settings, one process), and
Stoplight Prism mocking the contract when ``npx`` is available. All three are up at once, and
loaded one at a time in alternating rounds (the median round counts), so that a busy moment of
the machine does not land on one server only.

Executions go round a pool of contexts, so that no conversation grows long during a run. Each
operation gets two seconds of load per server first, not counted: Prism runs on a JIT that
needs warming, and every server gets the same.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
from baseline import COLLECTION, SUPPORT, capture, execute_body
from harness import AUTH, KEY, NOTES, Row
from servers import Served, baseline_server, mock_server, prism_available, prism_server

from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig

OPERATIONS = ("list", "create", "execute")
PAGE = 20
POOL = 2000
CONNECTIONS = 8
WARM_UP_SECONDS = 2
CLOSE_TO_BASELINE = 1 / 1.5


@dataclass(frozen=True)
class Load:
    """One wrk run's outcome."""

    requests_per_second: float
    median_latency: float
    bad_responses: int


def run(quick: bool) -> list[Row]:
    if shutil.which("wrk") is None:
        NOTES.append("throughput: skipped, no `wrk` on PATH (Debian: apt-get install wrk)")
        return []
    rounds, seconds = (1, 3) if quick else (3, 3)
    with tempfile.TemporaryDirectory() as folder:
        return _measure(Path(folder), rounds, seconds)


def _measure(folder: Path, rounds: int, seconds: int) -> list[Row]:
    bodies_file = folder / "bodies.json"
    asyncio.run(capture(create_app(MockConfig(seed=1)), AUTH, PAGE)).save(bodies_file)
    with ExitStack() as stack:
        servers = {
            "mock": stack.enter_context(mock_server()),
            "baseline": stack.enter_context(baseline_server(bodies_file)),
        }
        if prism_available():
            servers["prism"] = stack.enter_context(prism_server())
        else:
            NOTES.append("throughput: Prism skipped, no `npx` on PATH (npm is needed to fetch it)")
        ids = {name: [str(10**17 + n) for n in range(POOL)] for name in servers}
        ids["mock"] = prepare(servers["mock"].url)
        results = {op: _load_op(op, servers, ids, folder, rounds, seconds) for op in OPERATIONS}
    return [row for op in OPERATIONS for row in _rows(op, results[op])]


def _load_op(
    op: str,
    servers: dict[str, Served],
    ids: dict[str, list[str]],
    folder: Path,
    rounds: int,
    seconds: int,
) -> dict[str, Load]:
    """Every server under ``op``: a warm-up each, then rounds in turn; each one's median round."""
    scripts = {}
    for name, server in servers.items():
        scripts[name] = folder / f"{op}-{name}.lua"
        scripts[name].write_text(lua_script(op, ids[name]))
        run_wrk(server.url, scripts[name], WARM_UP_SECONDS)  # Prism's JIT needs it; fair to all
    loads: dict[str, list[Load]] = {name: [] for name in servers}
    for _ in range(rounds):
        for name, server in servers.items():
            loads[name].append(run_wrk(server.url, scripts[name], seconds))
    return {name: _median_load(runs) for name, runs in loads.items()}


def _median_load(runs: list[Load]) -> Load:
    ordered = sorted(runs, key=lambda load: load.requests_per_second)
    return ordered[len(ordered) // 2]


def prepare(url: str) -> list[str]:
    """A page's worth of contexts to list, and a pool to execute in; their ids."""
    with httpx.Client(base_url=url, headers=AUTH) as client:
        return [client.post(COLLECTION, json=SUPPORT).json()["id"] for _ in range(POOL)]


def lua_script(op: str, ids: list[str]) -> str:
    """A wrk script that sends ``op`` (executions round the pool of ``ids``)."""
    if op == "list":
        paths, method, body = [f"{COLLECTION}?limit={PAGE}"], "GET", None
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
    latency = re.search(r"^\s+50%\s+([0-9.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    bad = re.search(r"Non-2xx or 3xx responses:\s+([0-9]+)", output)
    errors = re.search(r"Socket errors:.*", output)
    if rate is None or latency is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}[latency.group(2)]
    bad_count = int(bad.group(1)) if bad else 0
    if errors:
        NOTES.append(f"throughput: wrk reported {errors.group(0).strip()}")
    return Load(float(rate.group(1)), float(latency.group(1)) * scale, bad_count)


def _rows(op: str, results: dict[str, Load]) -> list[Row]:
    mine = results["mock"]
    rows = [_row(op, mine, "bare Starlette", results["baseline"], "≥ 0.67x baseline (close)")]
    if "prism" in results:
        rows.append(_row(op, mine, "Prism", results["prism"], "> 1x Prism (ahead)"))
    return rows


def _row(op: str, mine: Load, name: str, theirs: Load, target: str) -> Row:
    ratio = mine.requests_per_second / theirs.requests_per_second
    floor = CLOSE_TO_BASELINE if name == "bare Starlette" else 1.0
    note = f"p50 {mine.median_latency * 1e3:.2f} ms vs {theirs.median_latency * 1e3:.2f} ms"
    if name == "bare Starlette":
        own = 1 / mine.requests_per_second - 1 / theirs.requests_per_second
        note += f"; the mock's own work {own * 1e6:.0f} µs a request"
    if mine.bad_responses or theirs.bad_responses:
        note += f"; non-2xx {mine.bad_responses} vs {theirs.bad_responses}"
    return Row(
        group="throughput",
        name=f"{op} vs {name}",
        value=mine.requests_per_second,
        unit="req/s",
        baseline_name=name,
        baseline=theirs.requests_per_second,
        target=target,
        met=ratio >= floor if name == "bare Starlette" else ratio > floor,
        note=note,
        higher_is_better=True,
    )
