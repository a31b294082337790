"""The whole story on the command line: ``wacht-mock proxy --record DIR`` in front of a second
``wacht-mock serve`` with scripts of its own; the upstream stopped; ``wacht-mock serve --fixtures
DIR`` answering the same requests."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

from tests.helpers import started, wacht_mock_process
from tests.proxy.test_recording import SECRET, UPSTREAM_SCRIPTS, execute, session, without_ids
from wacht_mock.core.cassette import DEFAULT_KEY_ALIAS


@contextmanager
def running(*arguments: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A `python -m wacht_mock` process and the URL from its startup line."""
    with wacht_mock_process(*arguments, "--port", "0") as process:
        url = started(process).url
        try:
            yield url, process
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)


def files_under(directory: Path) -> Sequence[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


def test_record_through_the_proxy_then_serve_the_recording(tmp_path: Path) -> None:
    scripts = tmp_path / "upstream.yaml"
    scripts.write_text(yaml.safe_dump({"agents": UPSTREAM_SCRIPTS}))
    recording = tmp_path / "recording"
    with running("serve", "--seed", "3", "--fixtures", str(scripts)) as (upstream, _):
        proxy_args = ("--upstream", upstream, "--record", str(recording))
        with running("proxy", *proxy_args, "--record-timing", "exact") as (proxy, process):
            assert process.stdout is not None
            assert (
                process.stdout.readline() == f"recording into {recording} as {DEFAULT_KEY_ALIAS}\n"
            )
            recorded = session(proxy, SECRET)
    # the upstream has stopped: the recording alone answers now
    with running("serve", "--fixtures", str(recording)) as (replay, _):
        replayed = session(replay, DEFAULT_KEY_ALIAS)
        with httpx.Client(
            base_url=replay, headers={"Authorization": f"Bearer {DEFAULT_KEY_ALIAS}"}
        ) as client:
            context = replayed["created"][0]["id"]
            body = execute("new_message", "never recorded")
            missed = client.post(f"/ai/execution-contexts/{context}/execute", json=body)

    assert [c["id"] for c in replayed["created"]] == [c["id"] for c in recorded["created"]]
    for name in ("refund", "password", "stream", "broken"):
        assert without_ids(replayed[name]) == without_ids(recorded[name])
    assert (
        replayed["refund"]["response"]["tool_calls"] == recorded["refund"]["response"]["tool_calls"]
    )
    assert [[(t["role"], t["blocks"]) for t in h] for h in replayed["history"]] == [
        [(t["role"], t["blocks"]) for t in h] for h in recorded["history"]
    ]
    assert missed.status_code == 404
    message = missed.json()["errors"][0]["message"]
    assert "agent 'support-bot'" in message
    assert "'never recorded'" in message
    assert "-message: 'refund?'\n+message: 'never recorded'" in message
    assert files_under(recording)
    for path in files_under(recording):
        assert SECRET not in path.read_text()
