"""Shared fixtures: an in-process client on a fresh app (with the control API on, or not), and a
real socket server.

pytester's in-process runs drop the modules first imported during them; httpx caches httpcore's
exception classes on first use, so httpcore must be imported before any such run, or later
connection errors escape as raw httpcore exceptions. The same goes for schemathesis, which the
package imports only when a check runs; pytester runs that use the check itself run in a
subprocess, since schemathesis loads more of itself lazily. And for uvicorn's httptools
protocol: imported again after such a run, it no longer catches the parser's errors (their
classes are the first import's), so a server started later let a malformed request line kill
its connection instead of answering 400.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpcore  # noqa: F401  (imported before pytester's in-process runs; see below)
import httpx
import pytest
import schemathesis  # noqa: F401  (imported before pytester's in-process runs; see above)
import uvicorn.protocols.http.httptools_impl  # noqa: F401  (the same; see above)

from tests.helpers import CONTROL_TOKEN, auth
from wacht_mock.core.clock import FrozenClock
from wacht_mock.core.server import ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock


@pytest.fixture
def mock() -> WachtMock:
    return WachtMock(MockConfig(seed=1, clock=FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))))


@pytest.fixture
async def client(mock: WachtMock) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(mock))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://mock", headers=auth()
    ) as client:
        yield client


@pytest.fixture
async def control() -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client on a fresh app with the control API on (its token: `TOKEN`)."""
    app = create_app(MockConfig(seed=1, control_token=CONTROL_TOKEN))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        yield c


@pytest.fixture(scope="module")
def live_server() -> Iterator[ServerThread]:
    with ServerThread(create_app(MockConfig(seed=1))) as server:
        yield server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# The plugin is loaded here rather than from its entry point (blocked in pyproject.toml's
# addopts) so that coverage, which starts before conftest files load, sees it imported.
pytest_plugins = ["pytester", "wacht_mock.testing.plugin"]
