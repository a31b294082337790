"""Serving the mock with uvicorn: in a thread for tests, or in the foreground for the CLI.

uvicorn's own loop polls for shutdown every 0.1 s and sleeps another 0.1 s while stopping; a
fixture that starts and stops servers pays that each time. `FastServer` waits on an event
instead, so a stop costs about a millisecond when no client holds a connection open.

A client cannot hold a connection forever without sending its request: the request head (from
the connection's first byte, or its opening) and the request body each have
`request_timeout` seconds to arrive. A head that started is answered 408 in the error envelope,
an idle connection is closed, and a body read that runs out of time raises
`RequestTimeout` (408) from the app's `receive`.
`limit_concurrency` is uvicorn's own: past it, requests get its plain 503.

A response goes out in one piece: uvicorn writes a response's head and each body part as it
gets them, a system call each; `Corked` gathers what one turn of the event loop writes to a
connection and writes it at the end of that turn. The bytes and their order are uvicorn's; a
stream's event still leaves in the turn it was sent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import socket
import threading
from collections.abc import Iterable
from http import HTTPStatus
from types import FrameType, TracebackType
from typing import Any, cast

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wacht_mock.core.defaults import DEFAULT_HOST as DEFAULT_HOST
from wacht_mock.core.defaults import DEFAULT_LIMIT_CONCURRENCY as DEFAULT_LIMIT_CONCURRENCY
from wacht_mock.core.defaults import DEFAULT_PORT as DEFAULT_PORT
from wacht_mock.core.defaults import DEFAULT_REQUEST_TIMEOUT as DEFAULT_REQUEST_TIMEOUT
from wacht_mock.core.errors import ApiError, RequestTimeout

STOP_GRACE_SECONDS = 1.0
DISCONNECT_GRACE_SECONDS = 0.5
#: uvicorn's HTTP protocol classes, by the parser they run on.
PARSERS = {"HttpToolsProtocol": "httptools", "H11Protocol": "h11"}


class ServerStartError(RuntimeError):
    """The server could not listen where it was asked to; the message says how to fix it."""


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port`, or a `ServerStartError` that says why not."""
    if type(port) is not int or not 0 <= port <= 65535:
        raise ServerStartError(
            f"port {port!r} is out of range: give 0 to 65535 with --port (0 picks a free port)"
        )
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ServerStartError(
            f"cannot listen on host {host!r} ({exc}): give an address such as 127.0.0.1, ::1 "
            "or 0.0.0.0 with --host"
        ) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ServerStartError(_bind_problem(host, port, exc)) from None
    sock.setblocking(False)
    return sock


def _bind_problem(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (another wacht-mock?): stop that process, "
            "or choose another port with --port (0 picks a free one)"
        )
    if exc.errno == errno.EACCES:
        return f"port {port} needs administrator rights: choose one above 1023 with --port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"{host} is not an address of this machine: give one such as 127.0.0.1 or 0.0.0.0 "
            "with --host"
        )
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


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
        # Responses still running (streams) see their client disconnect and end on their own,
        # quietly; only what ignores that is cancelled.
        for connection in list(self.server_state.connections):
            connection.transport.close()
        deadline = loop.time() + DISCONNECT_GRACE_SECONDS
        while self.server_state.tasks and loop.time() < deadline:
            await asyncio.sleep(0.001)
        for task in self.server_state.tasks:
            task.cancel()
        await self.lifespan.shutdown()

    @property
    def stack(self) -> str:
        """What serves the requests, once started: `httptools + uvloop` or `h11 + asyncio`.

        uvicorn picks httptools and uvloop when they import (they are dependencies where wheels
        exist) and falls back to its pure-Python h11 parser and asyncio's loop otherwise.
        """
        # The protocol may be uvicorn's own or a subclass of it (the request-head deadline).
        names = [kind.__name__ for kind in self.config.http_protocol_class.__mro__]
        parser = next((PARSERS[name] for name in names if name in PARSERS), names[0])
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


