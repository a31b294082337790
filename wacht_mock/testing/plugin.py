"""The pytest plugin (registered under `pytest11`: installing the package is enough).

Fixtures:

* `wacht_mock`: a `MockHandle` on a mock served over a real
  socket;
  each test starts from a clean state with a fresh tenant. One server per worker process
  (`wacht_mock_server`, session scope) is reset between tests, never restarted.
* `wacht_mock_inprocess`: the same handle on a mock with no socket, for code that takes an
  httpx client (`handle.async_client()`) or an ASGI app (`handle.app`); one mock and app per
  session (`wacht_mock_inprocess_app`), reset between tests.
* `wacht_mock_pool`: the connections `handle.client()` borrows, one pool per session,
  closed when it ends.
* `wacht_mock_host`, `wacht_mock_seed`, `wacht_mock_fixture_files` and
  `wacht_mock_config`: override them in a `conftest.py`; or set the ini options
  `wacht_mock_host`, `wacht_mock_seed`, `wacht_mock_fixtures`, ... (every setting marked
  `pytest` in `wacht_mock.service.settings.SETTINGS`).

Marker: `@pytest.mark.wacht_mock(fixtures=[...], seed=..., strict=..., allow_violations=...,
allow_unscripted=..., ignore_unknown_fields=..., profile=..., cassette="path")`. Its fixture
paths are relative to the test file, else to the rootdir; `examples` and `examples:agents`
name the shipped examples. With `cassette`, options `--wacht-record` and `--wacht-upstream`
say whether it is replayed or recorded (`wacht_mock.testing.cassette`).

`--wacht-dashboard` serves the session's mock with the dashboard on (and a control token made
up for it), prints its URL and token when the server starts, stops the session at the first
failing test that used `wacht_mock` (so that the mock stays as that test left it) and, at the
end, keeps the server running until Enter is pressed (or stdin ends). One process only: not with
xdist's `-n`.

A test fails, with a message that names the request and the problem, when the mock saw a server
error, a script that could not answer (a sequence ran out, an unscripted agent in strict mode, a
callable that raised) or, unless `allow_violations=True`, a request that broke the contract,
even if the client under test swallowed the error response.

Installed means loaded into every pytest session, used or not: this module imports only pytest
at first, and the mock (starlette, uvicorn, the agents) when a fixture is first asked for.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from wacht_mock.core.defaults import DEFAULT_HOST
from wacht_mock.service.settings import PYTEST_SETTINGS, Setting
from wacht_mock.testing.cassette import RECORD_MODES, UPSTREAM_VARIABLE, Cassette, CassetteProblem

if TYPE_CHECKING:  # the mock itself loads when a fixture is first asked for
    from starlette.applications import Starlette

    from wacht_mock.core.server import ServerThread
    from wacht_mock.service.config import MockConfig
    from wacht_mock.service.mock import WachtMock
    from wacht_mock.testing.handle import ConnectionPool, MockHandle

MARKER = "wacht_mock"
MARKER_OPTIONS = frozenset(
    {
        "fixtures",
        "seed",
        "strict",
        "allow_violations",
        "allow_unscripted",
        "ignore_unknown_fields",
        "profile",
        "cassette",
    }
)
_HANDLE = pytest.StashKey["MockHandle"]()
DASHBOARD_OPTION = "wacht_dashboard"


def pytest_addoption(parser: pytest.Parser) -> None:
    for setting in PYTEST_SETTINGS:
        if setting.kind == "list":
            parser.addini(setting.ini, f"wacht-mock: {setting.help}", type="linelist", default=[])
        else:
            parser.addini(setting.ini, f"wacht-mock: {setting.help}", type="string", default="")
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
    group.addoption(
        "--wacht-dashboard",
        action="store_true",
        default=False,
        help="serve the session's mock with its dashboard (URL and token printed), stop at the "
        "first failing test and keep the server until Enter is pressed",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption(DASHBOARD_OPTION, False) and (
        getattr(config.option, "numprocesses", None) or hasattr(config, "workerinput")
    ):
        raise pytest.UsageError(
            "--wacht-dashboard keeps one server for you to look at: run without -n (xdist)"
        )
    config.addinivalue_line(
        "markers",
        f"{MARKER}(fixtures=None, seed=None, strict=None, allow_violations=False, "
        "allow_unscripted=False, ignore_unknown_fields=None, profile=None, cassette=None): set "
        "up the wacht_mock fixture for this test (profile: guide or platform)",
    )


def _ini(config: pytest.Config, setting: Setting, default: Any = None) -> Any:
    """An ini option's value (`default` when it is not set); a bad value fails in one line."""
    raw = config.getini(setting.ini)
    if raw is None or raw == "" or raw == []:
        return default
    try:
        return setting.value(raw)
    except ValueError as exc:
        pytest.fail(f"{setting.ini}: {exc}", pytrace=False)


