"""Recording through the proxy: a session against an upstream mock with scripts of its own,
written as fixture files, then replayed by a mock that never saw those scripts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers import auth, pacing_error
from wacht_mock.cli.main import main
from wacht_mock.core.cassette import DEFAULT_KEY_ALIAS
from wacht_mock.core.clock import FrozenClock
from wacht_mock.core.server import ServerThread
from wacht_mock.core.sse import read_events
from wacht_mock.proxy.recorder import FixtureRecorder, parse_timing
from wacht_mock.proxy.server import ContractProxy, ProxyThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock

COLLECTION = "/ai/execution-contexts"
SECRET = "wk_live_upstreamS3cretKey42"
UPSTREAM_SCRIPTS: dict[str, Any] = {
    "support-bot": {
        "rules": [
            {
                "when": {"message_contains": "refund"},
                "reply": {
                    "reasoning": "Check the order {{first}}.",
                    "tool_calls": [
                        {"name": "lookup_order", "args": {"id": "A1"}, "result": {"ok": True}}
                    ],
                    "text": "Refund for {context.title} started.",
                    "usage": {"input_tokens": 11, "output_tokens": 22},
                },
            },
            {"when": {"message_contains": "password"}, "reply": {"ask": "Which email?"}},
            {
                "when": {"message_contains": "slow"},
                "reply": {
                    "text": "one two three four",
                    "tool_calls": [{"name": "note", "args": {"n": 1}}],
                    "latency": 0.1,
                    "chunk_delay": 0.08,
                },
            },
            {
                "when": {"message_contains": "break"},
                "reply": {
                    "text": "cut short here",
                    "fault": {"mode": "error", "after_events": 2, "code": 503},
                },
            },
        ],
        "sequence": ["First answer", "Second answer"],
    },
    "busy-bot": {"reply": {"fault": {"status": 429, "retry_after": 7}}},
}


def execute(kind: str, message: str | None = None, agent: str = "support-bot") -> dict[str, Any]:
    variant = {} if message is None else {"message": message}
    return {"agent_name": agent, "execution_type": {kind: variant}}


def upstream_mock(**options: Any) -> WachtMock:
    mock = WachtMock(MockConfig(seed=3, **options))
    mock.engine.load(UPSTREAM_SCRIPTS)
    return mock


@pytest.fixture
def upstream() -> Iterator[ServerThread]:
    with ServerThread(create_app(upstream_mock())) as server:
        yield server


def stream(client: httpx.Client, url: str, body: Any) -> tuple[list[list[Any]], list[float]]:
    """The events (name, data) and when each arrived, in seconds from the request."""
    started = time.monotonic()
    arrivals: list[float] = []
    raw = b""
    with client.stream("POST", url, json=body) as response:
        for chunk in response.iter_raw():
            raw += chunk
            arrivals += [time.monotonic() - started] * chunk.count(b"\n\n")
    events, _ = read_events(raw)
    return [[e.event, json.loads(e.data)] for e in events], arrivals


def session(base: str, key: str) -> dict[str, Any]:
    """Two contexts, one updated, executions (two new_message, streams), histories, a list."""
    seen: dict[str, Any] = {}
    with httpx.Client(base_url=base, headers=auth(key), timeout=10) as client:
        one = client.post(COLLECTION, json={"title": "Orders", "context_group": "support"}).json()
        two = client.post(COLLECTION, json={"title": "Accounts"}).json()
        seen["created"] = [one, two]
        seen["updated"] = client.patch(
            f"{COLLECTION}/{two['id']}", json={"title": "Renamed"}
        ).json()
        run = f"{COLLECTION}/{one['id']}/execute"
        seen["refund"] = client.post(run, json=execute("new_message", "refund?")).json()
        ask = client.post(
            f"{COLLECTION}/{two['id']}/execute", json=execute("new_message", "password")
        )
        seen["password"] = ask.json()
        seen["stream"], seen["arrivals"] = stream(client, run, execute("stream", "slow"))
        seen["broken"], _ = stream(client, run, execute("stream", "break"))
        busy = client.post(run, json=execute("new_message", "hi", "busy-bot"))
        seen["busy"] = (busy.status_code, busy.headers.get("retry-after"), busy.json())
        seen["history"] = [
            client.get(f"{COLLECTION}/{c['id']}/messages").json()["data"] for c in (one, two)
        ]
        seen["contexts"] = client.get(COLLECTION).json()["data"]
    return seen


def without_ids(value: Any) -> Any:
    """The same data, without the execution, conversation, message and turn ids the mock makes."""
    made = {"execution_id", "conversation_id", "message_id", "created_at", "updated_at", "id"}
    made |= {"last_activity_at", "completed_at"}
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k not in made}
    if isinstance(value, list):
        return [without_ids(item) for item in value]
    return value


def record(upstream: str, directory: Path, **options: Any) -> dict[str, Any]:
    recorder = FixtureRecorder(directory, upstream=upstream, **options)
    with ProxyThread(ContractProxy(upstream, recorder=recorder)) as proxy:
        return session(proxy.url, SECRET)


def replay(directory: Path) -> dict[str, Any]:
    with ServerThread(create_app(MockConfig(fixtures=[directory]))) as server:
        return session(server.url, DEFAULT_KEY_ALIAS)


def test_a_recorded_session_replays_offline(upstream: ServerThread, tmp_path: Path) -> None:
    recorded = record(upstream.url, tmp_path, timing="exact")
    upstream.stop()
    replayed = replay(tmp_path)

    assert [c["id"] for c in replayed["created"]] == [c["id"] for c in recorded["created"]]
    deployment = {"deployment_id": replayed["created"][0]["deployment_id"]}  # the alias's
    assert replayed["created"] == [c | deployment for c in recorded["created"]]  # ids, times
    assert replayed["updated"]["title"] == "Renamed"
    for name in ("refund", "password"):
        assert without_ids(replayed[name]) == without_ids(recorded[name])
    reply = replayed["refund"]["response"]
    assert reply["content"] == "Refund for Orders started."
    assert reply["tool_calls"] == recorded["refund"]["response"]["tool_calls"]  # ids included
    assert reply["usage"] == {"input_tokens": 11, "output_tokens": 22}
    assert reply["reasoning"] == "Check the order {first}."  # braces kept as they were
    assert replayed["password"]["status"] == "waiting_for_input"
    assert without_ids(replayed["stream"]) == without_ids(recorded["stream"])
    assert [name for name, _ in replayed["broken"]] == ["message_start", "content_delta", "error"]
    assert without_ids(replayed["broken"]) == without_ids(recorded["broken"])
    assert replayed["broken"][1:] == recorded["broken"][1:]  # the delta and the error itself
    assert replayed["busy"] == recorded["busy"] == (429, "7", replayed["busy"][2])
    assert [[(t["role"], t["blocks"]) for t in h] for h in replayed["history"]] == [
        [(t["role"], t["blocks"]) for t in h] for h in recorded["history"]
    ]
    assert [c["id"] for c in replayed["contexts"]] == [c["id"] for c in recorded["contexts"]]


def recorded_timing(directory: Path, message: str) -> list[float]:
    document = yaml.safe_load((directory / "agent.support-bot.yaml").read_text())
    (rule,) = [
        r for r in document["agents"]["support-bot"]["rules"] if r["when"].get("message") == message
    ]
    timing: list[float] = rule["reply"]["timing"]
    return timing


def test_exact_timing_replays_the_pacing_within_20_ms(
    upstream: ServerThread, tmp_path: Path
) -> None:
    recorded = record(upstream.url, tmp_path, timing="exact")
    timing = recorded_timing(tmp_path, "slow")
    assert len(timing) == len(recorded["arrivals"]) == 7  # start, 4 deltas, a tool call, end
    assert timing[4] - timing[0] > 0.3  # four chunk delays of 0.08 s, as the upstream paced them
    worst = []
    for _ in range(5):  # a shared machine can delay any one run; the pacing must hold in one
        worst.append(pacing_error(replay(tmp_path)["arrivals"], timing))
        if worst[-1] < 0.02:
            break
    assert min(worst) < 0.02, worst


def test_without_timing_a_recorded_stream_replays_at_once(
    upstream: ServerThread, tmp_path: Path
) -> None:
    record(upstream.url, tmp_path)
    assert "timing" not in (tmp_path / "agent.support-bot.yaml").read_text()
    assert replay(tmp_path)["arrivals"][-1] < 0.2


def test_no_file_holds_the_key_and_each_says_where_it_came_from(
    upstream: ServerThread, tmp_path: Path
) -> None:
    record(upstream.url, tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [
        "agent.busy-bot.yaml",
        "agent.support-bot.yaml",
        f"deployment.{DEFAULT_KEY_ALIAS}.yaml",
    ]
    for name in files:
        text = (tmp_path / name).read_text()
        assert SECRET not in text
        assert text.startswith("# Recorded by wacht-mock ")
        assert f"from {upstream.url} on " in text


def test_the_proxy_can_send_its_own_key_upstream(tmp_path: Path) -> None:
    mock = upstream_mock(api_keys=[SECRET])
    with ServerThread(create_app(mock)) as server:
        recorder = FixtureRecorder(tmp_path, upstream=server.url, key_alias="wk_test_ci")
        proxy = ContractProxy(server.url, recorder=recorder, upstream_key=SECRET)
        with ProxyThread(proxy) as running:
            recorded = session(running.url, "wk_test_ci")  # the client knows only the alias
    assert recorded["refund"]["status"] == "completed"
    assert all(SECRET not in p.read_text() for p in tmp_path.iterdir())
    assert (tmp_path / "deployment.wk_test_ci.yaml").exists()


def test_key_shaped_values_in_bodies_are_masked(tmp_path: Path) -> None:
    mock = upstream_mock()
    mock.engine.agent("leaky-bot").reply("token sk-abcdefghijklmnopqrstu and wk_live_xyz123456")
    with ServerThread(create_app(mock)) as server:
        recorder = FixtureRecorder(tmp_path, upstream=server.url)
        with (
            ProxyThread(ContractProxy(server.url, recorder=recorder)) as proxy,
            httpx.Client(base_url=proxy.url, headers=auth(SECRET)) as client,
        ):
            made = client.post(COLLECTION, json={"title": f"about {SECRET}"}).json()
            body = execute("new_message", "hi", "leaky-bot")
            client.post(f"{COLLECTION}/{made['id']}/execute", json=body)
    text = "".join(p.read_text() for p in tmp_path.iterdir())
    assert "text: token [masked] and [masked]" in text
    assert f"title: about {DEFAULT_KEY_ALIAS}" in text
    assert "sk-abc" not in text
    assert "wk_live" not in text


def frozen_upstream(scripts: dict[str, Any]) -> WachtMock:
    clock = FrozenClock(datetime(2026, 5, 1, tzinfo=UTC))
    mock = WachtMock(MockConfig(seed=3, clock=clock))
    mock.engine.load(scripts)
    return mock


def test_re_recording_gives_the_same_bytes_and_merges(tmp_path: Path) -> None:
    contents = []
    for _ in range(2):
        with ServerThread(create_app(frozen_upstream(UPSTREAM_SCRIPTS))) as server:
            recorder = FixtureRecorder(tmp_path, upstream="http://upstream.example")
            with ProxyThread(ContractProxy(server.url, recorder=recorder)) as proxy:
                session(proxy.url, SECRET)
        contents.append({p.name: p.read_text() for p in sorted(tmp_path.iterdir())})
    assert contents[0] == contents[1]

    changed = json.loads(json.dumps(UPSTREAM_SCRIPTS))
    changed["support-bot"]["rules"][0]["reply"]["text"] = "A newer answer."
    with ServerThread(create_app(frozen_upstream(changed))) as server:
        recorder = FixtureRecorder(tmp_path, upstream="http://upstream.example")
        with (
            ProxyThread(ContractProxy(server.url, recorder=recorder)) as proxy,
            httpx.Client(base_url=proxy.url, headers=auth(SECRET)) as client,
        ):
            one = client.post(COLLECTION, json={"title": "Orders", "context_group": "support"})
            url = f"{COLLECTION}/{one.json()['id']}/execute"
            client.post(url, json=execute("new_message", "refund?"))
    agent = yaml.safe_load((tmp_path / "agent.support-bot.yaml").read_text())
    rules = agent["agents"]["support-bot"]["rules"]
    refunds = [r for r in rules if r["when"].get("message") == "refund?"]
    assert [r["reply"]["text"] for r in refunds] == ["A newer answer."]  # replaced, once
    before = yaml.safe_load(contents[0]["agent.support-bot.yaml"])["agents"]["support-bot"]
    assert len(rules) == len(before["rules"])


def test_the_same_request_twice_in_a_session_is_a_sequence(
    upstream: ServerThread, tmp_path: Path
) -> None:
    recorder = FixtureRecorder(tmp_path, upstream=upstream.url)
    with (
        ProxyThread(ContractProxy(upstream.url, recorder=recorder)) as proxy,
        httpx.Client(base_url=proxy.url, headers=auth(SECRET)) as client,
    ):
        made = client.post(COLLECTION, json={"title": "Twice"}).json()
        url = f"{COLLECTION}/{made['id']}/execute"
        answers = [client.post(url, json=execute("new_message", "again")).json() for _ in range(2)]
    with (
        ServerThread(create_app(MockConfig(fixtures=[tmp_path]))) as server,
        httpx.Client(base_url=server.url, headers=auth(DEFAULT_KEY_ALIAS)) as client,
    ):
        again = client.post(COLLECTION, json={"title": "Twice"}).json()
        url = f"{COLLECTION}/{again['id']}/execute"
        replies = [client.post(url, json=execute("new_message", "again")).json() for _ in range(3)]
    texts = [r["response"]["content"] for r in replies]
    assert (
        texts[:2]
        == [a["response"]["content"] for a in answers]
        == [
            "First answer",
            "Second answer",
        ]
    )
    assert texts[2] == "Second answer"  # then the last one again


@pytest.mark.parametrize(("text", "factor"), [("exact", 1.0), ("scaled:0.5", 0.5), ("none", None)])
def test_timing_modes(text: str, factor: float | None) -> None:
    assert parse_timing(text) == factor


@pytest.mark.parametrize("text", ["fast", "scaled:", "scaled:-1", "scaled:x", "exact:2"])
def test_bad_timing_modes_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--record-timing is exact, scaled:F"):
        parse_timing(text)


def test_bad_requests_pass_through_and_are_not_recorded(
    upstream: ServerThread, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = FixtureRecorder(tmp_path, upstream=upstream.url)
    with (
        ProxyThread(ContractProxy(upstream.url, recorder=recorder)) as proxy,
        httpx.Client(base_url=proxy.url, headers=auth(SECRET)) as client,
    ):
        broken = client.post(
            COLLECTION, content=b"{not json", headers={"content-type": "application/json"}
        )
        made = client.post(COLLECTION, json={"title": "Kept"}).json()
        unknown = client.post(f"{COLLECTION}/0/execute", json=execute("new_message", "hi"))
        bad = client.post(
            f"{COLLECTION}/{made['id']}/execute",
            content=b"[",
            headers={"content-type": "application/json"},
        )
    assert (broken.status_code, unknown.status_code, bad.status_code) == (400, 404, 400)
    assert broken.json()["errors"][0]["message"].startswith("Request body is not valid JSON")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"deployment.{DEFAULT_KEY_ALIAS}.yaml"]
    assert "could not record" not in caplog.text


@pytest.mark.parametrize(
    ("option", "problem"),
    [
        (["--record-timing", "fast"], "--record-timing is exact, scaled:F (F >= 0) or none"),
        (["--record-key-alias", "recorded"], "a key alias is a well-formed test key"),
    ],
)
def test_bad_recording_options_are_usage_errors(
    tmp_path: Path, option: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["proxy", "--upstream", "http://127.0.0.1:9", "--record", str(tmp_path), *option]
    assert main(arguments) == 2
    assert problem in capsys.readouterr().err


def test_a_reply_is_recorded_even_when_the_history_cannot_be_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(upstream_mock())

    async def no_history(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/messages"):
            await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)

    with ServerThread(no_history) as server:
        recorder = FixtureRecorder(tmp_path, upstream=server.url)
        with (
            ProxyThread(ContractProxy(server.url, recorder=recorder)) as proxy,
            httpx.Client(base_url=proxy.url, headers=auth(SECRET)) as client,
        ):
            made = client.post(COLLECTION, json={"title": "Orders"}).json()
            client.post(
                f"{COLLECTION}/{made['id']}/execute", json=execute("new_message", "refund?")
            )
    text = (tmp_path / "agent.support-bot.yaml").read_text()
    assert "text: Refund for Orders started." in text
    assert "result:" not in text  # the tool's result lives in the history it could not read
    assert "recorded without the context's history" in caplog.text
