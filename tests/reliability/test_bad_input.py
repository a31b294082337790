"""A corpus of bad requests: each gets a 4xx in the error envelope, never a 500, changes nothing.

Every case runs against a tenant that already holds contexts and conversations; its whole state
(every context and every conversation) is read before and after, and must be identical. The
journal must show no server error. Cases that HTTP itself frames badly (a request line or a
header the HTTP parser refuses) never reach the mock: uvicorn answers those with its own plain
400, checked separately.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from .support import (
    COLLECTION,
    Served,
    auth,
    envelope_message,
    message_body,
    raw_exchange,
    raw_request,
    read_response,
    served,
    stream_body,
    tenant_state,
)

KEY = "wk_test_badinput"
MIB = 1024 * 1024
JSON = "application/json"
ITEM = COLLECTION + "/{id}"
EXECUTE = ITEM + "/execute"
MESSAGES = ITEM + "/messages"
DEEP = 10_000


@dataclass(frozen=True)
class Seeded:
    """The served mock, a client of its tenant, and the ids of the contexts it starts with."""

    live: Served
    client: httpx.Client
    ids: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.ids[0]


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    with served() as live, live.client(KEY) as client:
        support = {"title": "Support", "context_group": "support"}
        first = client.post(COLLECTION, json=support).json()["id"]
        client.post(f"{COLLECTION}/{first}/execute", json=message_body())
        with client.stream("POST", f"{COLLECTION}/{first}/execute", json=stream_body()) as r:
            r.read()
        second = client.post(COLLECTION, json={"title": "Archive", "status": "archived"}).json()
        third = client.post(COLLECTION, json={"title": "Plain"}).json()
        yield Seeded(live, client, (first, second["id"], third["id"]))


@dataclass(frozen=True)
class Bad:
    """One bad request and the status it must get."""

    name: str
    method: str
    path: str
    status: int
    body: bytes = b""
    content_type: str | None = JSON
    headers: dict[str, str] = field(default_factory=dict)

    def target(self, context_id: str) -> str:
        return self.path.replace("{id}", context_id)


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _nested(depth: int, opening: str, closing: str, inner: str = "1") -> bytes:
    return (opening * depth + inner + closing * depth).encode()


def malformed_json() -> list[Bad]:
    bodies = {
        "empty body": b"",
        "lone brace": b"{",
        "missing value": b'{"title": }',
        "truncated string": b'{"title": "Customer Sup',
        "truncated after comma": b'{"title": "x", ',
        "trailing comma": b'{"title": "x",}',
        "single quotes": b"{'title': 'x'}",
        "two documents": b'{"title": "x"} {"title": "y"}',
        "unquoted key": b'{title: "x"}',
        "NaN": b'{"title": NaN}',
        "Infinity": b'{"title": "x", "status": Infinity}',
        "byte order mark": b'\xef\xbb\xbf{"title": "x"}',
        "null document": b"null",
        "array document": b'[{"title": "x"}]',
        "string document": b'"title"',
        "number document": b"12345",
        "comment": b'{"title": "x" /* c */}',
    }
    cases = [Bad(f"create, {name}", "POST", COLLECTION, 400, body) for name, body in bodies.items()]
    truncated = b'{"agent_name": "a", "execution_type": {"new_message": {"message": "hel'
    cases.append(Bad("execute, truncated", "POST", EXECUTE, 400, truncated))
    cases.append(Bad("update, truncated", "PATCH", ITEM, 400, b'{"title": "Upd'))
    cases.append(Bad("update, array", "PATCH", ITEM, 400, b"[]"))
    return cases


def deep_nesting() -> list[Bad]:
    arrays = b'{"title": ' + _nested(DEEP, "[", "]") + b"}"
    objects = _nested(DEEP, '{"a": ', "}")
    in_execute = b'{"agent_name": "a", "execution_type": ' + _nested(DEEP, '{"x": ', "}") + b"}"
    return [
        Bad("create, 10,000 nested arrays", "POST", COLLECTION, 400, arrays),
        Bad("create, 10,000 nested objects", "POST", COLLECTION, 400, objects),
        Bad("update, 10,000 nested arrays", "PATCH", ITEM, 400, arrays),
        Bad("execute, 10,000 nested objects", "POST", EXECUTE, 400, in_execute),
        Bad("create, 900 nested arrays", "POST", COLLECTION, 400, _nested(900, "[", "]")),
    ]


def huge_values() -> list[Bad]:
    def execute(message: str, **extra: object) -> bytes:
        new_message: dict[str, object] = {"message": message, **extra}
        return _json({"agent_name": "a", "execution_type": {"new_message": new_message}})

    return [
        Bad("title of 256", "POST", COLLECTION, 400, _json({"title": "t" * 256})),
        Bad("title just under 1 MiB", "POST", COLLECTION, 400, _json({"title": "t" * (MIB - 20)})),
        Bad(
            "instructions of 65,537",
            "POST",
            COLLECTION,
            400,
            _json({"title": "t", "system_instructions": "i" * 65_537}),
        ),
        Bad("group of 256", "PATCH", ITEM, 400, _json({"context_group": "g" * 256})),
        Bad("key of 100,000", "POST", COLLECTION, 400, _json({"k" * 100_000: 1, "title": "t"})),
        Bad("message of 65,537", "POST", EXECUTE, 400, execute("m" * 65_537)),
        Bad(
            "agent name of 256",
            "POST",
            EXECUTE,
            400,
            _json({"agent_name": "a" * 256, "execution_type": {"new_message": {"message": "m"}}}),
        ),
        Bad("101 files", "POST", EXECUTE, 400, execute("m", files=["f"] * 101)),
        Bad("file name of 4,097", "POST", EXECUTE, 400, execute("m", files=["f" * 4097])),
        Bad("number of 5,000 digits", "PATCH", ITEM, 400, b'{"title": ' + b"9" * 5000 + b"}"),
    ]


def wrong_content_types() -> list[Bad]:
    body = _json({"title": "Typed"})
    types: dict[str, str | None] = {
        "none": None,
        "empty": "",
        "text/plain": "text/plain",
        "form": "application/x-www-form-urlencoded",
        "multipart": "multipart/form-data; boundary=x",
        "xml": "application/xml",
        "jsonx": "application/jsonx",
        "bare json": "json",
    }
    cases = [Bad(f"create as {n}", "POST", COLLECTION, 415, body, t) for n, t in types.items()]
    cases.append(Bad("update as text", "PATCH", ITEM, 415, body, "text/plain"))
    cases.append(Bad("execute as form", "POST", EXECUTE, 415, _json(message_body()), types["form"]))
    return cases


def bad_encodings() -> list[Bad]:
    bodies = {
        "invalid byte": b'{"title": "\xff"}',
        "overlong encoding": b'{"title": "\xc0\xaf"}',
        "truncated sequence": b'{"title": "\xe2\x82"}',
        "encoded surrogate": b'{"title": "\xed\xa0\x80"}',
        "escaped lone surrogate": b'{"title": "\\ud800"}',
        "UTF-16 body": '{"title": "x"}'.encode("utf-16"),
        "raw NUL in a string": b'{"title": "a\x00b"}',
        "NUL after the document": b'{"title": "x"}\x00',
        "raw newline in a string": b'{"title": "a\nb"}',
    }
    cases = [Bad(f"create, {name}", "POST", COLLECTION, 400, body) for name, body in bodies.items()]
    cases.append(Bad("update, invalid byte", "PATCH", ITEM, 400, bodies["invalid byte"]))
    execute = b'{"agent_name": "\xff", "execution_type": {"new_message": {"message": "m"}}}'
    cases.append(Bad("execute, invalid byte", "POST", EXECUTE, 400, execute))
    return cases


def duplicate_keys() -> list[Bad]:
    nested = b'{"agent_name": "a", "execution_type": {"new_message": '
    nested += b'{"message": "x", "message": "y"}}}'
    return [
        Bad("create, title twice", "POST", COLLECTION, 400, b'{"title": "a", "title": "b"}'),
        Bad("update, status twice", "PATCH", ITEM, 400, b'{"status": "active", "status": "x"}'),
        Bad("execute, nested twice", "POST", EXECUTE, 400, nested),
    ]


def bad_bodies() -> list[Bad]:
    def execute(execution_type: object, agent: object = "a") -> bytes:
        return _json({"agent_name": agent, "execution_type": execution_type})

    return [
        Bad("create, no title", "POST", COLLECTION, 400, b"{}"),
        Bad(
            "create, a platform status",
            "POST",
            COLLECTION,
            400,
            _json({"title": "t", "status": "idle"}),
        ),
        Bad("create, title a number", "POST", COLLECTION, 400, _json({"title": 5})),
        Bad("create, unknown status", "POST", COLLECTION, 400, _json({"title": "t", "status": 1})),
        Bad("create, unknown field", "POST", COLLECTION, 400, _json({"title": "t", "x": 1})),
        Bad("update, title a number", "PATCH", ITEM, 400, _json({"title": 5})),
        Bad("update, unknown status", "PATCH", ITEM, 400, _json({"status": "paused"})),
        Bad("update, status paused", "PATCH", ITEM, 400, _json({"status": "paused"})),
        Bad("update, id", "PATCH", ITEM, 400, _json({"id": "1"})),
        Bad("execute, two variants", "POST", EXECUTE, 400, execute({"continue": {}, "stream": {}})),
        Bad("execute, no variant", "POST", EXECUTE, 400, execute({})),
        Bad("execute, unknown variant", "POST", EXECUTE, 400, execute({"replay": {}})),
        Bad(
            "execute, platform null variants",
            "POST",
            EXECUTE,
            400,
            execute({"stream": {"message": "hi"}, "cancel": None}),
        ),
        Bad("execute, files a string", "POST", EXECUTE, 400, execute({"continue": {"files": "f"}})),
        Bad("execute, agent a list", "POST", EXECUTE, 400, execute({"continue": {}}, ["a"])),
        Bad("execute, message on continue", "POST", EXECUTE, 400, execute({"continue": {"m": 1}})),
    ]


def path_tricks() -> list[Bad]:
    ids = {
        "dot dot encoded": "%2e%2e",
        "encoded slash": "1%2F..%2F2",
        "placeholder": "ctx_123",
        "negative": "-1",
        "plus": "+1",
        "zero": "0",
        "leading zero": "0{id}",
        "trailing space": "{id}%20",
        "trailing NUL": "{id}%00",
        "NUL": "%00",
        "invalid percent byte": "%ff",
        "accented": "%C3%A9",
        "star": "*",
        "sql": "1%3BDROP%20TABLE%20contexts",
        "exponent": "1e3",
        "5,000 digits": "9" * 5000,
    }
    templates = {"get": ("GET", ITEM), "update": ("PATCH", ITEM), "delete": ("DELETE", ITEM)}
    templates |= {"execute": ("POST", EXECUTE), "history": ("GET", MESSAGES)}
    cases = []
    for name, trick in ids.items():
        for action, (method, path) in templates.items():
            body = b"" if method in ("GET", "DELETE") else _body_for(path)
            target = path.replace("{id}", trick, 1)
            cases.append(Bad(f"{action}, id {name}", method, target, 404, body))
    return cases


def _body_for(path: str) -> bytes:
    return _json(message_body()) if path.endswith("/execute") else _json({"title": "Tricked"})


def bad_queries() -> list[Bad]:
    values = {
        "limit": ["0", "101", "-1", "ten", "1.5", "1e2", "", "%205", "+5", "0x10", "%D9%A3"],
        "offset": ["-1", "x", "1.0", "", "9" * 5000, "%00"],
        "status": ["ACTIVE", "", "running", "active,inactive", "%00"],
    }
    cases = [
        Bad(f"list, {name}={value[:12]!r}", "GET", f"{COLLECTION}?{name}={value}", 400)
        for name, options in values.items()
        for value in options
    ]
    for name in ("limit", "offset", "status", "context_group"):
        value = "active" if name == "status" else "1"
        query = f"{name}={value}&{name}={value}"
        cases.append(Bad(f"list, {name} twice", "GET", f"{COLLECTION}?{query}", 400))
    for query in ("limit=0", "limit=101", "limit=x", "offset=-1", "limit=1&limit=2"):
        cases.append(Bad(f"history, {query}", "GET", f"{MESSAGES}?{query}", 400))
    return cases


def oversized() -> list[Bad]:
    big = _json({"title": "t" * (2 * MIB)})
    huge_message = _json(message_body("m" * (2 * MIB)))
    return [
        Bad("create, 2 MiB", "POST", COLLECTION, 413, big),
        Bad("update, 2 MiB", "PATCH", ITEM, 413, big),
        Bad("execute, 2 MiB message", "POST", EXECUTE, 413, huge_message),
    ]


def wrong_methods() -> list[Bad]:
    return [
        Bad("PUT the collection", "PUT", COLLECTION, 405, _json({"title": "t"})),
        Bad("DELETE the collection", "DELETE", COLLECTION, 405),
        Bad("POST an item", "POST", ITEM, 405, _json({"title": "t"})),
        Bad("PUT an item", "PUT", ITEM, 405, _json({"title": "t"})),
        Bad("GET execute", "GET", EXECUTE, 405),
        Bad("PATCH history", "PATCH", MESSAGES, 405, b"{}"),
        Bad("unknown path", "GET", "/ai/execution-context", 404),
        Bad("unknown nested path", "GET", ITEM + "/nothing", 404),
    ]


def bad_auth() -> list[Bad]:
    body = _json({"title": "Unauthorised"})

    def with_key(name: str, value: str) -> Bad:
        headers = {"Authorization": value}
        return Bad(f"create, {name}", "POST", COLLECTION, 401, body, headers=headers)

    return [
        with_key("no key", ""),
        with_key("bearer only", "Bearer"),
        with_key("basic auth", "Basic d2s6dGVzdA=="),
        with_key("malformed key", "Bearer wk_prod_abc"),
        with_key("key with a dash", "Bearer wk_test_a-b"),
    ]


CORPUS = [
    *malformed_json(),
    *deep_nesting(),
    *huge_values(),
    *wrong_content_types(),
    *bad_encodings(),
    *duplicate_keys(),
    *bad_bodies(),
    *path_tricks(),
    *bad_queries(),
    *oversized(),
    *wrong_methods(),
    *bad_auth(),
]


def _send(seeded: Seeded, case: Bad) -> httpx.Response:
    headers = {**auth(KEY), **case.headers}
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    target = case.target(seeded.id)
    return seeded.client.request(case.method, target, content=case.body, headers=headers)


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_a_bad_request_gets_a_4xx_envelope_and_changes_nothing(seeded: Seeded, case: Bad) -> None:
    before, mark = tenant_state(seeded.client), seeded.live.answered
    response = _send(seeded, case)
    assert response.status_code == case.status, response.text[:300]
    envelope_message(case.status, response.content)
    assert tenant_state(seeded.client) == before
    assert seeded.live.server_errors(mark) == []


# -- framing: only a raw socket can send these ----------------------------------------------


def _unchanged_after(seeded: Seeded, send: bytes) -> int:
    """Send raw bytes; the status answered, its body checked to be an error envelope."""
    client = seeded.client
    before, mark = tenant_state(client), seeded.live.answered
    answer = raw_exchange(seeded.live.port, send)
    assert answer is not None
    if answer.status >= 400:
        envelope_message(answer.status, answer.body)
    assert tenant_state(client) == before
    assert seeded.live.server_errors(mark) == []
    return answer.status


def test_a_declared_length_over_the_limit_is_refused_unread(seeded: Seeded) -> None:
    head = raw_request("POST", COLLECTION, KEY).replace(
        b"Content-Length: 0", f"Content-Length: {10 * 1024 * MIB}".encode()
    )
    assert _unchanged_after(seeded, head + b'{"title": "') == 413


def test_a_chunked_body_over_the_limit_is_refused(seeded: Seeded) -> None:
    head = (
        f"POST {COLLECTION} HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer {KEY}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    chunk = b"%x\r\n%s\r\n" % (256 * 1024, b" " * (256 * 1024))
    assert _unchanged_after(seeded, head + b'2\r\n{"\r\n' + chunk * 8 + b"0\r\n\r\n") == 413


@pytest.mark.parametrize(
    "raw_id", ["..", ".", "%2e%2e/%2e%2e", "{id}/..", "{id}/../{id}", "{id}/"], ids=repr
)
def test_raw_path_tricks_never_reach_another_resource(seeded: Seeded, raw_id: str) -> None:
    """Dot segments are sent as they are: no client normalises them away."""
    path = f"{COLLECTION}/{raw_id.replace('{id}', seeded.id)}"
    status = _unchanged_after(seeded, raw_request("DELETE", path, KEY, content_type=None))
    assert status in (404, 405, 307)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /ai/execution-contexts HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer wk_\x00a\r\n\r\n",
        b"HELLO\r\n\r\n",
        b"POST /ai/execution-contexts HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer wk_test_b\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\n{}\r\n0\r\n\r\n",
        b"POST /ai/execution-contexts HTTP/1.1\r\nHost: m\r\nContent-Length: -5\r\n\r\n",
    ],
    ids=["NUL in a header", "no request line", "bad chunk size", "negative length"],
)
def test_what_http_itself_refuses_is_a_plain_400_and_harmless(
    seeded: Seeded, request_bytes: bytes
) -> None:
    """Refused by the HTTP parser before the mock sees a request: uvicorn's own 400, no envelope."""
    client = seeded.client
    before, mark = tenant_state(client), seeded.live.answered
    answer = raw_exchange(seeded.live.port, request_bytes)
    assert answer is None or answer.status == 400
    assert tenant_state(client) == before
    assert seeded.live.server_errors(mark) == []


