"""What many tests need: the test keys and their Authorization header, the control token,
stream pacing, the mock's JSON, a `wacht-mock` command in a process of its own and the URL its
startup line names, files saved as editors save them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

KEY = "wk_test_alpha"
OTHER_KEY = "wk_test_beta"
#: The control API's token where a test turns it on, and the header that carries it.
CONTROL_TOKEN = "s3cret"
TOKEN = {"X-Wacht-Mock-Token": CONTROL_TOKEN}


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def pacing_error(arrivals: list[float], planned: list[float]) -> float:
    """How far the events came from their planned offsets, the start allowed 30 ms more."""
    start = max(0.0, abs(arrivals[0] - planned[0]) - 0.03)
    moved = [(a - arrivals[0]) - (p - planned[0]) for a, p in zip(arrivals, planned, strict=True)]
    return max(start, *map(abs, moved))


def compact_json(data: object) -> bytes:
    """JSON as the mock writes every body and event: compact, Unicode as is."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


#: The URL in the startup line of `wacht-mock serve` and `wacht-mock proxy`.
LISTENING = re.compile(r"listening on (http://[^\s,]+)")


class _Process(subprocess.Popen[str]):
    """A process whose `with` block kills it if it is still running at the block's end: a
    test whose process does not stop fails, and never hangs the run."""

    def __exit__(self, *exc: object) -> None:
        if self.poll() is None:
            self.kill()
        super().__exit__(*exc)  # type: ignore[arg-type]


def wacht_mock_process(
    *arguments: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stderr: int = subprocess.PIPE,
) -> subprocess.Popen[str]:
    """`python -m wacht_mock ARGUMENTS` in a process of its own, printing unbuffered."""
    return _Process(
        [sys.executable, "-m", "wacht_mock", *arguments],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        cwd=cwd,
        env={**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"},
    )


class Started(NamedTuple):
    line: str
    url: str


def started(process: subprocess.Popen[str]) -> Started:
    """The startup line a serving process printed first, and the URL it names; without one
    the process is stopped and the test fails with what it wrote on stderr."""
    assert process.stdout is not None
    line = process.stdout.readline()
    found = LISTENING.search(line)
    if found is None:
        process.kill()
        _, err = process.communicate(timeout=10)
        pytest.fail(f"no startup line: {line!r} {err or ''}")
    return Started(line, found.group(1))


def save(path: Path, text: str, stamp: int) -> None:
    """Write a file in one step, as editors save (a watcher never reads it half-written), with a
    distinct mtime however fast the test runs."""
    draft = path.with_suffix(".draft")
    draft.write_text(text)
    os.utime(draft, (stamp, stamp))
    os.replace(draft, path)
