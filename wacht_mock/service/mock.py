"""The mock itself: its store, its agents, its journal; everything one server holds."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from wacht_mock.agents import Engine
from wacht_mock.core.ids import SnowflakeIds
from wacht_mock.core.journal import Journal
from wacht_mock.service.auth import KeyPolicy
from wacht_mock.service.config import MockConfig
from wacht_mock.service.execution import ExecutionService
from wacht_mock.service.fixtures import FixtureFile, apply, fixture_files, read_fixture
from wacht_mock.service.store import Store


class WachtMock:
    """The state behind one mock server, usable without any server at all.

    It starts with the configured fixture files loaded; :meth:`reset` goes back to that start,
    from the documents parsed then and kept in memory (the disk is not read again: a changed
    file is for :class:`~wacht_mock.service.watch.FixtureWatcher` to take in, or not).
    """

    def __init__(self, config: MockConfig | None = None) -> None:
        self.config = config or MockConfig()
        self.keys = KeyPolicy(self.config.api_keys)
        self.store = Store(self.config.clock, SnowflakeIds(self.config.clock))
        self.engine = Engine(
            seed=self.config.seed,
            strict=self.config.strict_agents,
            call_log_size=self.config.call_log_size,
        )
        self.executions = ExecutionService(self.store, self.engine)
        self.journal = Journal(self.config.journal_size)
        self._start = _read(self.config.fixtures)
        self._apply(self._start)

    def load_fixtures(self, paths: Iterable[str | Path]) -> int:
        """Seed contexts and load scripts from fixture files or folders; returns contexts made.

        What they add lasts until the next reset (the start state is the configured fixtures).
        """
        return self._apply(_read(paths))

    def remember_fixture(self, path: Path, fixture: FixtureFile) -> None:
        """Make an edited fixture file's document part of the start state that reset restores."""
        self._start[path] = fixture

    def _apply(self, files: dict[Path, FixtureFile]) -> int:
        return sum(
            apply(fixture, self.store, self.engine, self.engine.seed, str(path))
            for path, fixture in files.items()
        )

    def reconfigure(self, config: MockConfig) -> None:
        """Take on another configuration (keys, seed, strictness, fixtures, clock), then reset.

        The journal's size and the control token are fixed when the mock (and its app) are
        made: a configuration that changes them is refused rather than quietly half-applied.
        """
        for name in ("journal_size", "control_token", "max_body_bytes"):
            if getattr(config, name) != getattr(self.config, name):
                raise ValueError(f"{name} is fixed when the mock is made; make a new WachtMock")
        start = _read(config.fixtures)  # before anything changes: a bad file changes nothing
        if config.clock is not self.config.clock:
            self.store = Store(config.clock, SnowflakeIds(config.clock))
            self.executions = ExecutionService(self.store, self.engine)
        self.config = config
        self.keys = KeyPolicy(config.api_keys)
        self.engine.call_log_size = config.call_log_size
        self._start = start
        self.reset()

    def reset(self) -> None:
        """Back to the start: no contexts, scripts or journal beyond the configured fixtures."""
        self.store.reset()
        self.engine.reset()
        self.journal.clear()
        self.engine.seed = self.config.seed
        self.engine.strict = self.config.strict_agents
        self._apply(self._start)


def _read(paths: Iterable[str | Path]) -> dict[Path, FixtureFile]:
    return {path: read_fixture(path) for path in fixture_files(map(Path, paths))}
