"""The mock itself: its store, its agents, its journal; everything one server holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from wacht_mock.agents import Engine
from wacht_mock.core.ids import SnowflakeIds
from wacht_mock.core.journal import Journal, mask_key
from wacht_mock.service.auth import KeyPolicy
from wacht_mock.service.config import MockConfig
from wacht_mock.service.execution import ExecutionService
from wacht_mock.service.faults import FaultPlan, FaultRule
from wacht_mock.service.fixtures import FixtureFile, apply, fixture_files, read_fixture
from wacht_mock.service.profiles import dialect
from wacht_mock.service.requests import RequestReader
from wacht_mock.service.store import Store


class WachtMock:
    """The state behind one mock server, usable without any server at all.

    It starts with the configured fixture files loaded; `reset` goes back to that start,
    from the documents parsed then and kept in memory (the disk is not read again: a changed
    file is for `FixtureWatcher` to take in, or not).
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
        self.speak(self.config.profile)
        self.journal = Journal(self.config.journal_size, self.config.journal_bytes)
        self.faults = FaultPlan(self.config.seed)
        self._fixture_agents: set[str] = set()
        self._fixture_contexts: Counter[str] = Counter()
        self._start = _read(self.config.fixtures)
        self._apply(self._start)

    def load_fixtures(self, paths: Iterable[str | Path]) -> int:
        """Seed contexts, load scripts and faults from fixture files or folders (or the shipped
        `examples`); returns how many contexts were made.

        What they add lasts until the next reset (the start state is the configured fixtures).
        """
        return self._apply(_read(paths))

    def remember_fixture(self, path: Path, fixture: FixtureFile) -> None:
        """Make an edited fixture file's document part of the start state that reset restores."""
        self._start[path] = fixture

    def _apply(self, files: dict[Path, FixtureFile], only: str | None = None) -> int:
        """Load parsed fixture documents; `only`: a deployment id, then only what they give
        that deployment (its contexts and own scripts, no faults), as its reset does."""
        made = 0
        for path, fixture in files.items():
            made += apply(
                fixture,
                self.store,
                self.engine,
                self.engine.seed,
                str(path),
                self.profile,
                only,
            )
            if only is not None:
                continue
            self.add_faults(fixture.faults)
            self._fixture_agents.update(fixture.agents)
            for key, deployment in fixture.deployments.items():
                generated = deployment.generate.count if deployment.generate else 0
                shown = mask_key(f"Bearer {key}").partition(" ")[2]
                self._fixture_contexts[shown] += len(deployment.contexts) + generated
        return made

    def add_faults(self, rules: Iterable[FaultRule]) -> None:
        """Inject faults on any operation (see `wacht_mock.service.faults`)."""
        self.faults.add(rules)

    def loaded(self) -> tuple[Counter[str], set[str]]:
        """What the fixture files gave: contexts per deployment (its key masked), agents."""
        return Counter(self._fixture_contexts), set(self._fixture_agents)

    def reconfigure(self, config: MockConfig) -> None:
        """Take on another configuration (keys, seed, strictness, fixtures, clock), then reset.

        The journal's size and the control token are fixed when the mock (and its app) are
        made: a configuration that changes them is refused rather than quietly half-applied.
        """
        for name in ("journal_size", "journal_bytes", "control_token", "max_body_bytes"):
            if getattr(config, name) != getattr(self.config, name):
                raise ValueError(f"{name} is fixed when the mock is made; make a new WachtMock")
        start = _read(config.fixtures)  # before anything changes: a bad file changes nothing
        if config.clock is not self.config.clock:
            self.store = Store(config.clock, SnowflakeIds(config.clock))
        self.config = config
        self.speak(config.profile)
        self.keys = KeyPolicy(config.api_keys)
        self.engine.call_log_size = config.call_log_size
        self._start = start
        self.reset()

    def speak(self, profile: str) -> None:
        """Speak `profile`'s dialect from now on (`guide` or `platform`)."""
        self.profile = dialect(profile)
        self.requests = RequestReader(
            self.profile, ignore_unknown=self.config.ignore_unknown_fields
        )
        self.executions = ExecutionService(self.store, self.engine, self.profile)

    def reset(self, deployment_id: str | None = None) -> None:
        """Back to the start: no contexts, scripts or journal beyond the configured fixtures.

        With `deployment_id`, only that deployment goes back to the start: its contexts, its
        place in every script's sequences, its call logs, its own scripts and its journal
        entries; the shared scripts and settings, and every other deployment, stay as they are.
        """
        if deployment_id is not None:
            self.store.reset(deployment_id)
            self.engine.reset(deployment_id)
            self.executions.runs.forget(deployment_id)
            self.journal.clear(deployment_id)
            self._apply(self._start, only=deployment_id)
            return
        self.store.reset()
        self.engine.reset()
        self.journal.clear()
        self.engine.seed = self.config.seed
        self.engine.strict = self.config.strict_agents
        self.speak(self.config.profile)
        self.faults.reset(self.config.seed)
        self._fixture_agents.clear()
        self._fixture_contexts.clear()
        self._apply(self._start)


def _read(paths: Iterable[str | Path]) -> dict[Path, FixtureFile]:
    return {Path(path): read_fixture(Path(path)) for path in fixture_files(paths)}
