"""A test's handle on a mock: its URL or app, a fresh tenant, the store, the scripts, the journal.

The pytest fixtures hand one out per test; it can be used without pytest as well.
"""

from __future__ import annotations

import asyncio
import secrets
import ssl
import threading
from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from wacht_mock.agents import AgentNotScripted, AgentScript, CallRecord, RunState
from wacht_mock.core.errors import ApiError
from wacht_mock.core.journal import Entry, Journal
from wacht_mock.service.app import create_app
from wacht_mock.service.auth import deployment_id_for
from wacht_mock.service.config import MockConfig
from wacht_mock.service.faults import parse_rules
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.models import Context, Status
from wacht_mock.service.runs import RunRecord
from wacht_mock.service.store import NewContext


def new_api_key() -> str:
    """A fresh, well-formed test key: a deployment of its own."""
    return f"wk_test_{secrets.token_hex(8)}"


@cache
def tls_context() -> ssl.SSLContext:
    """httpx's default SSL context, built once: building one is most of a new client's cost."""
    return httpx.create_ssl_context()


#: `httpx.Client` options that configure its transport: given one, a client gets its own.
TRANSPORT_OPTIONS = frozenset(
    {"transport", "verify", "cert", "http1", "http2", "limits", "proxy", "mounts", "trust_env"}
)


class ConnectionPool:
    """One httpx transport (a pool of keep-alive connections) shared by the clients it lends.

    A new `httpx.Client` builds an SSL context (about 20 ms), even for `http://`; a client
    on a shared transport costs well under a millisecond. Closing a lent client leaves the pool
    open; `close` (at the end of the pytest session) closes it.
    """

    def __init__(self) -> None:
        self._transport: httpx.HTTPTransport | None = None
        self._lock = threading.Lock()

    def client(self, **options: Any) -> httpx.Client:
        if TRANSPORT_OPTIONS & options.keys():
            return httpx.Client(**options)
        with self._lock:
            if self._transport is None:
                self._transport = httpx.HTTPTransport()
            transport = _Lent(self._transport)
        return httpx.Client(transport=transport, trust_env=False, **options)

    def close(self) -> None:
        with self._lock:
            transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()


class _Lent(httpx.BaseTransport):
    """The pool's transport as one client sees it: closing the client does not close it."""

    def __init__(self, transport: httpx.HTTPTransport) -> None:
        self._transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._transport.handle_request(request)


