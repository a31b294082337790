"""Servers in their own processes, for load: ``wacht-mock serve``, the baselines, Prism.

Each is started in its own process group and stopped by that group, so a server that forks
(``npx`` runs ``node``) goes away whole. A server's log (its standard error: the mock's line per
request) goes to a file, as a log would, and its output is drained as it comes: a server must
never block on a full pipe, nor the benchmark spend its time reading the server's log.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from types import TracebackType

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONTRACT = ROOT / "contracts" / "wacht-api.yaml"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
URL = re.compile(r"(http://[0-9.]+:[0-9]+)")
START_SECONDS = 120.0
#: Lines of a server's output kept for an error message.
KEPT_LINES = 50


class Served:
    """A server process; ``url`` once it listens. A context manager that always stops it."""

    def __init__(self, name: str, command: list[str], port: int | None = None) -> None:
        self.name = name
        self.command = command
        self.port = port
        self.url = ""
        self.process: subprocess.Popen[str] | None = None
        self.output: deque[str] = deque(maxlen=KEPT_LINES)
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by stop())

    def __enter__(self) -> Served:
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            start_new_session=True,
        )
        try:
            self.url = self._wait_for_port() if self.port else self._read_url()
        except BaseException:
            self.stop()
            raise
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self) -> None:
        """Read the server's output to its end, keeping the last lines."""
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _read_url(self) -> str:
        """The first line that names a URL (``wacht-mock serve --port 0`` prints one)."""
        assert self.process is not None
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output.append(line)
            found = URL.search(line)
            if found:
                return found.group(1)
        said = ("".join(self.output) + self.said())[-1000:]
        raise RuntimeError(f"{self.name} did not say where it listens: {said}")

    def said(self) -> str:
        """The end of what the server logged."""
        self.log.seek(0)
        return self.log.read()[-1000:]

    def _wait_for_port(self) -> str:
        assert self.process is not None
        assert self.port is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read() if self.process.stdout else ""
                raise RuntimeError(f"{self.name} exited: {(output + self.said())[-1000:]}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return f"http://127.0.0.1:{self.port}"
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not listen within {START_SECONDS:.0f} s")

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            self.log.close()
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        self.log.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def mock_server(request_log: bool = False) -> Served:
    """``wacht-mock serve --port 0``: one process, the defaults a user gets, its line per
    request off (``--log-level warning``) as every other server's is, or on (``request_log``:
    the default, as ``wacht-mock serve`` starts)."""
    command = [sys.executable, "-m", "wacht_mock", "serve", "--port", "0"]
    if request_log:
        return Served("wacht-mock, a line per request", command)
    return Served("wacht-mock", [*command, "--log-level", "warning"])


def plain_server(on_mock_server: bool = False) -> Served:
    """The plain Starlette implementation of the same API (``plain.py``), on stock uvicorn as
    its author would run it, or on the mock's own server (``--mock-server``)."""
    command = [sys.executable, str(HERE / "plain.py"), "--port", "0"]
    if on_mock_server:
        return Served("plain Starlette on the mock's server", [*command, "--mock-server"])
    return Served("plain Starlette", command)


def canned_server(bodies: Path) -> Served:
    """Bare Starlette endpoints answering canned bodies (``baseline.py``): the floor."""
    script = str(HERE / "baseline.py")
    command = [sys.executable, script, "--port", "0", "--bodies", str(bodies)]
    return Served("canned bodies", command)


def rss_bytes(pid: int) -> int:
    """A process's resident memory now (Linux ``/proc``; 0 where there is none)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def prism_available() -> bool:
    return shutil.which("npx") is not None


def prism_server() -> Served:
    """Stoplight Prism mocking the contract (static examples, warnings-only log, like the mock)."""
    port = free_port()
    command = ["npx", "--yes", PRISM_PACKAGE, "mock", str(CONTRACT), "-p", str(port)]
    command += ["-h", "127.0.0.1", "-v", "warn"]
    return Served("Prism", command, port=port)


def prism_version() -> str:
    """The version ``npx`` runs (it was fetched when the server started)."""
    done = subprocess.run(
        ["npx", "--yes", PRISM_PACKAGE, "--version"], capture_output=True, text=True, timeout=120
    )
    return done.stdout.strip() or "(version unknown)"
