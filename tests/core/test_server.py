"""The mock on a real socket: every operation, many clients at once, a fast stop."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from tests.helpers import auth
from wacht_mock.core.server import CORK_LIMIT, Corked, ServerStartError, ServerThread
from wacht_mock.service.app import create_app


def test_every_operation_over_a_socket(live_server: ServerThread) -> None:
    with httpx.Client(base_url=live_server.url, headers=auth("wk_test_socket")) as client:
        created = client.post("/ai/execution-contexts", json={"title": "Sales Context"}).json()
        url = f"/ai/execution-contexts/{created['id']}"
        assert client.get(url).json() == created
        assert client.patch(url, json={"context_group": "sales"}).json()["context_group"] == "sales"
        listed = client.get("/ai/execution-contexts", params={"context_group": "sales"}).json()
        assert [c["id"] for c in listed["data"]] == [created["id"]]
        body = {"agent_name": "sales-bot", "execution_type": {"new_message": {"message": "Hi"}}}
        assert client.post(url + "/execute", json=body).json()["status"] == "completed"
        assert len(client.get(url + "/messages").json()["data"]) == 2
        assert client.delete(url).status_code == 204
        assert client.get(url).status_code == 404


def test_twenty_clients_creating_at_once_lose_nothing(live_server: ServerThread) -> None:
    headers = auth("wk_test_concurrency")

    def creates(client_number: int) -> list[str]:
        with httpx.Client(base_url=live_server.url, headers=headers) as client:
            return [
                client.post(
                    "/ai/execution-contexts", json={"title": f"{client_number}-{n}"}
                ).json()["id"]
                for n in range(50)
            ]

    with ThreadPoolExecutor(max_workers=20) as pool:
        created = [i for ids in pool.map(creates, range(20)) for i in ids]
    assert len(created) == len(set(created)) == 1000
    walked: list[str] = []
    with httpx.Client(base_url=live_server.url, headers=headers) as client:
        for offset in range(0, 1000, 100):
            page = client.get("/ai/execution-contexts", params={"limit": 100, "offset": offset})
            walked += [c["id"] for c in page.json()["data"]]
        assert page.json()["has_more"] is False
    assert sorted(walked) == sorted(created)


def test_a_stopped_server_lets_go_of_its_port() -> None:
    server = ServerThread(create_app()).start()
    url = server.url
    with httpx.Client() as client:
        assert client.get(url + "/ai/execution-contexts").status_code == 401
    server.stop()
    assert not server._thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/ai/execution-contexts")


def test_a_taken_port_is_a_clear_error(live_server: ServerThread) -> None:
    with pytest.raises(
        ServerStartError, match=rf"^port {live_server.port} on 127.0.0.1 is already"
    ):
        ServerThread(create_app(), port=live_server.port).start()


@pytest.mark.parametrize(
    ("host", "port", "problem"),
    [
        ("127.0.0.1", 99999, r"^port 99999 is out of range: give 0 to 65535 with --port"),
        ("no-such-host.invalid", 0, r"^cannot listen on host 'no-such-host.invalid' .*--host$"),
        ("192.0.2.1", 0, r"^192.0.2.1 is not an address of this machine"),
    ],
)
def test_a_bad_port_or_host_is_a_clear_error(host: str, port: int, problem: str) -> None:
    with pytest.raises(ServerStartError, match=problem):
        ServerThread(create_app(), host=host, port=port).start()


class _Transport:
    """What a connection's transport was asked to write, call by call."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0


def test_a_response_written_in_parts_leaves_in_one_write() -> None:
    async def scenario() -> list[list[bytes]]:
        transport = _Transport()
        corked = Corked(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        corked.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
        corked.write(b"he")
        corked.write(b"llo")
        during = list(transport.writes)
        await asyncio.sleep(0)  # the end of the loop's turn
        after = list(transport.writes)
        corked.write(b"event: done\n\n")  # a stream's next event: its own turn, its own write
        await asyncio.sleep(0)
        return [during, after, transport.writes[len(after) :]]

    during, after, later = asyncio.run(scenario())
    assert during == []
    assert after == [b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"]
    assert later == [b"event: done\n\n"]


def test_closing_a_corked_connection_writes_what_waits_first() -> None:
    async def scenario() -> tuple[list[bytes], bool, int]:
        transport = _Transport()
        corked = Corked(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        corked.write(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
        corked.close()
        written = list(transport.writes)
        corked.write(b"too late")  # to a closing transport: dropped, as the transport would
        await asyncio.sleep(0)
        return written, transport.closed, corked.get_write_buffer_size()

    written, closed, buffered = asyncio.run(scenario())
    assert written == [b"HTTP/1.1 408 Request Timeout\r\n\r\n"]
    assert closed
    assert buffered == 0  # the rest of the transport is the transport's own


def test_a_streamed_response_arrives_whole_over_a_corked_socket() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"one ", b"two ", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b""})

    with (
        ServerThread(app) as server,
        httpx.Client(base_url=server.url) as client,
        client.stream("GET", "/") as response,
    ):
        parts = list(response.iter_raw())
    assert b"".join(parts) == b"one two three"
    assert len(parts) >= 3  # each part left when it was sent, not gathered to the end


def test_a_large_response_is_not_held_back_for_the_end_of_the_turn() -> None:
    async def scenario() -> list[int]:
        transport = _Transport()
        corked = Corked(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        corked.write(b"x" * 100)
        corked.write(b"y" * CORK_LIMIT)  # past the limit: written now, for flow control
        return [len(data) for data in transport.writes]

    assert asyncio.run(scenario()) == [100 + CORK_LIMIT]


def test_the_server_writes_each_connection_corked(
    monkeypatch: pytest.MonkeyPatch, live_server: ServerThread
) -> None:
    gathered: list[int] = []
    real = Corked._write_gathered

    def counted(self: Corked) -> None:
        gathered.append(len(self._gathered))
        real(self)

    monkeypatch.setattr(Corked, "_write_gathered", counted)
    with httpx.Client(base_url=live_server.url, headers=auth("wk_test_corked")) as client:
        assert client.get("/ai/execution-contexts").status_code == 200
    assert 2 in gathered  # the head and the body, in one write