# -- slow and abandoned clients -------------------------------------------------------------


def test_a_body_abandoned_halfway_changes_nothing_and_is_no_server_error(seeded: Seeded) -> None:
    body = _json({"title": "Never finished"})
    request = raw_request("POST", COLLECTION, KEY, body)
    live = seeded.live
    client = seeded.client
    before, mark = tenant_state(client), live.answered
    with socket.create_connection(("127.0.0.1", live.port)) as connection:
        connection.sendall(request[: len(request) - len(body) // 2])
    _wait_until(lambda: live.answered > mark)
    assert tenant_state(client) == before
    (abandoned,) = [e for e in live.mock.journal.entries(mark) if e.method == "POST"]
    assert abandoned.status == 499  # nginx's "client closed request", and no server error
    assert live.server_errors(mark) == []


def test_a_trickled_bad_body_gets_its_400(seeded: Seeded) -> None:
    request = raw_request("POST", COLLECTION, KEY, b'{"title": "slow", "title": "x"}')
    client = seeded.client
    before = tenant_state(client)
    with socket.create_connection(("127.0.0.1", seeded.live.port), timeout=10) as connection:
        for start in range(0, len(request), 7):
            connection.sendall(request[start : start + 7])
            time.sleep(0.002)
        answer = read_response(connection)
    assert answer is not None
    assert answer.status == 400
    assert "twice" in envelope_message(400, answer.body)
    assert tenant_state(client) == before


def test_stalled_and_vanishing_clients_do_not_stop_others(seeded: Seeded) -> None:
    partial = f"GET {COLLECTION} HTTP/1.1\r\nHost: mock\r\nAuthoriz".encode()
    mark = seeded.live.answered
    stalled = [socket.create_connection(("127.0.0.1", seeded.live.port)) for _ in range(30)]
    try:
        for connection in stalled:
            connection.sendall(partial)
        for _ in range(10):  # clients that ask and leave without reading the answer
            with socket.create_connection(("127.0.0.1", seeded.live.port)) as gone:
                gone.sendall(raw_request("GET", COLLECTION, KEY, content_type=None))
        client = seeded.client
        assert client.get(f"{COLLECTION}/{seeded.id}").status_code == 200
    finally:
        for connection in stalled:
            connection.close()
    client = seeded.client
    assert len(tenant_state(client)["contexts"]) == len(seeded.ids)
    assert seeded.live.server_errors(mark) == []


def _wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the mock never got to it"
        time.sleep(0.01)