def _setting(name: str) -> Setting:
    return next(setting for setting in PYTEST_SETTINGS if setting.name == name)


def _located(paths: Sequence[str | Path], bases: Sequence[Path]) -> tuple[Path, ...]:
    """Fixture paths found under `bases` (in order); one that is nowhere fails in one line."""
    from wacht_mock.service.fixtures import FixtureError, locate

    try:
        return tuple(locate(path, bases) for path in paths)
    except FixtureError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def wacht_mock_host(pytestconfig: pytest.Config) -> str:
    """The address the session's mock server binds (ini `wacht_mock_host`, or a conftest)."""
    host: str = _ini(pytestconfig, _setting("host"), DEFAULT_HOST)
    return host


@pytest.fixture(scope="session")
def wacht_mock_seed(pytestconfig: pytest.Config) -> int | None:
    """The seed of generated replies and data (ini `wacht_mock_seed`, or a conftest)."""
    seed: int | None = _ini(pytestconfig, _setting("seed"), 0)
    return seed


@pytest.fixture(scope="session")
def wacht_mock_fixture_files(pytestconfig: pytest.Config) -> Sequence[str | Path]:
    """Fixture files every test starts with (ini `wacht_mock_fixtures`, relative to the ini
    file, or a conftest)."""
    paths = _ini(pytestconfig, _setting("fixtures"), [])
    inipath = pytestconfig.inipath
    return _located(paths, [inipath.parent if inipath else pytestconfig.rootpath])


@pytest.fixture(scope="session")
def wacht_mock_config(
    pytestconfig: pytest.Config,
    wacht_mock_seed: int | None,
    wacht_mock_fixture_files: Sequence[str | Path],
) -> MockConfig:
    """The configuration each test starts from (the ini options, then these fixtures)."""
    from wacht_mock.service.config import MockConfig

    fields = {
        setting.config: value
        for setting in PYTEST_SETTINGS
        if setting.config and setting.name not in ("seed", "fixtures")
        for value in [_ini(pytestconfig, setting)]
        if value is not None
    }
    if pytestconfig.getoption(DASHBOARD_OPTION, False):
        fields.update(control_token=secrets.token_urlsafe(16), dashboard=True)
    return MockConfig(seed=wacht_mock_seed, fixtures=tuple(wacht_mock_fixture_files), **fields)


@pytest.fixture(scope="session")
def wacht_mock_server(
    pytestconfig: pytest.Config, wacht_mock_host: str, wacht_mock_config: MockConfig
) -> Iterator[tuple[WachtMock, ServerThread]]:
    """One mock server for the whole session (per xdist worker), on a free port."""
    from wacht_mock.core.server import ServerThread
    from wacht_mock.service.app import create_app
    from wacht_mock.service.mock import WachtMock

    mock = WachtMock(wacht_mock_config)
    with ServerThread(create_app(mock), host=wacht_mock_host, port=0) as server:
        if wacht_mock_config.dashboard:
            _tell(pytestconfig, f"{_dashboard(server, wacht_mock_config)} (live while tests run)")
        yield mock, server
        if wacht_mock_config.dashboard:
            _hold(pytestconfig, f"{_dashboard(server, wacht_mock_config)}; press Enter to stop it")


