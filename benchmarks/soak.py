"""A soak of `wacht-mock serve`: one conversation growing for minutes; RSS and latency over time.

    python benchmarks/soak.py                   # ten minutes, a row every 30 s
    python benchmarks/soak.py --seconds 180 --every 15

The server runs in its own process (its RSS is read from ``/proc``, Linux only). Four clients
execute in one context, so its conversation grows by two turns an execution; at ``--turns``
(default 4,000) it is deleted and the next long chat starts, so RSS can only stay flat if a
deleted conversation is freed. One request in ten is a list with 8 kB of headers and a 4 kB
query string (the journal's byte bound), one in fifty creates, executes in and deletes a context
of its own. Each row: time, the current chat's turns, the server's RSS, execute p50 and p99 in
that interval. Not part of the test suite; the gate runs a short version
(``tests/reliability/test_memory.py``).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

KEY = "wk_test_soak"
COLLECTION = "/ai/execution-contexts"
CLIENTS = 4
BIG_HEADER = "x" * 8192
BIG_QUERY = "q=" + "y" * 4096


@dataclass
class Interval:
    """What the clients saw since the last row."""

    executes: list[float] = field(default_factory=list)
    requests: int = 0
    errors: int = 0


class Load:
    """The clients' shared tally; ``take`` hands over the interval and starts a new one."""

    def __init__(self, context: str, limit: int) -> None:
        self._lock = threading.Lock()
        self._now = Interval()
        self.context = context
        self.turns = 0
        self.chats = 1
        self._limit = limit

    def executed(self, seconds: float) -> bool:
        """Count an execution in the chat; True (for one client) when the chat is long enough."""
        with self._lock:
            self._now.executes.append(seconds)
            self._now.requests += 1
            self.turns += 2  # the message and the reply
            if self.turns < self._limit:
                return False
            self.turns = -(10**9)  # until the next chat starts, nobody else rotates
            return True

    def next_chat(self, context: str) -> None:
        with self._lock:
            self.context, self.turns = context, 0
            self.chats += 1

    def other(self, ok: bool) -> None:
        with self._lock:
            self._now.requests += 1
            self._now.errors += not ok

    def take(self) -> Interval:
        with self._lock:
            taken, self._now = self._now, Interval()
            return taken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="how long (default 600)")
    parser.add_argument("--every", type=float, default=30.0, help="seconds a row (default 30)")
    parser.add_argument("--turns", type=int, default=4000, help="a chat's length (default 4000)")
    args = parser.parse_args(argv)
    server, url = _serve()
    try:
        return _soak(server.pid, url, args)
    finally:
        server.terminate()
        server.wait(10)


def _serve() -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "wacht_mock", "serve", "--port", "0", "--seed", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()
    found = re.search(r"http://\S+", line)
    if found is None:
        server.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return server, found.group(0)


def _soak(pid: int, url: str, args: argparse.Namespace) -> int:
    seconds, every = args.seconds, args.every
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=url, headers=headers) as client:
        load, stop = Load(_new_chat(client), args.turns), threading.Event()
    threads = [
        threading.Thread(target=_client, args=(url, headers, load, stop, n)) for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    rows: list[tuple[float, int, float, float, float]] = []
    started = time.monotonic()
    print("| time | chat, turns | server RSS | execute p50 | execute p99 | requests |")
    print("|---:|---:|---:|---:|---:|---:|")
    try:
        while (elapsed := time.monotonic() - started) < seconds:
            time.sleep(min(every, seconds - elapsed))
            interval = load.take()
            p50, p99 = _percentiles(interval.executes)
            row = (time.monotonic() - started, max(0, load.turns), _rss_mib(pid), p50, p99)
            rows.append(row)
            print(
                f"| {row[0]:.0f} s | #{load.chats}, {row[1]:,} | {row[2]:.1f} MiB "
                f"| {p50 * 1e3:.2f} ms "
                f"| {p99 * 1e3:.2f} ms | {interval.requests:,} ({interval.errors} errors) |",
                flush=True,
            )
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    _summary(rows, load.chats)
    return 0


def _new_chat(client: httpx.Client) -> str:
    context: str = client.post(COLLECTION, json={"title": "The long chat"}).json()["id"]
    return context


def _client(url: str, headers: dict[str, str], load: Load, stop: threading.Event, n: int) -> None:
    body: dict[str, object] = {
        "agent_name": "support-bot",
        "execution_type": {"new_message": {"message": "Hi"}},
    }
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        count = 0
        while not stop.is_set():
            count += 1
            if count % 10 == n % 10:
                response = client.get(
                    f"{COLLECTION}?{BIG_QUERY}", headers={"X-Padding": BIG_HEADER}
                )
                load.other(response.status_code < 500)
            elif count % 50 == 25:
                load.other(_short_life(client, body))
            else:
                context = load.context
                began = time.perf_counter()
                response = client.post(f"{COLLECTION}/{context}/execute", json=body)
                took = time.perf_counter() - began
                if response.status_code != 200:
                    load.other(response.status_code == 404)  # the chat was just deleted
                    continue
                if load.executed(took):
                    load.next_chat(_new_chat(client))
                    load.other(client.delete(f"{COLLECTION}/{context}").status_code == 204)


def _short_life(client: httpx.Client, body: dict[str, object]) -> bool:
    created = client.post(COLLECTION, json={"title": "Short"})
    url = f"{COLLECTION}/{created.json()['id']}"
    executed = client.post(f"{url}/execute", json=body)
    return executed.status_code == 200 and client.delete(url).status_code == 204


def _percentiles(samples: list[float]) -> tuple[float, float]:
    if len(samples) < 2:
        return float("nan"), float("nan")
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98]


def _rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else float("nan")


def _summary(rows: list[tuple[float, int, float, float, float]], chats: int) -> None:
    if len(rows) < 3:
        return
    settled = rows[1:]  # the first interval includes the start-up and the first caches
    low, high = min(r[2] for r in settled), max(r[2] for r in settled)
    ratios = [r[4] / r[3] for r in rows if r[3] == r[3] and r[3] > 0]
    print(
        f"\nRSS after the first interval: {low:.1f} to {high:.1f} MiB "
        f"(±{(high - low) / (high + low) * 100:.1f}% around the middle); "
        f"{chats} chats of up to {max(r[1] for r in rows):,} turns; execute p99/p50 per interval: "
        f"{min(ratios):.1f}x to {max(ratios):.1f}x"
    )


if __name__ == "__main__":
    raise SystemExit(main())
