"""What the reliability tests share: a served mock, tenant snapshots, envelopes, raw sockets."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from wacht_mock.core.server import ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock

COLLECTION = "/ai/execution-contexts"
PAGE_LIMIT = 100


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def message_body(message: str = "Help me reset my password", agent: str = "support-bot") -> Any:
    return {"agent_name": agent, "execution_type": {"new_message": {"message": message}}}


def stream_body(message: str = "Stream it", agent: str = "support-bot") -> Any:
    return {"agent_name": agent, "execution_type": {"stream": {"message": message}}}


@dataclass
class Served:
    """A mock on a real socket, and the mock itself (its journal, its engine)."""

    mock: WachtMock
    server: ServerThread

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=auth(key), timeout=30)

    @property
    def answered(self) -> int:
        """How many requests the mock has answered so far (a mark for :meth:`server_errors`)."""
        return self.mock.journal.total

    def server_errors(self, since: int = 0) -> list[str]:
        """Journal lines of the requests after ``since`` answered with a 5xx, or not at all."""
        entries = self.mock.journal.entries(since)
        return [entry.summary() for entry in entries if entry.status >= 500 or entry.error]


@contextmanager
def served(config: MockConfig | None = None) -> Iterator[Served]:
    mock = WachtMock(config or MockConfig(seed=7))
    with ServerThread(create_app(mock)) as server:
        yield Served(mock, server)


# -- what a tenant holds --------------------------------------------------------------------


def walk(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    """Every item of a paged list, page by page."""
    items: list[dict[str, Any]] = []
    while True:
        response = client.get(path, params={"limit": PAGE_LIMIT, "offset": len(items)})
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["data"]
        if not page["has_more"]:
            return items


def tenant_state(client: httpx.Client) -> dict[str, Any]:
    """The tenant's whole visible state: every context, and every context's conversation."""
    contexts = walk(client, COLLECTION)
    return {
        "contexts": contexts,
        "history": {c["id"]: walk(client, f"{COLLECTION}/{c['id']}/messages") for c in contexts},
    }


# -- error envelopes ------------------------------------------------------------------------


def envelope_message(status: int, body: bytes | str) -> str:
    """The message of a ``{"errors": [{"message", "code"}]}`` body whose code is ``status``."""
    parsed = json.loads(body)
    assert isinstance(parsed, dict), body
    assert list(parsed) == ["errors"], body
    (error,) = parsed["errors"]
    assert set(error) == {"message", "code"}, body
    assert error["code"] == status, body
    assert isinstance(error["message"], str), body
    assert error["message"], body
    message: str = error["message"]
    return message


# -- raw HTTP over a socket -----------------------------------------------------------------


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def raw_exchange(port: int, request: bytes, timeout: float = 5.0) -> RawResponse | None:
    """Send bytes as they are, read one response; None if the server closed without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        return read_response(connection)


def read_response(connection: socket.socket) -> RawResponse | None:
    """One HTTP/1.1 response (Content-Length framed, as the mock's JSON answers are)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return RawResponse(int(status_line.split()[1]), headers, body[:length])


def raw_request(
    method: str,
    path: str,
    key: str,
    body: bytes = b"",
    *,
    content_type: str | None = "application/json",
    extra: str = "",
) -> bytes:
    """An HTTP/1.1 request with the given bytes, and a Content-Length that matches them."""
    lines = [f"{method} {path} HTTP/1.1", "Host: mock", f"Authorization: Bearer {key}"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode("latin-1") + body
