"""A test's cassette: the fixture folder it replays, or records through the proxy.

`@pytest.mark.wacht_mock(cassette="cassettes/checkout")` names a folder next to the test file.
`pytest --wacht-record=none` (the default) replays it and fails the test on a request it does
not hold; `new` records what is missing (a whole cassette that does not exist yet, or, in one
that does, the executions it lacks: capture on miss); `all` records every cassette again.
Recording sends the test's requests through a recording
`ContractProxy` to `--wacht-upstream` (or `$WACHT_UPSTREAM`),
with `$WACHT_API_KEY` as the upstream's key; the test itself only ever holds the key alias.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wacht_mock.core.defaults import DEFAULT_KEY_ALIAS

if TYPE_CHECKING:  # the proxy (httpx and all) loads when a cassette records, not with the plugin
    from wacht_mock.proxy.server import ProxyThread
    from wacht_mock.testing.replay import MockReplay

RECORD_MODES = ("none", "new", "all")
RECORDED_FILES = ("deployment.*.yaml", "agent.*.yaml")
UPSTREAM_VARIABLE = "WACHT_UPSTREAM"


class CassetteProblem(Exception):
    """A cassette that cannot be replayed or recorded as asked; the message says what to do."""


@dataclass(frozen=True)
class Cassette:
    """Where a test's recording lives, and what this run does with it."""

    path: Path
    mode: str = "none"
    upstream: str | None = None
    alias: str = DEFAULT_KEY_ALIAS

    @classmethod
    def for_test(cls, name: object, test_file: Path, mode: str, upstream: str | None) -> Cassette:
        """The cassette a marker names, resolved relative to the test file."""
        if not isinstance(name, str | os.PathLike) or not str(name):
            raise TypeError(f"cassette is a path relative to the test file, not {name!r}")
        if mode not in RECORD_MODES:
            raise ValueError(f"--wacht-record is one of {', '.join(RECORD_MODES)}, not {mode!r}")
        upstream = upstream or os.environ.get(UPSTREAM_VARIABLE) or None
        return cls(test_file.parent / Path(name), mode, upstream)

    @property
    def exists(self) -> bool:
        return self.path.is_dir() and any(
            path for pattern in RECORDED_FILES for path in self.path.glob(pattern)
        )

    @property
    def records(self) -> bool:
        """Whether this run records (`all`, or `new` and nothing recorded yet)."""
        return self.mode == "all" or (self.mode == "new" and not self.exists)

    @property
    def captures_missing(self) -> bool:
        """Whether this run replays, sending what the cassette lacks to the upstream."""
        return self.mode == "new" and self.exists and bool(self.upstream)

    def check_replayable(self) -> None:
        if not self.exists:
            raise CassetteProblem(
                f"no recording at {self.path}: record it with "
                "pytest --wacht-record=new --wacht-upstream URL (or $WACHT_UPSTREAM)"
            )

    def recording_proxy(self, replay: MockReplay | None = None) -> ProxyThread:
        """A recording proxy to the upstream, not started; an `all` run starts afresh.

        With `replay`, the mock answers first and only its misses go to the upstream."""
        if not self.upstream:
            raise CassetteProblem(
                f"recording {self.path} needs --wacht-upstream URL (or ${UPSTREAM_VARIABLE})"
            )
        if self.mode == "all":
            for pattern in RECORDED_FILES:
                for path in self.path.glob(pattern):
                    path.unlink()
        from wacht_mock.proxy.recorder import FixtureRecorder
        from wacht_mock.proxy.server import KEY_VARIABLE, ContractProxy, ProxyThread

        recorder = FixtureRecorder(
            self.path,
            upstream=self.upstream,
            key_alias=self.alias,
            on_write=replay.recorded if replay else None,
        )
        key = os.environ.get(KEY_VARIABLE) or None
        proxy = ContractProxy(self.upstream, recorder=recorder, upstream_key=key, replay=replay)
        return ProxyThread(proxy)
