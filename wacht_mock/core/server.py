"""Serving the mock with uvicorn: in a thread for tests, or in the foreground for the CLI.

uvicorn's own loop polls for shutdown every 0.1 s and sleeps another 0.1 s while stopping; a
fixture that starts and stops servers pays that each time. :class:`FastServer` waits on an event
instead, so a stop costs about a millisecond when no client holds a connection open.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import FrameType, TracebackType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

STOP_GRACE_SECONDS = 1.0
#: Loopback only unless told otherwise: a mock is nobody's public server.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
#: uvicorn's HTTP protocol classes, by the parser they run on.
PARSERS = {"HttpToolsProtocol": "httptools", "H11Protocol": "h11"}


class FastServer(uvicorn.Server):
    """A uvicorn server that starts and stops without polling."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: Any = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        await super().startup(sockets=sockets)
        self.ready.set()

    async def main_loop(self) -> None:
        assert self._wake is not None
        while not await self.on_tick(0):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def shutdown(self, sockets: Any = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_GRACE_SECONDS
        while self.server_state.connections and loop.time() < deadline:
            await asyncio.sleep(0.001)
        for task in self.server_state.tasks:
            task.cancel()
        await self.lifespan.shutdown()

    @property
    def stack(self) -> str:
        """What serves the requests, once started: ``httptools + uvloop`` or ``h11 + asyncio``.

        uvicorn picks httptools and uvloop when they import (they are dependencies where wheels
        exist) and falls back to its pure-Python h11 parser and asyncio's loop otherwise.
        """
        protocol = self.config.http_protocol_class.__name__
        parser = PARSERS.get(protocol, protocol)
        loop = type(self._loop).__module__.split(".")[0] if self._loop else "not running"
        return f"{parser} + {loop}"

    def request_stop(self) -> None:
        """Stop soon; callable from any thread."""
        self.should_exit = True
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                self._loop.call_soon_threadsafe(self._wake.set)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self.request_stop()


def uvicorn_config(app: ASGIApp, host: str, port: int, **options: Any) -> uvicorn.Config:
    options.setdefault("log_level", "warning")
    options.setdefault("access_log", False)
    return uvicorn.Config(app, host=host, port=port, lifespan="off", **options)


class ServerThread:
    """An ASGI app served on a real socket from a daemon thread.

    >>> with ServerThread(app) as server:  # doctest: +SKIP
    ...     httpx.get(server.url + "/ai/execution-contexts")
    """

    def __init__(self, app: ASGIApp, host: str = DEFAULT_HOST, port: int = 0) -> None:
        self.server = FastServer(uvicorn_config(app, host, port))
        self._thread = threading.Thread(target=self._run, name="wacht-mock-server", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.server.run()
        except BaseException as exc:  # SystemExit when the port is taken
            self._error = exc
        finally:
            self.server.ready.set()

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        if not self.server.ready.wait(timeout) or not self.server.started:
            raise RuntimeError(f"the mock server did not start: {self._error!r}")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.request_stop()
        self._thread.join(timeout)

    @property
    def port(self) -> int:
        port: int = self.server.servers[0].sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        host = self.server.config.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