def _dashboard(server: ServerThread, config: MockConfig) -> str:
    return f"wacht-mock dashboard: {server.url}/_mock/ui/ (token {config.control_token})"


def _tell(config: pytest.Config, line: str) -> None:
    """A line on the terminal, past pytest's capture."""
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(line, flush=True)


def _hold(config: pytest.Config, line: str) -> None:
    """Say `line` and wait for a line on stdin (or its end): the server runs meanwhile."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)
    try:
        print(f"\n{line}", flush=True)
        with contextlib.suppress(OSError, ValueError):
            sys.stdin.readline()
    finally:
        if capture is not None:
            capture.resume_global_capture()


@pytest.fixture(scope="session")
def wacht_mock_pool() -> Iterator[ConnectionPool]:
    """The connections the session's `handle.client()` clients share; closed at its end."""
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
) -> Iterator[MockHandle]:
    """The mock, reset for this test, with a fresh tenant (`api_key`)."""
    from wacht_mock.service.fixtures import FixtureError
    from wacht_mock.testing.handle import MockHandle, config_with
    from wacht_mock.testing.replay import MockReplay

    mock, server = wacht_mock_server
    config, allow, cassette = _marked(request, wacht_mock_config)
    if cassette is None:
        yield _attach(
            request,
            _handle(lambda: MockHandle(mock, config, server.url, pool=wacht_mock_pool)),
            allow,
        )
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
        except (CassetteProblem, FixtureError) as exc:
            problem = str(exc)
        if problem is not None:
            pytest.fail(problem, pytrace=False)
        stack.callback(handle.pool.close)  # a cassette's handle has connections of its own
        handle.api_key = cassette.alias
        yield _attach(request, handle, allow)


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
    """A mock with no socket: `handle.app` for ASGI, `handle.async_client()` for httpx."""
    from wacht_mock.testing.handle import InProcessHandle

    config, allow, cassette = _marked(request, wacht_mock_config)
    if cassette is not None:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}(cassette=...) needs the wacht_mock fixture")
    mock, app = wacht_mock_inprocess_app
    handle = _handle(lambda: InProcessHandle(mock, config, app))
    return _attach(request, handle, allow)


def _handle(make: Callable[[], MockHandle]) -> MockHandle:
    """A handle; a fixture file that does not load fails the test in one line."""
    from wacht_mock.service.fixtures import FixtureError

    try:
        return make()
    except FixtureError as exc:
        pytest.fail(str(exc), pytrace=False)


Allowances = tuple[bool, bool]


def _marked(
    request: pytest.FixtureRequest, base: MockConfig
) -> tuple[MockConfig, Allowances, Cassette | None]:
    marker = request.node.get_closest_marker(MARKER)
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    unknown = set(options) - MARKER_OPTIONS
    if unknown or (marker and marker.args):
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER} takes keyword options {sorted(MARKER_OPTIONS)}, "
            f"got {sorted(unknown) or list(marker.args if marker else ())}"
        )
    allow = bool(options.pop("allow_violations", False))
    unscripted = bool(options.pop("allow_unscripted", False))
    if options.get("fixtures") is not None:
        bases = [request.path.parent, request.config.rootpath]
        options["fixtures"] = _located(options["fixtures"], bases)
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
    from wacht_mock.testing.handle import config_with

    return config_with(base, **options), (allow, unscripted), cassette


def _attach(request: pytest.FixtureRequest, handle: MockHandle, allow: Allowances) -> MockHandle:
    handle.allow_violations, handle.allow_unscripted = allow
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
        if item.config.getoption(DASHBOARD_OPTION, False):  # its mock kept as it left it
            item.session.shouldfail = f"wacht-mock dashboard: {item.nodeid} failed"
    return report
