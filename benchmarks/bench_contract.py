"""Contract-check speed: cases per second of ``wacht-mock check --against-mock``.

Two figures. The check's rate against the mock, next to the same check (same seed, same number
of examples) against Stoplight Prism where npm is there. And the mock's share of a check's time:
the check run against a mock served here, whose journal records how long each request took it;
the rest is schemathesis generating cases and validating answers. (A bare endpoint is no floor
here: its fixed answers fail the checks, and Hypothesis then spends its time shrinking.)
If ``wacht-mock check`` is not available, schemathesis' own command line (``st run``) does the
same run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import KEY, NOTES, Row
from servers import CONTRACT, ROOT, prism_available, prism_server

from wacht_mock.core.server import ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock

SEED = 20261120
JOURNAL = 100_000
CHECK_CASES = re.compile(r"([0-9,]+) cases in ([0-9.]+) s")
ST_CASES = re.compile(r"([0-9,]+) generated")
ST_SECONDS = re.compile(r" in ([0-9.]+)s =+\s*$", re.MULTILINE)
FAILURES = re.compile(r"([0-9,]+) (?:distinct failures|failed)")
SHARE_TARGET = 1 / 3


@dataclass(frozen=True)
class Run:
    cases: int
    seconds: float
    failures: int = 0

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds else float("nan")


def run(quick: bool) -> list[Row]:
    examples = 5 if quick else 10
    use_check = _check_available()
    if not use_check:
        NOTES.append("contract: `wacht-mock check` unavailable, measured with `st run` instead")
    mine = _against_mock(examples, use_check)
    rows = [_share_row(examples, use_check)]
    if prism_available():
        with prism_server() as server:
            rows.append(_prism_row(mine, _against(server.url, examples, use_check)))
    else:
        NOTES.append("contract: Prism skipped, no `npx` on PATH")
        rows.append(_prism_row(mine, None))
    return rows


def _check_available() -> bool:
    command = [sys.executable, "-m", "wacht_mock", "check", "--help"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60)
    return done.returncode == 0 and "--against-mock" in done.stdout


def _against_mock(examples: int, use_check: bool) -> Run:
    if use_check:
        return _check(["--against-mock"], examples)
    with ServerThread(create_app(MockConfig(seed=SEED))) as server:
        return _st(server.url, examples)


def _share_row(examples: int, use_check: bool) -> Row:
    """How much of a check's time the mock spends answering (its journal's durations)."""
    mock = WachtMock(MockConfig(seed=SEED, journal_size=JOURNAL))
    with ServerThread(create_app(mock)) as server:
        checked = _against(server.url, examples, use_check)
    requests = mock.journal.entries()
    served = sum(entry.duration_ms for entry in requests) / 1000
    share = served / checked.seconds
    return Row(
        group="contract check",
        name="the mock's share of the check's time",
        value=share * 100,
        unit="%",
        baseline_name="whole check",
        target="≤ 33% (the mock is not the bottleneck)",
        met=share <= SHARE_TARGET,
        note=f"{len(requests)} requests, {served:.2f} s in the mock of {checked.seconds:.1f} s",
    )


def _against(url: str, examples: int, use_check: bool) -> Run:
    if use_check:
        return _check(["--base-url", url, "--api-key", KEY], examples)
    return _st(url, examples)


def _check(target: list[str], examples: int) -> Run:
    command = [sys.executable, "-m", "wacht_mock", "check", *target]
    command += ["--max-examples", str(examples), "--seed", str(SEED)]
    output = _output(command)
    found = CHECK_CASES.search(output)
    if found is None:
        raise RuntimeError(f"unexpected `wacht-mock check` output:\n{output[-2000:]}")
    return Run(_number(found.group(1)), float(found.group(2)), _failures(output))


def _st(url: str, examples: int) -> Run:
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    command = [st, "run", str(CONTRACT), "--url", url, "-H", f"Authorization: Bearer {KEY}"]
    command += ["--checks", "all", "--mode", "all", "--max-examples", str(examples)]
    command += ["--seed", str(SEED), "--no-color"]
    started = time.perf_counter()
    output = _output(command)
    cases = ST_CASES.search(output)
    seconds = ST_SECONDS.search(output)
    if cases is None:
        raise RuntimeError(f"unexpected `st run` output:\n{output[-2000:]}")
    elapsed = float(seconds.group(1)) if seconds else time.perf_counter() - started
    return Run(_number(cases.group(1)), elapsed, _failures(output))


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _failures(output: str) -> int:
    found = FAILURES.search(output)
    return _number(found.group(1)) if found else 0


def _output(command: list[str]) -> str:
    with tempfile.TemporaryDirectory() as folder:  # schemathesis writes files where it runs
        done = subprocess.run(command, capture_output=True, text=True, cwd=folder, timeout=900)
    return done.stdout + done.stderr


def _prism_row(mine: Run, prism: Run | None) -> Row:
    note = f"{mine.cases} cases in {mine.seconds:.1f} s, {mine.failures} failures"
    if prism is not None:
        note += f"; Prism {prism.cases} in {prism.seconds:.1f} s, {prism.failures} failures"
    return Row(
        group="contract check",
        name="cases per second (wacht-mock check --against-mock)",
        value=mine.rate,
        unit="cases/s",
        baseline_name="same check of Prism" if prism else "Prism: skipped",
        baseline=prism.rate if prism else None,
        note=note,
        higher_is_better=True,
    )
