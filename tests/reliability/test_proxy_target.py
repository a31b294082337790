"""Item 2 of the attack: the proxy connects to its upstream only, whatever the request target says.

A target beginning with ``@`` was appended to the upstream URL, so the upstream's host:port became
credentials and the request went to the host after the ``@`` (with ``Authorization: Basic`` of
the upstream address). The URL is now built from the parsed path and query only, and a target
that is not origin-form (``/path?query``) is refused with a 400 in the envelope.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.types import Receive, Scope, Send

from wacht_mock.core.server import ServerThread
from wacht_mock.proxy.server import ContractProxy, ProxyThread

from .support import envelope_message, raw_exchange


class Witness:
    """An upstream that answers 200 and remembers every request it was sent."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes, dict[bytes, bytes]]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.seen.append((scope["method"], scope["raw_path"], dict(scope["headers"])))
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})


@pytest.fixture
def two_upstreams() -> Iterator[tuple[Witness, ServerThread, Witness, ServerThread]]:
    first, second = Witness(), Witness()
    with ServerThread(first) as one, ServerThread(second) as two:
        yield first, one, second, two


def _send(port: int, target: str) -> tuple[int, bytes]:
    request = f"GET {target} HTTP/1.1\r\nHost: proxy\r\nConnection: close\r\n\r\n"
    response = raw_exchange(port, request.encode("latin-1"))
    assert response is not None
    return response.status, response.body


@pytest.mark.parametrize(
    "target",
    [
        "@127.0.0.1:{other}/anything",
        "@127.0.0.1:{other}",
        "http://127.0.0.1:{other}/anything",
        "127.0.0.1:{other}",
        "*",
    ],
)
def test_a_target_not_in_origin_form_is_refused_and_goes_nowhere(
    two_upstreams: tuple[Witness, ServerThread, Witness, ServerThread], target: str
) -> None:
    first, one, second, two = two_upstreams
    with ProxyThread(ContractProxy(one.url)) as proxy:
        status, body = _send(proxy.port, target.format(other=two.port))
    # Whatever the target names, nothing reaches the other server.
    assert second.seen == []
    if status == 200:
        # httptools (uvicorn's fast parser) reads an absolute-form target as its path: the
        # request goes to the configured upstream, at that path, and nowhere else.
        assert target.startswith("http://")
        assert [raw for _, raw, _ in first.seen] == [b"/anything"]
        return
    assert status == 400
    assert first.seen == []
    # httptools refuses some targets itself, before any app sees them; h11 passes them on,
    # and the proxy refuses them in the envelope.
    if body != PARSER_REFUSAL:
        assert "origin-form" in envelope_message(400, body)


PARSER_REFUSAL = b"Invalid HTTP request received."


def test_an_origin_form_target_reaches_the_upstream_path_it_names(
    two_upstreams: tuple[Witness, ServerThread, Witness, ServerThread],
) -> None:
    first, one, second, two = two_upstreams
    with ProxyThread(ContractProxy(one.url + "/base")) as proxy:
        status, _ = _send(proxy.port, f"//127.0.0.1:{two.port}/x%2Fy?a=1&b=%40")
    assert status == 200
    assert second.seen == []
    ((method, raw_path, headers),) = first.seen
    assert (method, raw_path) == ("GET", f"/base//127.0.0.1:{two.port}/x%2Fy".encode())
    assert b"authorization" not in headers
