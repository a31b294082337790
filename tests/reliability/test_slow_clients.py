"""Item 6 of the attack: a connection that never finishes its request is not held forever.

Idle sockets, slowloris headers, ``Expect: 100-continue`` with no body and an endless chunked
body each held a connection (and a file descriptor) for as long as the client liked: 1,100 idle
connections under a 1,024-descriptor limit locked every other client out. The request head and
body now have ``request_timeout`` seconds to arrive (a 408 in the envelope where a response is
still possible, otherwise the connection is closed), and ``limit_concurrency`` bounds the
connections (uvicorn's own 503 past it).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import KEY, started, wacht_mock_process
from wacht_mock import MockConfig, WachtMock, create_app
from wacht_mock.cli.main import build_parser
from wacht_mock.core.server import DEFAULT_REQUEST_TIMEOUT, ServerThread
from wacht_mock.proxy.server import ContractProxy, ProxyThread
from wacht_mock.service.settings import resolve

from .support import envelope_message, read_response

TIMEOUT = 0.4
MARGIN = 3.0  # generous: the machine may be busy
COLLECTION = "/ai/execution-contexts"


@pytest.fixture
def strict_server() -> Iterator[ServerThread]:
    with ServerThread(
        create_app(MockConfig(seed=1)), request_timeout=TIMEOUT, limit_concurrency=4
    ) as server:
        yield server


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT + MARGIN)


def _closed_within(connection: socket.socket, seconds: float) -> float:
    """Seconds until the server closed the connection (reading and dropping what it sends)."""
    started = time.perf_counter()
    connection.settimeout(seconds)
    while connection.recv(65536):
        pass
    return time.perf_counter() - started


def _expect_408(connection: socket.socket) -> None:
    response = read_response(connection)
    assert response is not None
    assert response.status == 408
    assert "did not arrive within" in envelope_message(408, response.body)
    assert _closed_within(connection, MARGIN) < MARGIN


def test_an_idle_connection_is_closed(strict_server: ServerThread) -> None:
    with _connect(strict_server.port) as connection:
        assert _closed_within(connection, TIMEOUT + MARGIN) >= TIMEOUT * 0.9


def test_a_slow_request_head_gets_408(strict_server: ServerThread) -> None:
    with _connect(strict_server.port) as connection:
        connection.sendall(b"GET /ai/execution-contexts HTTP/1.1\r\nHost: m\r\n")
        _expect_408(connection)


def test_a_slow_head_after_a_kept_alive_request_gets_408(strict_server: ServerThread) -> None:
    with _connect(strict_server.port) as connection:
        connection.sendall(b"GET /ai/execution-contexts HTTP/1.1\r\nHost: m\r\n\r\n")
        first = read_response(connection)
        assert first is not None
        assert first.status == 401
        connection.sendall(b"GET /ai/execution-contexts HTTP/1.1\r\nHost: m\r\n")
        _expect_408(connection)


def test_a_kept_alive_head_has_its_whole_time_from_its_first_byte(
    strict_server: ServerThread,
) -> None:
    # One timer serves a connection's heads: the one the first head armed must not cut the
    # second short. The second head starts 0.6 of the timeout after the first.
    with _connect(strict_server.port) as connection:
        connection.sendall(b"GET /ai/execution-contexts HTTP/1.1\r\nHost: m\r\n\r\n")
        first = read_response(connection)
        assert first is not None
        assert first.status == 401
        time.sleep(TIMEOUT * 0.6)
        connection.sendall(b"GET /ai/execution-contexts HTTP/1.1\r\nHost: m\r\n")
        started = time.perf_counter()
        time.sleep(TIMEOUT * 0.7)  # past the first head's deadline, within the second's
        connection.sendall(b"Authorization: Bearer " + KEY.encode() + b"\r\n\r\n")
        second = read_response(connection)
        assert second is not None
        assert second.status == 200, time.perf_counter() - started
        connection.sendall(b"GET /ai/execution-contexts HTTP/1.1\r\nHost: m\r\n")
        _expect_408(connection)


def test_a_head_dribbled_a_byte_at_a_time_gets_408(strict_server: ServerThread) -> None:
    head = b"GET /ai/execution-contexts HTTP/1.1\r\nHost: m\r\nX-Slow: " + b"a" * 100
    started = time.perf_counter()
    with _connect(strict_server.port) as connection:
        for byte in head:
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                break
            if time.perf_counter() - started > TIMEOUT + MARGIN:
                break
            time.sleep(0.05)
        response = read_response(connection)
    assert response is not None
    assert response.status == 408
    assert time.perf_counter() - started < TIMEOUT + MARGIN


def test_expect_100_continue_with_no_body_gets_408(strict_server: ServerThread) -> None:
    with _connect(strict_server.port) as connection:
        connection.sendall(
            b"POST /ai/execution-contexts HTTP/1.1\r\nHost: m\r\n"
            + f"Authorization: Bearer {KEY}\r\n".encode()
            + b"Content-Type: application/json\r\nContent-Length: 20\r\n"
            + b"Expect: 100-continue\r\n\r\n"
        )
        response = read_response(connection)
        assert response is not None
        if response.status == 100:
            response = read_response(connection)
        assert response is not None
        assert response.status == 408
        assert "did not arrive within" in envelope_message(408, response.body)


def test_an_endless_chunked_body_gets_408(strict_server: ServerThread) -> None:
    started = time.perf_counter()
    with _connect(strict_server.port) as connection:
        connection.sendall(
            b"POST /ai/execution-contexts HTTP/1.1\r\nHost: m\r\n"
            + f"Authorization: Bearer {KEY}\r\n".encode()
            + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        connection.setblocking(False)
        data = b""
        while b"\r\n\r\n" not in data and time.perf_counter() - started < TIMEOUT + MARGIN:
            try:
                connection.sendall(b"1\r\n \r\n")
            except BlockingIOError:
                pass
            except OSError:
                break
            with contextlib.suppress(BlockingIOError):
                data += connection.recv(65536)
            time.sleep(0.02)
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert time.perf_counter() - started < TIMEOUT + MARGIN


def test_past_the_concurrency_limit_a_client_gets_503_then_room(
    strict_server: ServerThread,
) -> None:
    idle = [_connect(strict_server.port) for _ in range(4)]
    try:
        with httpx.Client(base_url=strict_server.url, timeout=5) as client:
            assert client.get(COLLECTION).status_code == 503
    finally:
        for connection in idle:
            connection.close()
    time.sleep(0.1)
    with httpx.Client(base_url=strict_server.url, timeout=5) as client:
        assert client.get(COLLECTION).status_code == 401  # served again (no key: 401)


def test_a_slow_answer_is_not_a_slow_request() -> None:
    mock = WachtMock()
    mock.engine.agent("slow").reply("late", latency=TIMEOUT * 2)
    with ServerThread(create_app(mock), request_timeout=TIMEOUT) as server:
        headers = {"Authorization": f"Bearer {KEY}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
            context = client.post(COLLECTION, json={"title": "Slow"}).json()
            body = {"agent_name": "slow", "execution_type": {"new_message": {"message": "hi"}}}
            response = client.post(f"{COLLECTION}/{context['id']}/execute", json=body)
            assert response.status_code == 200
            time.sleep(TIMEOUT / 2)
            assert client.get(COLLECTION).status_code == 200  # the kept-alive connection


def test_the_proxy_bounds_the_request_body_too() -> None:
    with ServerThread(create_app(MockConfig(seed=1))) as upstream:
        proxy = ContractProxy(upstream.url)
        with ProxyThread(proxy, request_timeout=TIMEOUT) as server, _connect(server.port) as c:
            c.sendall(
                b"POST /ai/execution-contexts HTTP/1.1\r\nHost: m\r\n"
                b"Content-Type: application/json\r\nContent-Length: 20\r\n\r\n{"
            )
            _expect_408(c)


def test_the_command_line_takes_both_bounds() -> None:
    parser = build_parser()
    serve = parser.parse_args(["serve", "--request-timeout", "2.5", "--limit-concurrency", "50"])
    values = resolve(vars(serve), {}, None)  # serve reads its flags, environment and pyproject
    assert (values["request_timeout"], values["limit_concurrency"]) == (2.5, 50)
    defaults = resolve(vars(parser.parse_args(["serve"])), {}, None)
    assert defaults["request_timeout"] == DEFAULT_REQUEST_TIMEOUT
    proxy = parser.parse_args(
        ["proxy", "--upstream", "http://x", "--request-timeout", "1", "--limit-concurrency", "9"]
    )
    assert (proxy.request_timeout, proxy.limit_concurrency) == (1.0, 9)
    for bad in (["--request-timeout", "0"], ["--limit-concurrency", "0"]):
        done = subprocess.run(
            [sys.executable, "-m", "wacht_mock", "serve", *bad],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 2
        assert bad[0] in done.stderr


def test_serve_applies_the_request_timeout() -> None:
    with wacht_mock_process("serve", "--port", "0", "--request-timeout", str(TIMEOUT)) as process:
        url = started(process).url
        try:
            with _connect(int(url.rsplit(":", 1)[1])) as connection:
                assert _closed_within(connection, TIMEOUT + MARGIN) < TIMEOUT + MARGIN
        finally:
            process.terminate()
            process.wait(timeout=10)