#: uvicorn's lines that read like crashes but are not: a scripted dropped connection, and the
#: malformed requests a contract check sends on purpose. The request log says what happened.
QUIET = frozenset(
    {"ASGI callable returned without completing response.", "Invalid HTTP request received."}
)


class _Noise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg not in QUIET


def quiet_uvicorn() -> None:
    """Keep uvicorn's misleading lines out of the log (once per process)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _Noise) for f in logger.filters):
        logger.addFilter(_Noise())


#: Set in a request's scope by the HTTP protocol once the whole request has arrived (as it
#: has, for most requests, before the app starts): no deadline left to watch.
BODY_ARRIVED = "wacht_mock.body_arrived"


class BodyDeadline:
    """ASGI middleware: the request body has `seconds` from the request's start to arrive."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or BODY_ARRIVED in scope:
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.seconds
        complete = False

        async def receiving() -> Message:
            nonlocal complete
            if complete:  # after the body, waiting for a disconnect is not bounded (streams)
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout(
                    f"The request body did not arrive within {self.seconds:g} s"
                ) from None
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, receiving, send)


#: Gathered past this many bytes, a connection's writes leave at once: the transport's own
#: flow control (pausing a response that outruns its client) sees them in time.
CORK_LIMIT = 64 * 1024


class Corked:
    """A connection's transport whose writes within one turn of the loop leave as one.

    Everything else is the transport's own. Closing, or anything else that ends or bypasses
    the writes, writes what is gathered first; what is written to a transport that is already
    closing is dropped, as the transport would.
    """

    __slots__ = ("_gathered", "_loop", "_size", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._gathered: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        if not self._gathered:
            self._loop.call_soon(self._write_gathered)
        self._gathered.append(data)
        self._size += len(data)
        if self._size > CORK_LIMIT:
            self._write_gathered()

    def writelines(self, chunks: Iterable[bytes]) -> None:
        self.write(b"".join(chunks))

    def _write_gathered(self) -> None:
        data, self._gathered, self._size = self._gathered, [], 0
        if data and not self._transport.is_closing():
            self._transport.write(data[0] if len(data) == 1 else b"".join(data))

    def write_eof(self) -> None:
        self._write_gathered()
        self._transport.write_eof()

    def close(self) -> None:
        self._write_gathered()
        self._transport.close()

    def abort(self) -> None:
        self._gathered, self._size = [], 0
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def timed_protocol(base: type[asyncio.Protocol], seconds: float) -> type[asyncio.Protocol]:
    """`base` (uvicorn's HTTP protocol) with a deadline on each request head, writing corked."""

    class HeadDeadline(base):  # type: ignore[valid-type,misc]
        # When the head now awaited began to be waited for (None: none awaited), and whether
        # a byte of it came. One timer per connection, not one per request: a head that
        # arrives leaves its timer armed, and a timer that fires early waits on for the head
        # now awaited, or ends until the next one.
        _head_since: float | None = None
        _started = False
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            loop = asyncio.get_running_loop()
            super().connection_made(Corked(cast(asyncio.Transport, transport), loop))
            self._await_head(loop.time())

        def data_received(self, data: bytes) -> None:
            if self._head_since is None and self._waiting():  # a kept-alive connection's next
                self._await_head(asyncio.get_running_loop().time())
            self._started = True
            super().data_received(data)
            if not self._waiting():
                self._head_since = None

        def connection_lost(self, exc: Exception | None) -> None:
            self._head_since = None
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            super().connection_lost(exc)

        def on_message_complete(self) -> None:  # httptools' parser calls it (h11's has none)
            super().on_message_complete()
            if self.cycle is not None:
                self.cycle.scope[BODY_ARRIVED] = True

        def _waiting(self) -> bool:
            cycle = self.cycle
            return cycle is None or bool(cycle.response_complete)

        def _await_head(self, now: float) -> None:
            self._head_since, self._started = now, False
            if self._head_timer is None:
                loop = asyncio.get_running_loop()
                self._head_timer = loop.call_at(now + seconds, self._head_due)

        def _head_due(self) -> None:
            self._head_timer = None
            since = self._head_since
            if since is None or not self._waiting() or self.transport.is_closing():
                return
            loop = asyncio.get_running_loop()
            if since + seconds - loop.time() > 0.001:  # armed for an earlier head
                self._head_timer = loop.call_at(since + seconds, self._head_due)
                return
            if self._started:  # a request began: say why it ends
                message = f"The request head did not arrive within {seconds:g} s"
                self.transport.write(_raw_response(RequestTimeout(message)))
            self.transport.close()

    return HeadDeadline


def _raw_response(error: ApiError) -> bytes:
    body = error.body().encode()
    head = (
        f"HTTP/1.1 {error.status} {HTTPStatus(error.status).phrase}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


def uvicorn_config(
    app: ASGIApp,
    host: str,
    port: int,
    *,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    limit_concurrency: int | None = None,
    **options: Any,
) -> uvicorn.Config:
    """A uvicorn configuration with the request deadlines and the connection limit in place."""
    if request_timeout <= 0:
        raise ValueError(f"request_timeout must be more than 0 seconds, got {request_timeout}")
    if limit_concurrency is not None and limit_concurrency < 1:
        raise ValueError(f"limit_concurrency must be at least 1, got {limit_concurrency}")
    options.setdefault("log_level", "warning")
    options.setdefault("access_log", False)
    options.setdefault("log_config", None)  # its lines go wherever the process sends its logs
    options.setdefault("lifespan", "off")
    # The client is the peer, never what an `X-Forwarded-For` says (the dashboard's loopback
    # rule reads it), and no request pays for looking.
    options.setdefault("proxy_headers", False)
    quiet_uvicorn()
    config = uvicorn.Config(
        BodyDeadline(app, request_timeout),
        host=host,
        port=port,
        limit_concurrency=limit_concurrency,
        **options,
    )
    config.http = timed_protocol(_http_protocol(), request_timeout)
    return config


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """`--request-timeout` and `--limit-concurrency`, for every command that serves."""
    parser.add_argument(
        "--request-timeout",
        type=_positive(float),
        default=DEFAULT_REQUEST_TIMEOUT,
        metavar="SECONDS",
        help="time a client has to send its request head, then its body; past it: 408 and the "
        "connection closed (default: %(default)s)",
    )
    parser.add_argument(
        "--limit-concurrency",
        type=_positive(int),
        default=DEFAULT_LIMIT_CONCURRENCY,
        metavar="N",
        help="connections served at once; past it: 503 (default: %(default)s)",
    )


def _positive(kind: type[float] | type[int]) -> Any:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _http_protocol() -> type[asyncio.Protocol]:
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    return AutoHTTPProtocol


class ServerThread:
    """An ASGI app served on a real socket from a daemon thread.

    >>> with ServerThread(app) as server:  # doctest: +SKIP
    ...     httpx.get(server.url + "/ai/execution-contexts")
    """

    def __init__(
        self,
        app: ASGIApp,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        limit_concurrency: int | None = None,
        **options: Any,
    ) -> None:
        config = uvicorn_config(
            app,
            host,
            port,
            request_timeout=request_timeout,
            limit_concurrency=limit_concurrency,
            **options,
        )
        self.server = FastServer(config)
        self._thread = threading.Thread(target=self._run, name="wacht-mock-server", daemon=True)
        self._error: BaseException | None = None
        self._socket: socket.socket | None = None

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self._socket] if self._socket else None)
        except BaseException as exc:
            self._error = exc
        finally:
            self.server.ready.set()

    def listen(self) -> ServerThread:
        """Bind the port now (a `ServerStartError` says why it cannot); serve later."""
        if self._socket is None:
            self._socket = bind(self.server.config.host, self.server.config.port)
        return self

    def start(self, timeout: float = 10.0) -> ServerThread:
        """Listen (unless `listen` did), then serve from a thread."""
        self.listen()
        assert self._socket is not None
        self._thread.start()
        if not self.server.ready.wait(timeout) or not self.server.started:
            self._socket.close()
            raise ServerStartError(f"the server did not start: {self._error!r}")
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
