"""The pytest plugin (registered under ``pytest11``: installing the package is enough).

Fixtures:

* ``wacht_mock``: a :class:`~wacht_mock.testing.handle.MockHandle` on a mock served over a real
  socket;
  each test starts from a clean state with a fresh tenant. One server per worker process
  (``wacht_mock_server``, session scope) is reset between tests, never restarted.
* ``wacht_mock_inprocess``: the same handle on a mock with no socket, for code that takes an
  httpx client (``handle.async_client()``) or an ASGI app (``handle.app``).
* ``wacht_mock_host``, ``wacht_mock_seed``, ``wacht_mock_fixture_files`` and
  ``wacht_mock_config``: override them in a ``conftest.py``.

Marker: ``@pytest.mark.wacht_mock(fixtures=[...], seed=..., strict=..., allow_violations=...,
ignore_unknown_fields=..., cassette="path")``; with ``cassette``, options ``--wacht-record`` and
``--wacht-upstream`` say whether it is replayed or recorded (:mod:`wacht_mock.testing.cassette`).

A test fails, with a message that names the request and the problem, when the mock saw a server
error, a script that could not answer (a sequence ran out, an unscripted agent in strict mode, a
callable that raised) or, unless ``allow_violations=True``, a request that broke the contract,
even if the client under test swallowed the error response.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from wacht_mock.core.server import DEFAULT_HOST, ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock
from wacht_mock.testing.cassette import RECORD_MODES, UPSTREAM_VARIABLE, Cassette, CassetteProblem
from wacht_mock.testing.handle import MockHandle, config_with
from wacht_mock.testing.replay import MockReplay

MARKER = "wacht_mock"
MARKER_OPTIONS = frozenset(
    {"fixtures", "seed", "strict", "allow_violations", "ignore_unknown_fields", "cassette"}
)
_HANDLE = pytest.StashKey[MockHandle]()


class InProcessHandle(MockHandle):
    """A handle with no socket: ``app`` is the ASGI application."""

    def __init__(self, mock: WachtMock, config: MockConfig) -> None:
        super().__init__(mock, config)
        self.app: Starlette = create_app(mock)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wacht-mock")
    group.addoption(
        "--wacht-record",
        choices=RECORD_MODES,
        default="none",
        help="cassettes: none replays (a miss fails), new records missing cassettes, "
        "all records every one again (default: none)",
    )
    group.addoption(
        "--wacht-upstream",
        metavar="URL",
        default=None,
        help=f"the server cassettes are recorded from (default: ${UPSTREAM_VARIABLE})",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(fixtures=None, seed=None, strict=None, allow_violations=False, "
        "ignore_unknown_fields=None, cassette=None): set up the wacht_mock fixture for this test",
    )


@pytest.fixture(scope="session")
def wacht_mock_host() -> str:
    """The address the session's mock server binds (override in a conftest.py)."""
    return DEFAULT_HOST


@pytest.fixture(scope="session")
def wacht_mock_seed() -> int | None:
    """The seed of generated replies and data (override in a conftest.py)."""
    return 0


@pytest.fixture(scope="session")
def wacht_mock_fixture_files() -> Sequence[str | Path]:
    """Fixture files every test starts with (override in a conftest.py)."""
    return ()


@pytest.fixture(scope="session")
def wacht_mock_config(
    wacht_mock_seed: int | None, wacht_mock_fixture_files: Sequence[str | Path]
) -> MockConfig:
    """The configuration each test starts from."""
    return MockConfig(seed=wacht_mock_seed, fixtures=tuple(wacht_mock_fixture_files))


@pytest.fixture(scope="session")
def wacht_mock_server(
    wacht_mock_host: str, wacht_mock_config: MockConfig
) -> Iterator[tuple[WachtMock, ServerThread]]:
    """One mock server for the whole session (per xdist worker), on a free port."""
    mock = WachtMock(wacht_mock_config)
    with ServerThread(create_app(mock), host=wacht_mock_host, port=0) as server:
        yield mock, server


@pytest.fixture
def wacht_mock(
    request: pytest.FixtureRequest,
    wacht_mock_server: tuple[WachtMock, ServerThread],
    wacht_mock_config: MockConfig,
) -> Iterator[MockHandle]:
    """The mock, reset for this test, with a fresh tenant (``api_key``)."""
    mock, server = wacht_mock_server
    config, allow, cassette = _marked(request, wacht_mock_config)
    if cassette is None:
        yield _attach(request, MockHandle(mock, config, server.url), allow)
        return
    with contextlib.ExitStack() as stack:
        problem = None
        try:
            if cassette.records:  # the test talks to the upstream through a recording proxy
                proxy = stack.enter_context(cassette.recording_proxy())
                handle = MockHandle(mock, config, proxy.url)
            elif cassette.captures_missing:  # the mock answers, the upstream what it lacks
                handle = MockHandle(mock, config_with(config, fixtures=[cassette.path]))
                proxy = stack.enter_context(cassette.recording_proxy(MockReplay(mock)))
                handle.url = proxy.url
            else:
                cassette.check_replayable()
                replay = config_with(config, fixtures=[cassette.path])
                handle = MockHandle(mock, replay, server.url)
        except CassetteProblem as exc:
            problem = str(exc)
        if problem is not None:
            pytest.fail(problem, pytrace=False)
        handle.api_key = cassette.alias
        yield _attach(request, handle, allow)


@pytest.fixture
def wacht_mock_inprocess(
    request: pytest.FixtureRequest, wacht_mock_config: MockConfig
) -> MockHandle:
    """A mock with no socket: ``handle.app`` for ASGI, ``handle.async_client()`` for httpx."""
    config, allow, cassette = _marked(request, wacht_mock_config)
    if cassette is not None:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}(cassette=...) needs the wacht_mock fixture")
    handle = InProcessHandle(WachtMock(config), config)
    return _attach(request, handle, allow)


def _marked(
    request: pytest.FixtureRequest, base: MockConfig
) -> tuple[MockConfig, bool, Cassette | None]:
    marker = request.node.get_closest_marker(MARKER)
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    unknown = set(options) - MARKER_OPTIONS
    if unknown or (marker and marker.args):
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER} takes keyword options {sorted(MARKER_OPTIONS)}, "
            f"got {sorted(unknown) or list(marker.args if marker else ())}"
        )
    allow = bool(options.pop("allow_violations", False))
    name = options.pop("cassette", None)
    cassette = None
    if name is not None:
        option = request.config.getoption
        try:
            cassette = Cassette.for_test(
                name, Path(request.node.path), option("wacht_record"), option("wacht_upstream")
            )
        except (TypeError, ValueError) as exc:
            raise pytest.UsageError(f"@pytest.mark.{MARKER}: {exc}") from None
    return config_with(base, **options), allow, cassette


def _attach(request: pytest.FixtureRequest, handle: MockHandle, allow: bool) -> MockHandle:
    handle.allow_violations = allow
    request.node.stash[_HANDLE] = handle
    return handle


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail a passing test whose mock saw a problem the client may have swallowed."""
    result = yield
    handle = item.stash.get(_HANDLE, None)
    report = handle.failure_report() if handle else None
    if report:
        pytest.fail(report, pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Show the mock's journal under a failing test."""
    report = yield
    handle = item.stash.get(_HANDLE, None)
    if handle is not None and report.when == "call" and report.failed:
        report.sections.append(("wacht-mock journal", handle.journal_report()))
    return report