class MockHandle:
    """One test's view of a running mock (reset when the handle is made).

    `pool` lends the handle's clients their connections (the pytest plugin shares one per
    session); without one the handle makes its own.
    """

    def __init__(
        self,
        mock: WachtMock,
        config: MockConfig,
        url: str | None = None,
        *,
        pool: ConnectionPool | None = None,
    ) -> None:
        self.mock = mock
        self.url = url
        self.api_key = new_api_key()
        self.allow_violations = False
        self.allow_unscripted = False
        self.pool = pool or ConnectionPool()
        mock.reconfigure(config)

    # -- tenants and contexts ---------------------------------------------------------------

    def new_api_key(self) -> str:
        """Another deployment, for tests of isolation between tenants."""
        return new_api_key()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def create_context(
        self,
        title: str = "Test Context",
        *,
        system_instructions: str | None = None,
        context_group: str | None = None,
        status: Status = "active",
        api_key: str | None = None,
    ) -> Context:
        """Seed a context directly into the store (no HTTP), in this test's tenant by default."""
        deployment_id = deployment_id_for(api_key or self.api_key)
        new = NewContext(title, system_instructions, context_group, status)
        return self.mock.store.create(deployment_id, new)

    def contexts(self, api_key: str | None = None) -> list[Context]:
        """Every context of a tenant (this test's by default), oldest first."""
        return list(self.mock.store.contexts(deployment_id_for(api_key or self.api_key)))

    def load_fixtures(self, *paths: str | Path) -> int:
        return self.mock.load_fixtures(paths)

    # -- scripts ----------------------------------------------------------------------------

    def agent(self, name: str) -> AgentScript:
        """The script of agent `name`: `.reply(...)`, `.replies(...)`, `.when(...)`."""
        return self.mock.engine.agent(name)

    def fault(self, **rule: Any) -> None:
        """Inject a fault on any operation, e.g. `fault(operation="list", status=503, times=2)`
        (the fixture files' `faults:` keys); gone at the next test."""
        self.mock.add_faults(parse_rules(rule, "fault()"))

    def calls(self, agent_name: str) -> list[CallRecord]:
        return list(self.agent(agent_name).calls)

    def run_state(self, execution_id: str) -> RunState:
        """What the model was given in the execution `execution_id` (an execute response's
        `execution_id`); `LookupError` if the mock keeps no run of that id."""
        try:
            return self.mock.executions.runs.get(execution_id).run_state
        except ApiError as exc:
            raise LookupError(exc.message) from None

    def runs(self, context_id: str | None = None) -> list[RunRecord]:
        """This test's runs (of one context if given), oldest first: ids, agent, kind,
        status, stop reason and `run_state`."""
        deployment_id = deployment_id_for(self.api_key)
        return self.mock.executions.runs.select(deployment_id, context_id)

    def assert_executed(
        self, agent_name: str, *, message: str | None = None, times: int | None = None
    ) -> None:
        """Assert that `agent_name` ran (with `message`, `times` times if given)."""
        calls = [r.call for r in self.agent(agent_name).calls]
        matching = [c for c in calls if message is None or c.message == message]
        wanted = f" with message {message!r}" if message is not None else ""
        if times is None and not matching:
            raise AssertionError(
                f"agent {agent_name!r} was never executed{wanted}; "
                f"its calls: {[c.message for c in calls]}"
            )
        if times is not None and len(matching) != times:
            raise AssertionError(
                f"agent {agent_name!r} was executed {len(matching)} times{wanted}, "
                f"expected {times}; its calls: {[c.message for c in calls]}"
            )

    # -- journal and failures ---------------------------------------------------------------

    @property
    def journal(self) -> Journal:
        return self.mock.journal

    def problems(self) -> list[tuple[Entry, str]]:
        """What should fail the test: server errors, script problems and, unless allowed,
        requests that broke the contract."""
        found = []
        for entry in self.journal.entries():
            if entry.error and not (self.allow_unscripted and _unscripted(entry)):
                found.append((entry, entry.error))
            if not self.allow_violations:
                found += [(entry, violation) for violation in entry.violations]
        return found

    def failure_report(self) -> str | None:
        problems = self.problems()
        if not problems:
            return None
        lines = ["wacht-mock saw what this test did not expect:"]
        for entry, problem in problems:
            lines.append(f"  {entry.method} {entry.path} -> {entry.status}: {problem}")
            if entry.agent_name:
                lines.append(f"    agent: {entry.agent_name}")
            if entry.body:
                lines.append(f"    request body: {entry.body[:500]}")
        if self.allow_violations is False and any(e.violations for e, _ in problems):
            lines.append(
                "  (a test that sends bad requests on purpose: "
                "@pytest.mark.wacht_mock(allow_violations=True))"
            )
        return "\n".join(lines)

    def journal_report(self, last: int = 20) -> str:
        entries = self.journal.entries()[-last:]
        return "\n".join(entry.summary() for entry in entries) or "(no requests)"

    # -- clients ----------------------------------------------------------------------------

    def client(self, **options: Any) -> httpx.Client:
        """An httpx client on this mock, authenticated as this test's tenant: over the socket
        (cheap: its connections come from the handle's pool, make one wherever it reads best),
        or in-process through the ASGI app."""
        if self.url is not None:
            return self.pool.client(base_url=self.url, headers=self.headers, **options)
        transport = BlockingASGITransport(create_app(self.mock))
        return httpx.Client(
            transport=transport, base_url="http://wacht-mock", headers=self.headers, **options
        )

    def async_client(self, **options: Any) -> httpx.AsyncClient:
        """An async httpx client: over the socket, or in-process through the ASGI app."""
        if self.url is not None:
            options.setdefault("verify", tls_context())  # a context of its own costs ~20 ms
            return httpx.AsyncClient(base_url=self.url, headers=self.headers, **options)
        transport = httpx.ASGITransport(app=self._asgi_app())
        return httpx.AsyncClient(
            transport=transport, base_url="http://wacht-mock", headers=self.headers, **options
        )

    def _asgi_app(self) -> Starlette:
        return create_app(self.mock)


class InProcessHandle(MockHandle):
    """A handle with no socket: `app` is the ASGI application (`mock`'s, made if not given)."""

    def __init__(self, mock: WachtMock, config: MockConfig, app: Starlette | None = None) -> None:
        super().__init__(mock, config)
        if app is not None and app.state.mock is not mock:
            raise ValueError("app must be the application of mock (create_app(mock))")
        self.app: Starlette = app if app is not None else create_app(mock)

    def _asgi_app(self) -> Starlette:
        return self.app


def _unscripted(entry: Entry) -> bool:
    """The strict-mode 404 for an agent with no script."""
    name = entry.agent_name
    return name is not None and entry.error == str(AgentNotScripted(name))


class BlockingASGITransport(httpx.BaseTransport):
    """A synchronous httpx transport onto an ASGI app: each request runs on an event loop of its
    own, in a thread of its own, so it works from sync and async tests alike and leaves nothing
    running behind."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def exchange() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            response = await self._asgi.handle_async_request(request)
            body = b"".join([chunk async for chunk in response.aiter_raw()])
            return response.status_code, response.headers.raw, body

        outcome: list[Any] = []

        def run() -> None:
            try:
                outcome.append(asyncio.run(exchange()))
            except BaseException as exc:
                outcome.append(exc)

        thread = threading.Thread(target=run, name="wacht-mock-inprocess")
        thread.start()
        thread.join()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        status, headers, body = outcome[0]
        return httpx.Response(status, headers=headers, content=body, request=request)


def config_with(
    base: MockConfig,
    *,
    fixtures: Iterable[str | Path] | None = None,
    seed: int | None = None,
    strict: bool | None = None,
    ignore_unknown_fields: bool | None = None,
    profile: str | None = None,
) -> MockConfig:
    """`base` with a test's marker options applied."""
    changes: dict[str, Any] = {}
    if profile is not None:
        changes["profile"] = profile
    if fixtures is not None:
        changes["fixtures"] = (*base.fixtures, *fixtures)
    if seed is not None:
        changes["seed"] = seed
    if strict is not None:
        changes["strict_agents"] = strict
    if ignore_unknown_fields is not None:
        changes["ignore_unknown_fields"] = ignore_unknown_fields
    return replace(base, **changes)
