"""Hot reload: when a fixture file changes, its agent scripts are loaded again.

Contexts are left alone (reloading them would duplicate what clients already see); a file that
no longer loads is reported and the scripts it had stay in force. A file that reloads becomes
part of the start state that a reset restores; one that does not leaves that state as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from wacht_mock.agents import ScriptError
from wacht_mock.service.fixtures import FixtureError, fixture_files, read_fixture
from wacht_mock.service.mock import WachtMock

Report = Callable[[str], None]


def _stamps(paths: Iterable[Path]) -> dict[Path, float]:
    stamps = {}
    for path in fixture_files(paths):
        try:
            stamps[path] = path.stat().st_mtime
        except OSError:
            continue
    return stamps


def _agent_names(path: Path) -> set[str]:
    try:
        return set(read_fixture(path).agents)
    except FixtureError:
        return set()


class FixtureWatcher:
    """Polls the fixture files of a mock and reloads the scripts of those that changed."""

    def __init__(self, mock: WachtMock, report: Report, interval: float = 0.5) -> None:
        self.mock = mock
        self.report = report
        self.interval = interval
        self._paths = [Path(p) for p in mock.config.fixtures]
        self._stamps = _stamps(self._paths)
        self._agents = {path: _agent_names(path) for path in self._stamps}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wacht-mock-watch", daemon=True)

    def start(self) -> FixtureWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def check(self) -> list[Path]:
        """Reload what changed since the last check; returns the files reloaded."""
        stamps = _stamps(self._paths)
        changed = [path for path, stamp in stamps.items() if self._stamps.get(path) != stamp]
        self._stamps = stamps
        return [path for path in changed if self._reload(path)]

    def _reload(self, path: Path) -> bool:
        """Load the file's scripts again; agents it no longer names lose their scripts."""
        try:
            fixture = read_fixture(path)
            agents = fixture.agents
            self.mock.engine.load(agents, source=str(path))
        except (FixtureError, ScriptError) as exc:
            self.report(f"not reloaded, the previous scripts stay: {exc}")
            return False
        for gone in self._agents.get(path, set()) - set(agents):
            self.mock.engine.forget(gone)
        self._agents[path] = set(agents)
        self.mock.remember_fixture(path, fixture)
        self.report(f"reloaded the agent scripts of {path}")
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # the watcher outlives any one edit, whatever it holds
                self.report(f"not reloaded, the previous scripts stay: {type(exc).__name__}: {exc}")
