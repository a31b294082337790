"""Recorded fixtures in the mock: contexts with their ids, timestamps and histories, contexts
created again with their recorded ids, replay misses in the envelope, recorded stream pacing."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import auth, pacing_error
from wacht_mock import MockConfig, WachtMock
from wacht_mock.core.server import ServerThread
from wacht_mock.core.sse import read_events
from wacht_mock.service.app import create_app
from wacht_mock.service.fixtures import FixtureError

KEY = "wk_test_recorded"
FOUND = "7391082350012416000"
CREATED = "7391082350012416001"
RECORDING = f"""
deployments:
  {KEY}:
    contexts:
      - id: "{FOUND}"
        title: Found
        context_group: support
        status: active
        created_at: "2026-03-01T10:00:00.000000Z"
        updated_at: "2026-03-01T10:05:00.000000Z"
        last_activity_at: "2026-03-01T10:05:00.000000Z"
        completed_at: "2026-03-01T10:05:00.000000Z"
        execution_state:
          execution_id: "7391082350012416100"
          conversation_id: "7391082350012416101"
          agent_name: support-bot
          status: completed
          pending_input_request: null
          error: null
        history:
          - id: "7391082350012416102"
            execution_id: "7391082350012416100"
            role: user
            created_at: "2026-03-01T10:05:00.000000Z"
            blocks: [{{type: text, text: "Hi"}}]
          - id: "7391082350012416103"
            execution_id: "7391082350012416100"
            role: assistant
            created_at: "2026-03-01T10:05:00.000000Z"
            blocks: [{{type: text, text: "Hello!"}}]
      - id: "{CREATED}"
        title: Renamed later
        created_at: "2026-03-02T09:00:00.000000Z"
        updated_at: "2026-03-02T09:30:00.000000Z"
        last_activity_at: "2026-03-02T09:30:00.000000Z"
        created_by: {{title: Created in the session}}
agents:
  support-bot:
    strict: true
    rules:
      - when: {{context_id: "{FOUND}", kind: continue}}
        reply: "Continuing."
      - when: {{context_id: "{CREATED}", kind: stream, message: "Stream it"}}
        reply:
          text: "one two three"
          chunking: ["one ", "two ", "three"]
          timing: [0.05, 0.15, 0.25, 0.35, 0.45]
"""


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "recording.yaml"
    path.write_text(RECORDING)
    return path


@pytest.fixture
def server(recording: Path) -> ServerThread:
    with ServerThread(create_app(MockConfig(fixtures=[recording]))) as server:
        yield server


def client(server: ServerThread) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers=auth(KEY), timeout=10)


def test_a_found_context_is_there_with_its_id_timestamps_and_history(server: ServerThread) -> None:
    with client(server) as http:
        context = http.get(f"/ai/execution-contexts/{FOUND}").json()
        history = http.get(f"/ai/execution-contexts/{FOUND}/messages").json()["data"]
        listed = [c["id"] for c in http.get("/ai/execution-contexts").json()["data"]]
        continued = http.post(
            f"/ai/execution-contexts/{FOUND}/execute",
            json={"agent_name": "support-bot", "execution_type": {"continue": {}}},
        )
    assert (context["created_at"], context["updated_at"]) == (
        "2026-03-01T10:00:00.000000Z",
        "2026-03-01T10:05:00.000000Z",
    )
    assert context["execution_state"]["conversation_id"] == "7391082350012416101"
    assert [(t["role"], t["blocks"][0]["text"]) for t in history] == [
        ("user", "Hi"),
        ("assistant", "Hello!"),
    ]
    assert listed == [FOUND]  # the created one waits for its create request
    assert continued.status_code == 200
    assert continued.json()["response"]["content"] == "Continuing."
    assert continued.json()["conversation_id"] == "7391082350012416101"


def test_the_same_create_gets_the_recorded_id_once(server: ServerThread) -> None:
    with client(server) as http:
        other = http.post("/ai/execution-contexts", json={"title": "Something else"}).json()
        again = http.post("/ai/execution-contexts", json={"title": "Created in the session"})
        twice = http.post("/ai/execution-contexts", json={"title": "Created in the session"})
    assert other["id"] not in (FOUND, CREATED)
    assert again.json()["id"] == CREATED
    assert again.json()["title"] == "Created in the session"  # as created, not as last seen
    assert again.json()["created_at"] == "2026-03-02T09:00:00.000000Z"
    assert twice.json()["id"] not in (FOUND, CREATED, other["id"])


def streamed(http: httpx.Client, url: str, body: object) -> tuple[bytes, list[float]]:
    started = time.monotonic()
    arrivals, raw = [], b""
    with http.stream("POST", url, json=body) as stream:
        for chunk in stream.iter_raw():
            raw += chunk
            arrivals += [time.monotonic() - started] * chunk.count(b"\n\n")
    return raw, arrivals


def test_a_recorded_stream_keeps_its_chunks_and_pacing(server: ServerThread) -> None:
    body = {"agent_name": "support-bot", "execution_type": {"stream": {"message": "Stream it"}}}
    planned = [0.05, 0.15, 0.25, 0.35, 0.45]
    worst = []
    with client(server) as http:
        created = http.post("/ai/execution-contexts", json={"title": "Created in the session"})
        url = f"/ai/execution-contexts/{created.json()['id']}/execute"
        for _ in range(5):  # a shared machine can delay any one run; the pacing must hold in one
            raw, arrivals = streamed(http, url, body)
            worst.append(pacing_error(arrivals, planned))
            if worst[-1] < 0.02:
                break
    events, _ = read_events(raw)
    assert [e.event for e in events] == [
        "message_start",
        "content_delta",
        "content_delta",
        "content_delta",
        "message_end",
    ]
    assert [e.data for e in events[1:4]] == [
        '{"text":"one "}',
        '{"text":"two "}',
        '{"text":"three"}',
    ]
    assert min(worst) < 0.02, worst


def test_a_request_never_recorded_is_a_404_naming_the_closest_recording(
    server: ServerThread,
) -> None:
    body = {"agent_name": "support-bot", "execution_type": {"new_message": {"message": "Hi"}}}
    with client(server) as http:
        missed = http.post(f"/ai/execution-contexts/{FOUND}/execute", json=body)
    assert missed.status_code == 404
    (error,) = missed.json()["errors"]
    assert error["code"] == 404
    assert error["message"].startswith(
        f"Replay miss: agent 'support-bot' has no recording of new_message 'Hi' in context {FOUND}"
    )
    assert "-kind: 'continue'\n+kind: 'new_message'" in error["message"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (('id: "7391082350012416000"', 'id: "ctx_1"'), "expected a decimal id"),
        (('created_at: "2026-03-01T10:00:00.000000Z"', 'created_at: "yesterday"'), "yesterday"),
        (("status: active", "status: sleeping"), "/context/status: Input should be"),
    ],
)
def test_a_broken_recorded_context_names_the_file_and_the_context(
    tmp_path: Path, change: tuple[str, str], fragment: str
) -> None:
    path = tmp_path / "recording.yaml"
    path.write_text(RECORDING.replace(*change, 1))
    with pytest.raises(FixtureError, match=rf"recording.yaml: {KEY}: context .*{fragment}"):
        WachtMock(MockConfig(fixtures=[path]))
