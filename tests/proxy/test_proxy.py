"""``wacht-mock proxy``: faithful forwarding to a second mock process, streams passed through as
they come, and a drifting upstream reported (or refused with a 502)."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from collections.abc import Iterator

import anyio
import httpx
import pytest
from starlette.types import Receive, Scope, Send

from tests.broken_servers import KEY, broken_app
from tests.helpers import auth, compact_json, started, wacht_mock_process
from wacht_mock.contract.drift import DriftItem
from wacht_mock.core.resources import data_dir
from wacht_mock.core.server import ServerThread
from wacht_mock.core.sse import SseEvent, read_events
from wacht_mock.proxy.server import ContractProxy, ProxyThread

COLLECTION = "/ai/execution-contexts"


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """A second mock, in a process of its own, with the example agent scripts."""
    fixtures = str(data_dir("fixtures") / "agents.yaml")
    command = ("serve", "--port", "0", "--seed", "5", "--fixtures", fixtures)
    with wacht_mock_process(*command, stderr=subprocess.DEVNULL) as process:
        yield started(process).url
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def proxy(upstream: str) -> Iterator[ProxyThread]:
    with ProxyThread(ContractProxy(upstream)) as server:
        yield server


def call(base: str, method: str, path: str, **options: object) -> httpx.Response:
    return httpx.request(method, base + path, headers=auth(), timeout=10, **options)  # type: ignore[arg-type]


def test_requests_and_answers_pass_through_unchanged(proxy: ProxyThread, upstream: str) -> None:
    created = call(proxy.url, "POST", COLLECTION, json={"title": "Through", "context_group": "g"})
    assert created.status_code == 200
    context_id = created.json()["id"]
    path = f"{COLLECTION}/{context_id}"
    for method, target in (("GET", path), ("GET", f"{COLLECTION}?context_group=g&limit=5")):
        via, direct = call(proxy.url, method, target), call(upstream, method, target)
        assert (via.status_code, via.content) == (direct.status_code, direct.content)
        assert via.headers["content-type"] == direct.headers["content-type"]
    missing = call(proxy.url, "GET", f"{COLLECTION}/0")
    assert missing.status_code == 404
    assert missing.json() == {"errors": [{"message": "Execution context 0 not found", "code": 404}]}
    assert [entry.status for entry in proxy.proxy.journal.entries()] == [200, 200, 200, 404]
    deleted = call(proxy.url, "DELETE", path)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert [name for name, _ in deleted.headers.multi_items()].count("date") == 1
    assert proxy.proxy.drift.items() == []


def test_headers_of_a_fault_pass_through(proxy: ProxyThread) -> None:
    context_id = call(proxy.url, "POST", COLLECTION, json={"title": "Sales"}).json()["id"]
    body = {"agent_name": "sales-bot", "execution_type": {"new_message": {"message": "plans?"}}}
    first = call(proxy.url, "POST", f"{COLLECTION}/{context_id}/execute", json=body)
    limited = call(proxy.url, "POST", f"{COLLECTION}/{context_id}/execute", json=body)
    assert (first.status_code, limited.status_code) == (200, 429)
    assert limited.headers["retry-after"] == "2"
    assert proxy.proxy.drift.items() == []


def test_a_stream_passes_through_event_by_event(proxy: ProxyThread) -> None:
    context_id = call(proxy.url, "POST", COLLECTION, json={"title": "Support"}).json()["id"]
    body = {"agent_name": "support-bot", "execution_type": {"stream": {"message": "hello"}}}
    url = f"{proxy.url}{COLLECTION}/{context_id}/execute"
    with httpx.stream("POST", url, json=body, headers=auth(), timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = b"".join(response.iter_raw())
    events, complete = read_events(raw)
    assert complete
    assert [e.event for e in events][:1] + [e.event for e in events][-1:] == [
        "message_start",
        "message_end",
    ]
    deltas = "".join(json.loads(e.data)["text"] for e in events if e.event == "content_delta")
    assert json.loads(events[-1].data)["response"]["content"] == deltas
    assert proxy.proxy.drift.items() == []
    assert proxy.proxy.journal.entries()[-1].violations == ()


class GatedStream:
    """An upstream whose stream stops after its first event until the test opens the gate."""

    def __init__(self, data: str = '{"text":"Hi"}') -> None:
        self.gate = threading.Event()
        self.second = data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = {"execution_id": "1", "conversation_id": "2", "message_id": "3"}
        reply = {
            "message_id": "3",
            "role": "assistant",
            "content": "Hi",
            "tool_calls": [],
            "reasoning": None,
            "structured_output": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
            "stop_reason": "end_turn",
        }
        end = {
            "execution_id": "1",
            "conversation_id": "2",
            "status": "completed",
            "response": reply,
        }
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        first = SseEvent("message_start", json.dumps(start), "1").encode()
        await send({"type": "http.response.body", "body": first, "more_body": True})
        await anyio.to_thread.run_sync(self.gate.wait)
        rest = SseEvent("content_delta", self.second, "2").encode()
        rest += SseEvent("message_end", json.dumps(end), "3").encode()
        await send({"type": "http.response.body", "body": rest})


def stream_through(upstream: GatedStream, *, fail_on_violation: bool = False) -> list[SseEvent]:
    body = {"agent_name": "a", "execution_type": {"stream": {"message": "hi"}}}
    with ProxiedUpstream(upstream, fail_on_violation) as (server, _):
        url = f"{server.url}{COLLECTION}/1/execute"
        with httpx.stream("POST", url, json=body, headers=auth(), timeout=10) as response:
            chunks = response.iter_raw()
            first = next(chunks)  # arrives while the upstream is still held at its gate
            upstream.gate.set()
            raw = first + b"".join(chunks)
    assert read_events(first)[0][0].event == "message_start"
    return read_events(raw)[0]


class ProxiedUpstream:
    """An upstream app on a socket, and a proxy in front of it."""

    def __init__(self, app: object, fail_on_violation: bool = False) -> None:
        self.app = app
        self.fail_on_violation = fail_on_violation

    def __enter__(self) -> tuple[ProxyThread, ServerThread]:
        self.upstream = ServerThread(self.app).start()  # type: ignore[arg-type]
        proxy = ContractProxy(self.upstream.url, fail_on_violation=self.fail_on_violation)
        self.proxy = ProxyThread(proxy).start()
        return self.proxy, self.upstream

    def __exit__(self, *exc: object) -> None:
        self.proxy.stop()
        self.upstream.stop()


def test_events_are_forwarded_before_the_upstream_finishes() -> None:
    events = stream_through(GatedStream())
    assert [event.event for event in events] == ["message_start", "content_delta", "message_end"]


def test_a_drifting_upstream_is_reported_field_by_field() -> None:
    with ProxiedUpstream(broken_app("wrong field type")) as (server, _):
        headers = auth(KEY)
        created = httpx.post(server.url + COLLECTION, json={"title": "t"}, headers=headers)
        assert created.status_code == 200  # forwarded as it came
        for _ in range(2):
            httpx.get(server.url + COLLECTION, params={"limit": 3}, headers=headers)
        httpx.get(f"{server.url}{COLLECTION}/{created.json()['id']}", headers=headers)
        report = server.proxy.drift
        entries = server.proxy.journal.entries()
    items = {(item.operation, item.where): item for item in report.items()}
    listed = items[("GET /ai/execution-contexts", "body /data/*/deployment_id")]
    assert (listed.direction, listed.rule, listed.count) == ("response", "type", 6)
    assert "expected a string, got 1318083740092477912 (an integer)" in listed.example
    assert items[("POST /ai/execution-contexts", "body /deployment_id")].count == 1
    assert items[("GET /ai/execution-contexts/{context_id}", "body /deployment_id")].count == 1
    assert entries[0].violations == (
        "contract violation (response): body /deployment_id: expected a string, "
        "got 1318083740092477912 (an integer)",
    )
    assert "Contract drift: 8 violations of 3 kinds" in report.text()


def test_a_bad_request_is_forwarded_and_noted(proxy: ProxyThread) -> None:
    response = call(proxy.url, "POST", COLLECTION, json={"title": "t", "titel": "x"})
    assert response.status_code == 400  # the upstream's own answer
    (item,) = proxy.proxy.drift.items()
    assert item == DriftItem(
        "request",
        "POST /ai/execution-contexts",
        "body /titel",
        "unknown field",
        1,
        "body /titel: unknown field (not in the contract); did you mean 'title'?",
    )


def test_fail_on_violation_answers_502_in_the_envelope() -> None:
    with ProxiedUpstream(broken_app("wrong field type"), fail_on_violation=True) as (server, _):
        drifted = httpx.post(server.url + COLLECTION, json={"title": "t"}, headers=auth(KEY))
        clean = httpx.get(f"{server.url}{COLLECTION}/0", headers=auth(KEY))
    assert drifted.status_code == 502
    assert drifted.json() == {
        "errors": [
            {
                "message": "The upstream response breaks the contract: body /deployment_id: "
                "expected a string, got 1318083740092477912 (an integer)",
                "code": 502,
            }
        ]
    }
    assert clean.status_code == 404


def test_fail_on_violation_ends_a_drifting_stream_with_an_error_event() -> None:
    events = stream_through(GatedStream(data='{"text": 5}'), fail_on_violation=True)
    assert [event.event for event in events] == ["message_start", "error"]
    (error,) = json.loads(events[-1].data)["errors"]
    assert error["code"] == 502
    assert "event 2 (content_delta) data /text: expected a string, got 5" in error["message"]


def test_an_unreachable_upstream_is_a_502() -> None:
    with ServerThread(broken_app("filter ignored")) as gone:
        url = gone.url
    with ProxyThread(ContractProxy(url)) as server:
        response = httpx.get(server.url + COLLECTION, headers=auth())
    assert response.status_code == 502
    assert response.json()["errors"][0]["message"].startswith(f"Upstream {url} failed")


def test_the_proxy_writes_its_errors_as_the_mock_writes_its_own(live_server: ServerThread) -> None:
    mock_error = httpx.get(f"{live_server.url}{COLLECTION}/nope", headers=auth())
    with ServerThread(broken_app("filter ignored")) as gone:
        url = gone.url
    with ProxyThread(ContractProxy(url)) as server:
        proxy_error = httpx.get(server.url + COLLECTION, headers=auth())
    events = stream_through(GatedStream(data='{"text": 5}'), fail_on_violation=True)
    assert (mock_error.status_code, proxy_error.status_code) == (404, 502)
    for answer in (mock_error, proxy_error):
        assert answer.headers["content-type"] == "application/json"
        assert answer.content == compact_json(answer.json())
    assert events[-1].data.encode() == compact_json(json.loads(events[-1].data))


def test_the_command_prints_the_drift_report_when_stopped(upstream: str) -> None:
    with wacht_mock_process("proxy", "--upstream", upstream, "--port", "0") as process:
        url = started(process).url
        assert call(url, "GET", COLLECTION, params={"limit": 0}).status_code == 400
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Contract drift: 1 violation of 1 kind" in out
    assert "query limit: expected an integer of at least 1, got 0" in out
    assert "query limit: expected an integer of at least 1, got 0" in err
    assert out.rstrip().endswith("wacht-mock proxy stopped")
