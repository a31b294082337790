"""The pytest plugin (registered under ``pytest11``: installing the package is enough).

Fixtures:

* ``wacht_mock``: a :class:`~wacht_mock.testing.handle.MockHandle` on a mock served over a real
  socket;
  each test starts from a clean state with a fresh tenant. One server per worker process
  (``wacht_mock_server``, session scope) is reset between tests, never restarted.
* ``wacht_mock_inprocess``: the same handle on a mock with no socket, for code that takes an
  httpx client (``handle.async_client()``) or an ASGI app (``handle.app``); one mock and app per
  session (``wacht_mock_inprocess_app``), reset between tests.
* ``wacht_mock_pool``: the connections ``handle.client()`` borrows, one pool per session,
  closed when it ends.
* ``wacht_mock_host``, ``wacht_mock_seed``, ``wacht_mock_fixture_files`` and
  ``wacht_mock_config``: override them in a ``conftest.py``.

Marker: ``@pytest.mark.wacht_mock(fixtures=[...], seed=..., strict=..., allow_violations=...,
ignore_unknown_fields=...)``.

A test fails, with a message that names the request and the problem, when the mock saw a server
error, a script that could not answer (a sequence ran out, an unscripted agent in strict mode, a
callable that raised) or, unless ``allow_violations=True``, a request that broke the contract,
even if the client under test swallowed the error response.

Installed means loaded into every pytest session, used or not: this module imports only pytest
at first, and the mock (starlette, uvicorn, the agents) when a fixture is first asked for.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from wacht_mock.core.server import ServerThread
    from wacht_mock.service.config import MockConfig
    from wacht_mock.service.mock import WachtMock
    from wacht_mock.testing.handle import ConnectionPool, MockHandle

MARKER = "wacht_mock"
MARKER_OPTIONS = frozenset(
    {"fixtures", "seed", "strict", "allow_violations", "ignore_unknown_fields"}
)
_HANDLE = pytest.StashKey["MockHandle"]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(fixtures=None, seed=None, strict=None, allow_violations=False, "
        "ignore_unknown_fields=None): set up the wacht_mock fixture for this test",
    )


@pytest.fixture(scope="session")
def wacht_mock_host() -> str:
    """The address the session's mock server binds (override in a conftest.py)."""
    from wacht_mock.core.server import DEFAULT_HOST

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
    from wacht_mock.service.config import MockConfig

    return MockConfig(seed=wacht_mock_seed, fixtures=tuple(wacht_mock_fixture_files))


@pytest.fixture(scope="session")
def wacht_mock_server(
    wacht_mock_host: str, wacht_mock_config: MockConfig
) -> Iterator[tuple[WachtMock, ServerThread]]:
    """One mock server for the whole session (per xdist worker), on a free port."""
    from wacht_mock.core.server import ServerThread
    from wacht_mock.service.app import create_app
    from wacht_mock.service.mock import WachtMock

    mock = WachtMock(wacht_mock_config)
    with ServerThread(create_app(mock), host=wacht_mock_host, port=0) as server:
        yield mock, server


@pytest.fixture(scope="session")
def wacht_mock_pool() -> Iterator[ConnectionPool]:
    """The connections the session's ``handle.client()`` clients share; closed at its end."""
    from wacht_mock.testing.handle import ConnectionPool

    pool = ConnectionPool()
    yield pool
    pool.close()


@pytest.fixture
def wacht_mock(
    request: pytest.FixtureRequest,
    wacht_mock_server: tuple[WachtMock, ServerThread],
    wacht_mock_config: MockConfig,
    wacht_mock_pool: ConnectionPool,
) -> MockHandle:
    """The mock, reset for this test, with a fresh tenant (``api_key``)."""
    from wacht_mock.testing.handle import MockHandle

    mock, server = wacht_mock_server
    config, allow = _marked(request, wacht_mock_config)
    handle = MockHandle(mock, config, server.url, pool=wacht_mock_pool)
    return _attach(request, handle, allow)


@pytest.fixture(scope="session")
def wacht_mock_inprocess_app(wacht_mock_config: MockConfig) -> tuple[WachtMock, Starlette]:
    """One mock and its ASGI app for the session's in-process tests (reset between tests)."""
    from wacht_mock.service.app import create_app
    from wacht_mock.service.mock import WachtMock

    mock = WachtMock(wacht_mock_config)
    return mock, create_app(mock)


@pytest.fixture
def wacht_mock_inprocess(
    request: pytest.FixtureRequest,
    wacht_mock_inprocess_app: tuple[WachtMock, Starlette],
    wacht_mock_config: MockConfig,
) -> MockHandle:
    """A mock with no socket: ``handle.app`` for ASGI, ``handle.async_client()`` for httpx."""
    from wacht_mock.testing.handle import InProcessHandle

    mock, app = wacht_mock_inprocess_app
    config, allow = _marked(request, wacht_mock_config)
    handle = InProcessHandle(mock, config, app)
    return _attach(request, handle, allow)


def _marked(request: pytest.FixtureRequest, base: MockConfig) -> tuple[MockConfig, bool]:
    from wacht_mock.testing.handle import config_with

    marker = request.node.get_closest_marker(MARKER)
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    unknown = set(options) - MARKER_OPTIONS
    if unknown or (marker and marker.args):
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER} takes keyword options {sorted(MARKER_OPTIONS)}, "
            f"got {sorted(unknown) or list(marker.args if marker else ())}"
        )
    allow = bool(options.pop("allow_violations", False))
    return config_with(base, **options), allow


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
