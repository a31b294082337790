"""Capture on miss (``wacht-mock proxy --record DIR --record-missing``): the recording answers,
and only the executions it lacks go to the upstream, are recorded, and are answered from the
recording next time."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.helpers import auth
from tests.proxy.test_recording import SECRET, execute, session, upstream_mock
from wacht_mock.cli.main import main
from wacht_mock.core.cassette import DEFAULT_KEY_ALIAS
from wacht_mock.core.server import ServerThread
from wacht_mock.proxy.recorder import FixtureRecorder
from wacht_mock.proxy.server import ContractProxy, ProxyThread
from wacht_mock.service.app import create_app
from wacht_mock.testing.replay import MockReplay

COLLECTION = "/ai/execution-contexts"


def test_only_the_misses_reach_the_upstream(tmp_path: Path) -> None:
    upstream = upstream_mock()
    with ServerThread(create_app(upstream)) as server:
        recorder = FixtureRecorder(tmp_path, upstream=server.url)
        with ProxyThread(ContractProxy(server.url, recorder=recorder)) as proxy:
            recorded = session(proxy.url, SECRET)
        calls_before = upstream.engine.agent("support-bot").call_count

        replay = MockReplay.of(tmp_path)
        recorder = FixtureRecorder(tmp_path, upstream=server.url, on_write=replay.recorded)
        capture = ContractProxy(server.url, recorder=recorder, upstream_key=SECRET, replay=replay)
        with (
            ProxyThread(capture) as proxy,
            httpx.Client(base_url=proxy.url, headers=auth(DEFAULT_KEY_ALIAS)) as client,
        ):
            made = client.post(COLLECTION, json={"title": "Orders", "context_group": "support"})
            assert made.json()["id"] == recorded["created"][0]["id"]
            url = f"{COLLECTION}/{made.json()['id']}/execute"
            known = client.post(url, json=execute("new_message", "refund?"))
            new = [client.post(url, json=execute("new_message", "refund, again?")) for _ in "ab"]
        assert upstream.engine.agent("support-bot").call_count == calls_before + 1

    assert known.json()["response"]["content"] == "Refund for Orders started."
    assert [r.json()["response"]["content"] for r in new] == ["Refund for Orders started."] * 2
    assert "message: refund, again?" in (tmp_path / "agent.support-bot.yaml").read_text()
    assert all(SECRET not in p.read_text() for p in tmp_path.iterdir())


def test_record_missing_goes_with_record(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["proxy", "--upstream", "http://127.0.0.1:9", "--record-missing"])
    assert code == 2
    assert "--record-missing goes with --record DIR" in capsys.readouterr().err
