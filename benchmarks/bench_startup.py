"""What the package costs before it does anything: its import, a pytest run, a test's client.

* import: ``import wacht_mock`` in a fresh interpreter against ``import starlette.applications,
  uvicorn, pydantic`` (the stack it stands on), the two taking turns; and whether
  ``python -X importtime`` shows schemathesis, hypothesis or faker.
* pytest: a one-test run with the plugins a plain install registers (the package's own, and
  any its dependencies bring, read from their metadata) loaded but unused, against the same run
  without them. Plugin autoloading is off on both sides (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``) and
  those plugins are named with ``-p``, so that the dev tools installed here count on neither.
* ``handle.client()`` per call against a new ``httpx.Client`` per call.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, distribution, requires
from pathlib import Path

from harness import Budget, Row, median, time_calls

IMPORT_TARGET = 1.5
PYTEST_TARGET = 0.050
CLIENT_TARGET = 0.001
HEAVY = ("schemathesis", "hypothesis", "faker")
STACK = "import starlette.applications, uvicorn, pydantic"
TIMED = "import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"


def run(quick: bool) -> list[Row]:
    repeats = 5 if quick else 7
    return [*_imports(repeats), *_pytest(2 * repeats + 1), _client(quick)]


def _timed(code: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", TIMED.format(code=code)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def _imports(repeats: int) -> list[Row]:
    codes = {
        "package": "import wacht_mock",
        "service": "from wacht_mock import WachtMock, create_app; create_app()",
        "stack": STACK,
    }
    times: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(repeats):
        for name, code in codes.items():
            times[name].append(_timed(code))
    trace = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import wacht_mock"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    loaded = sorted({name for name in HEAVY if re.search(rf"\|\s+{name}(\.|$)", trace, re.M)})
    package, service, stack = (median(times[name]) for name in codes)
    shown = ", ".join(loaded) or "none of " + ", ".join(HEAVY)
    return [
        Row(
            group="import",
            name="import wacht_mock",
            value=package,
            unit="s",
            baseline_name="starlette.applications, uvicorn, pydantic",
            baseline=stack,
            target=f"≤ {IMPORT_TARGET:g}x",
            met=package <= IMPORT_TARGET * stack and not loaded,
            note=f"-X importtime shows {shown}; fresh interpreters, median of {repeats}",
        ),
        Row(
            group="import",
            name="the service: WachtMock, create_app(), on first use",
            value=service,
            unit="s",
            baseline_name="starlette.applications, uvicorn, pydantic",
            baseline=stack,
            note="what a test session pays once, when a fixture is first used",
        ),
    ]


def _pytest(repeats: int) -> list[Row]:
    plugins = _dependency_plugins()
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "test_one.py").write_text("def test_one():\n    assert True\n")
        environment = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", folder]
        own = [*command[:3], "-p", "wacht_mock.testing.plugin", *command[3:]]
        installed = [*command[:3]]
        for module in ["wacht_mock.testing.plugin", *plugins.values()]:
            installed += ["-p", module]
        installed += command[3:]
        runs = {"without": command, "own": own, "with": installed}
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(repeats):
            for name, argv in runs.items():
                started = time.perf_counter()
                subprocess.run(argv, env=environment, capture_output=True, check=True, cwd=folder)
                times[name].append(time.perf_counter() - started)
    # Each run against the one without it just before: the machine's drift between rounds
    # cancels out (the own plugin costs less than one run differs from the next).
    extra, own_extra = (
        median([more - less for more, less in zip(times[name], times["without"], strict=True)])
        for name in ("with", "own")
    )
    without = median(times["without"])
    return [
        Row(
            group="pytest",
            name="a one-test run, the package installed but unused",
            value=extra,
            unit="s",
            baseline_name="the run without it",
            baseline=without,
            target=f"≤ +{PYTEST_TARGET * 1e3:.0f} ms, no other plugin",
            met=extra <= PYTEST_TARGET and not plugins,
            note=f"the plugins a plain install registers: wacht_mock, "
            f"{', '.join(plugins) or 'no other'}; median of {repeats} runs, each against the "
            "run without it just before",
        ),
        Row(
            group="pytest",
            name="the same, wacht-mock's own plugin alone",
            value=own_extra,
            unit="s",
            baseline_name="the run without it",
            baseline=without,
            target=f"≤ +{PYTEST_TARGET * 1e3:.0f} ms",
            met=own_extra <= PYTEST_TARGET,
            note=f"what the row above adds for {', '.join(plugins) or 'no other plugin'}: "
            f"{(extra - own_extra) * 1e3:+.0f} ms",
        ),
    ]


def _dependency_plugins() -> dict[str, str]:
    """The pytest11 entry points (name: module) of what a plain install of the package brings."""
    found = {}
    for requirement in requires("wacht-mock") or []:
        if "extra ==" in requirement:
            continue
        name = re.split(r"[\s;<>=!~\[]", requirement, maxsplit=1)[0]
        try:
            points = distribution(name).entry_points
        except PackageNotFoundError:
            continue
        found |= {
            f"{point.name} (from {name})": point.value
            for point in points
            if point.group == "pytest11"
        }
    return found


def _client(quick: bool) -> Row:
    import httpx

    from wacht_mock.service.config import MockConfig
    from wacht_mock.service.mock import WachtMock
    from wacht_mock.testing.handle import MockHandle

    handle = MockHandle(WachtMock(), MockConfig(), "http://127.0.0.1:9")
    budget = Budget(count=200 if quick else 1000, seconds=3.0)

    def pooled() -> None:
        handle.client().close()

    def fresh() -> None:
        httpx.Client(base_url="http://127.0.0.1:9", headers=handle.headers).close()

    ours = time_calls(pooled, budget.count, budget.seconds)
    theirs = time_calls(fresh, max(20, budget.count // 20), budget.seconds)
    handle.pool.close()
    value = median(ours)
    return Row(
        group="fixture",
        name="handle.client(), per call",
        value=value,
        unit="s",
        baseline_name="a new httpx.Client",
        baseline=median(theirs),
        target="≤ 1 ms",
        met=value <= CLIENT_TARGET,
        note=f"made and closed; n={len(ours)} vs {len(theirs)}",
    )
