"""Item 5 of the attack: a stream ends with its client, is recorded as the client saw it, and a
server stopping with streams in flight stops quietly.

``EventStream`` never checked for a disconnect: an abandoned stream ran its whole scripted length,
its execution was recorded ``completed`` though the client received nothing of the end, and on
shutdown every stream in flight logged a ``CancelledError`` traceback.
"""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx

from tests.helpers import KEY, auth, started, wacht_mock_process
from wacht_mock import ServerThread, WachtMock, create_app

from .support import stream_body

SLOW_WORDS = " ".join(f"w{n}" for n in range(100))  # 100 chunks, 0.1 s apart: 10 s in all


def _open_stream(port: int, context_id: str) -> socket.socket:
    body = httpx.Request("POST", "http://m/", json=stream_body(agent="slow")).read()
    head = (
        f"POST /ai/execution-contexts/{context_id}/execute HTTP/1.1\r\nHost: m\r\n"
        f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
    connection.sendall(head.encode() + body)
    received = b""
    while received.count(b"\n\n") < 2:  # the head, then the first event
        received += connection.recv(65536)
    return connection


def test_a_stream_stops_when_its_client_goes_and_says_what_it_delivered() -> None:
    mock = WachtMock()
    mock.engine.agent("slow").reply(SLOW_WORDS, chunking="word", chunk_delay=0.1)
    with (
        ServerThread(create_app(mock)) as server,
        httpx.Client(base_url=server.url, headers=auth(), timeout=10) as client,
    ):
        context = client.post("/ai/execution-contexts", json={"title": "Gone"}).json()
        connection = _open_stream(server.port, context["id"])
        left = time.perf_counter()
        connection.close()
        while not mock.journal.entries() or mock.journal.entries()[-1].outcome is None:
            assert time.perf_counter() - left < 2, "the stream ran on after its client left"
            time.sleep(0.02)
        entry = mock.journal.entries()[-1]
        assert entry.outcome is not None
        assert entry.outcome.startswith("interrupted: the client disconnected after ")
        assert "of 102 events" in entry.outcome
        assert "after 103 " not in entry.outcome
        state = client.get(f"/ai/execution-contexts/{context['id']}").json()
        assert state["execution_state"]["status"] == "interrupted"
        assert state["execution_state"]["error"]["code"] == 499
        assert "disconnected" in state["execution_state"]["error"]["message"]
        assert state["completed_at"] is None
        assert client.get("/ai/execution-contexts").status_code == 200
    (run,) = mock.executions.runs.select()  # what was given stays; the run says how it ended
    assert (run.status, run.kind) == ("interrupted", "stream")
    assert run.run_state.task.message is not None


def test_a_stream_read_to_its_end_is_completed() -> None:
    mock = WachtMock()
    with (
        ServerThread(create_app(mock)) as server,
        httpx.Client(base_url=server.url, headers=auth(), timeout=10) as client,
    ):
        context = client.post("/ai/execution-contexts", json={"title": "Whole"}).json()
        url = f"/ai/execution-contexts/{context['id']}/execute"
        with client.stream("POST", url, json=stream_body()) as response:
            response.read()
        assert mock.journal.entries()[-1].outcome is None
        state = client.get(f"/ai/execution-contexts/{context['id']}").json()
        assert state["execution_state"]["status"] == "completed"


def test_many_abandoned_streams_leave_no_task_behind() -> None:
    mock = WachtMock()
    mock.engine.agent("slow").reply(SLOW_WORDS, chunking="word", chunk_delay=0.1)
    with (
        ServerThread(create_app(mock)) as server,
        httpx.Client(base_url=server.url, headers=auth(), timeout=10) as client,
    ):
        context = client.post("/ai/execution-contexts", json={"title": "Many"}).json()
        connections = [_open_stream(server.port, context["id"]) for _ in range(20)]
        for connection in connections:
            connection.close()
        deadline = time.perf_counter() + 3
        while server.server.server_state.tasks and time.perf_counter() < deadline:
            time.sleep(0.02)
        assert not server.server.server_state.tasks
        interrupted = [e for e in mock.journal.entries() if e.outcome]
        assert len(interrupted) == 20


def test_stopping_with_streams_in_flight_is_quiet(tmp_path: Path) -> None:
    fixture = tmp_path / "slow.yaml"
    fixture.write_text(
        f"agents:\n  slow: {{reply: {{text: '{SLOW_WORDS}', chunking: word, chunk_delay: 0.1}}}}\n"
    )
    with wacht_mock_process("serve", "--port", "0", "--fixtures", str(fixture)) as process:
        url = started(process).url
        port = int(url.rsplit(":", 1)[1])
        with httpx.Client(base_url=url, headers=auth(), timeout=10) as client:
            context = client.post("/ai/execution-contexts", json={"title": "Stop"}).json()
        streams = [_open_stream(port, context["id"]) for _ in range(3)]
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
        for connection in streams:
            connection.close()
    assert process.returncode == 0, err
    assert "Traceback" not in err, err
    assert "CancelledError" not in err, err
    assert "wacht-mock stopped" in out
