"""``wacht-mock serve`` as people run it all day: settings from anywhere, a request log, errors
in one line, state kept across restarts."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.helpers import auth, started, wacht_mock_process
from wacht_mock.cli.main import main
from wacht_mock.cli.options import BatchedLines, TextFormatter


@contextmanager
def serving(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``wacht-mock serve ARGS`` in a process of its own; yields it and its URL."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WACHT_MOCK_")}
    with wacht_mock_process("serve", *args, cwd=cwd, env={**environment, **(env or {})}) as process:
        assert process.stdout is not None
        line, url = started(process)
        head = [line, process.stdout.readline()]  # the line of what was loaded
        if "--state" in args:
            head.append(process.stdout.readline())
        process.head = "".join(head)  # type: ignore[attr-defined]
        try:
            yield process, url
        finally:
            if process.poll() is None:
                process.kill()


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    return process.head + out, err  # type: ignore[attr-defined]


@pytest.fixture
def one_line_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., str]:
    """Run ``wacht-mock ARGS`` (in this process) expecting exit 2 and one line on stderr."""
    for name in [name for name in os.environ if name.startswith("WACHT_MOCK_")]:
        monkeypatch.delenv(name)

    def run(*args: str, env: dict[str, str] | None = None) -> str:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        assert main(list(args)) == 2
        out, err = capsys.readouterr()
        assert out == ""
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("wacht-mock: error: ")
        return lines[0]

    return run


def test_serve_twice_on_one_port_is_one_line_and_exit_2() -> None:
    with serving("--port", "0") as (_, url):
        port = url.rsplit(":", 1)[1]
        second = subprocess.run(
            [sys.executable, "-m", "wacht_mock", "serve", "--port", port],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert second.returncode == 2
    assert second.stdout == ""
    assert second.stderr == (
        f"wacht-mock: error: port {port} on 127.0.0.1 is already in use (another wacht-mock?): "
        "stop that process, or choose another port with --port (0 picks a free one)\n"
    )


def test_proxy_on_a_busy_port_is_one_line_and_exit_2(one_line_error: Callable[..., str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        line = one_line_error("proxy", "--upstream", "http://127.0.0.1:9", "--port", port)
    assert f"port {port} on 127.0.0.1 is already in use" in line


@pytest.mark.parametrize(
    ("args", "env", "problem"),
    [
        (
            ["serve", "--port", "99999"],
            {},
            "--port: expected an integer from 0 to 65535, got 99999",
        ),
        (["serve", "--port", "http"], {}, "--port: expected an integer, got 'http'"),
        (["serve", "--host", "no-such-host.invalid"], {}, "cannot listen on host"),
        (["proxy", "--upstream", "http://x", "--port", "-1"], {}, "--port: expected an integer"),
        (["serve"], {"WACHT_MOCK_PORT": "many"}, "WACHT_MOCK_PORT: expected an integer"),
        (["serve"], {"WACHT_MOCK_STRICT_AGENTS": "maybe"}, "expected true or false, got 'maybe'"),
        (["serve", "--port", "0", "--state-interval", "5"], {}, "goes with --state FILE"),
    ],
)
def test_bad_settings_are_one_line_and_exit_2(
    args: list[str], env: dict[str, str], problem: str, one_line_error: Callable[..., str]
) -> None:
    assert problem in one_line_error(*args, env=env)


def test_a_missing_fixture_is_one_line_naming_where_it_looked(
    one_line_error: Callable[..., str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert one_line_error("serve", "--port", "0", "--fixtures", "bots.yaml") == (
        f"wacht-mock: error: bots.yaml: no such fixture file or folder (looked in {tmp_path})"
    )


def test_the_port_and_more_come_from_the_environment() -> None:
    env = {"WACHT_MOCK_PORT": "0", "WACHT_MOCK_FIXTURES": "examples", "WACHT_MOCK_PROT": "1"}
    with serving(env=env) as (process, url):
        assert httpx.get(f"{url}/_mock/health").json()["status"] == "ok"
        out, err = stop(process)
    assert "scripted agents (orders-bot, sales-bot, support-bot)" in out
    assert "WACHT_MOCK_PROT is not a wacht-mock setting (did you mean WACHT_MOCK_PORT?)" in err


def test_settings_come_from_pyproject_and_flags_win(tmp_path: Path) -> None:
    (tmp_path / "mock").mkdir()
    (tmp_path / "mock" / "bots.yaml").write_text(
        "agents:\n  triage-bot: {reply: hi}\n"
        "deployments:\n  wk_test_demo:\n    contexts: [{title: a}, {title: b}]\n"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[tool.wacht-mock]\nport = 1\nfixtures = ["mock/bots.yaml"]\nstrict-agents = true\n'
    )
    (tmp_path / "sub").mkdir()
    with serving("--port", "0", cwd=tmp_path / "sub") as (process, url):
        headers = auth("wk_test_demo")
        listed = httpx.get(f"{url}/ai/execution-contexts", headers=headers).json()
        out, _ = stop(process)
    assert [c["title"] for c in listed["data"]] == ["b", "a"]
    assert "loaded 2 contexts (wk_test_…: 2) and 1 scripted agent (triage-bot)" in out


def test_an_unknown_pyproject_key_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_line_error: Callable[..., str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.wacht-mock]\nprot = 0\n")
    monkeypatch.chdir(tmp_path)
    assert one_line_error("serve") == (
        f"wacht-mock: error: {tmp_path / 'pyproject.toml'} [tool.wacht-mock] prot: not a "
        "setting (did you mean port?)"
    )


def walk(url: str) -> None:
    """Create, get, list, execute, history, a bad request and a delete."""
    with httpx.Client(base_url=url, headers=auth()) as client:
        context = client.post("/ai/execution-contexts", json={"title": "Log"}).json()
        item = f"/ai/execution-contexts/{context['id']}"
        client.get(item)
        client.get("/ai/execution-contexts", params={"limit": 5})
        body = {"agent_name": "support-bot", "execution_type": {"new_message": {"message": "Hi"}}}
        client.post(item + "/execute", json=body)
        client.get(item + "/messages")
        client.patch(item, json={"system_instruction": "typo"})
        client.delete(item)


def test_one_log_line_per_request() -> None:
    with serving("--port", "0") as (process, url):
        walk(url)
        _, err = stop(process)
    lines = err.splitlines()
    assert len(lines) == 7, err
    assert "POST /ai/execution-contexts 200" in lines[0]
    assert "GET /ai/execution-contexts?limit=5 200" in lines[2]
    assert " ms support-bot [default agent (no script for 'support-bot')]" in lines[3]
    assert "PATCH" in lines[5]
    assert "400" in lines[5]
    assert "did you mean 'system_instructions'?" in lines[5]
    assert " 204 " in lines[6]


def test_the_log_in_json_and_its_level() -> None:
    with serving("--port", "0", "--log-format", "json") as (process, url):
        walk(url)
        _, err = stop(process)
    records = [json.loads(line) for line in err.splitlines()]
    assert [r["status"] for r in records] == [200, 200, 200, 200, 200, 400, 204]
    assert records[3]["agent"] == "support-bot"
    assert records[5]["violations"]
    assert {"time", "level", "method", "path", "duration_ms"} <= set(records[0])
    with serving("--port", "0", "--log-level", "warning") as (process, url):
        walk(url)
        _, err = stop(process)
    assert err == ""


def test_no_uvicorn_noise_for_drops_and_malformed_requests(tmp_path: Path) -> None:
    (tmp_path / "drop.yaml").write_text("faults:\n  - {operation: list, drop: true}\n")
    with serving("--port", "0", "--fixtures", str(tmp_path / "drop.yaml")) as (process, url):
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"{url}/ai/execution-contexts", headers=auth())
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as raw:
            raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            raw.recv(1024)
        _, err = stop(process)
    assert "ASGI callable" not in err
    assert "Invalid HTTP request" not in err
    (line,) = err.splitlines()
    assert "GET /ai/execution-contexts dropped" in line
    assert "[fault 1: list: drop]" in line


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with serving("--port", "0", "--state", str(state)) as (process, url):
        created = httpx.post(
            f"{url}/ai/execution-contexts", json={"title": "Kept"}, headers=auth()
        ).json()
        out, _ = stop(process)
    assert f"state saved to {state}" in out
    with serving("--port", "0", "--state", str(state)) as (process, url):
        kept = httpx.get(f"{url}/ai/execution-contexts/{created['id']}", headers=auth())
        out, _ = stop(process)
    assert kept.json() == created
    assert "1 context restored" in out
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary files left


def test_state_is_saved_every_interval(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with serving("--port", "0", "--state", str(state), "--state-interval", "0.2") as (
        process,
        url,
    ):
        httpx.post(f"{url}/ai/execution-contexts", json={"title": "Soon"}, headers=auth())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "Soon" not in (
            state.read_text() if state.exists() else ""
        ):
            time.sleep(0.05)
        assert "Soon" in state.read_text()
        process.kill()


def test_a_broken_state_file_is_one_line(
    tmp_path: Path, one_line_error: Callable[..., str]
) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json")
    line = one_line_error("serve", "--port", "0", "--state", str(state))
    assert f"{state}: not a wacht-mock state file" in line


class _Stderr(io.StringIO):
    """A stream that counts the writes it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("wacht_mock.requests", logging.INFO, __file__, 0, message, (), None)


def test_request_lines_logged_together_are_one_write_soon_after() -> None:
    stream = _Stderr()
    handler = BatchedLines(stream, delay=0.2)
    handler.setFormatter(TextFormatter())
    try:
        for path in ("/a", "/b", "/c"):
            handler.handle(_record(f"GET {path} 200 0.1 ms"))
        assert stream.getvalue() == ""  # the logging thread did not wait for a system call
        deadline = time.monotonic() + 5
        while not stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        lines = stream.getvalue().splitlines()
        assert [line.split(" ", 1)[1] for line in lines] == [
            f"INFO    GET {path} 200 0.1 ms" for path in ("/a", "/b", "/c")
        ]
        assert stream.writes == 1
        assert re.fullmatch(r"\d\d:\d\d:\d\d", lines[0].split(" ")[0])
        handler.handle(_record("GET /d 200 0.1 ms"))  # the writer sleeps again, then wakes
        while len(stream.getvalue().splitlines()) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stream.getvalue().splitlines()[3].endswith("GET /d 200 0.1 ms")
    finally:
        handler.close()


def test_flush_and_close_write_what_waits_at_once() -> None:
    stream = _Stderr()
    handler = BatchedLines(stream, delay=60)
    handler.handle(_record("GET /a 200 0.1 ms"))
    handler.flush()  # as logging does at exit
    assert stream.getvalue() == "GET /a 200 0.1 ms\n"
    handler.handle(_record("GET /b 200 0.1 ms"))
    handler.close()
    assert stream.getvalue() == "GET /a 200 0.1 ms\nGET /b 200 0.1 ms\n"
    handler.handle(_record("stopped"))  # after close: written at once
    assert stream.getvalue().endswith("\nstopped\n")


class _BrokenOnce(_Stderr):
    """A stream whose first write fails, as a closed pipe's would."""

    def write(self, text: str) -> int:
        if not self.writes:
            self.writes += 1
            raise BrokenPipeError("the reader went away")
        return super().write(text)


def test_a_failed_write_is_reported_and_the_lines_after_it_are_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stream = _BrokenOnce()
    handler = BatchedLines(stream, delay=0.01)
    try:
        handler.handle(_record("GET /lost 200 0.1 ms"))
        deadline = time.monotonic() + 5
        while not stream.writes and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
        handler.handle(_record("GET /after 200 0.1 ms"))
        while "after" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stream.getvalue() == "GET /after 200 0.1 ms\n"  # the writer lived on
    finally:
        handler.close()
    assert "BrokenPipeError" in capsys.readouterr().err  # said, as logging says it


def test_lines_a_stuck_stream_cannot_take_are_counted_not_kept() -> None:
    stream = _Stderr()
    handler = BatchedLines(stream, delay=60)  # the writer waits: nothing is written meanwhile
    handler.MAX_WAITING = 3
    for n in range(5):
        handler.handle(_record(f"GET /{n} 200 0.1 ms"))
    handler.close()
    assert stream.getvalue().splitlines() == [
        *(f"GET /{n} 200 0.1 ms" for n in range(3)),
        "(2 log lines dropped: the log stream did not take them)",
    ]


def test_serve_logs_through_the_batching_handler() -> None:
    # In a process of its own: configuring logging here would change this session's.
    code = (
        "import logging; from wacht_mock.cli.options import configure_logging; "
        "configure_logging('info', 'text'); "
        "print([type(h).__name__ for h in logging.getLogger().handlers])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['BatchedLines']"


def test_the_text_format_writes_a_plain_line_as_logging_would() -> None:
    formatter = TextFormatter()
    plain = formatter.format(_record("GET /a 200 0.1 ms"))
    with_args = logging.LogRecord(
        "wacht_mock.requests", logging.INFO, __file__, 0, "GET %s 200 %.1f ms", ("/a", 0.1), None
    )
    with_args.created = _record("").created
    assert formatter.format(with_args).split(" ", 1)[1] == plain.split(" ", 1)[1]
    assert plain.split(" ", 1)[1] == "INFO    GET /a 200 0.1 ms"
    try:
        raise ValueError("broken")
    except ValueError:
        failed = logging.LogRecord(
            "wacht_mock", logging.ERROR, __file__, 0, "internal error", (), sys.exc_info()
        )
    lines = formatter.format(failed).splitlines()
    assert lines[0].endswith("ERROR   internal error")
    assert lines[-1] == "ValueError: broken"


@pytest.mark.parametrize("level", [logging.INFO, logging.WARNING])
def test_a_request_line_without_its_record_is_written_as_its_record_would_be(level: int) -> None:
    stream = _Stderr()
    handler = BatchedLines(stream, delay=60)
    handler.setFormatter(TextFormatter())
    record = _record("GET /a 200 0.1 ms")
    record.levelno, record.levelname = level, logging.getLevelName(level)
    handler.handle(record)
    handler.request_line(level, "GET /a 200 0.1 ms")
    handler.close()
    by_record, by_line = stream.getvalue().splitlines()
    assert by_line.split(" ", 1)[1] == by_record.split(" ", 1)[1]
    assert by_line.split(" ", 1)[1] == f"{logging.getLevelName(level):<7} GET /a 200 0.1 ms"
    assert re.fullmatch(r"\d\d:\d\d:\d\d", by_line.split(" ")[0])


def test_serve_hands_its_text_request_lines_straight_to_its_handler() -> None:
    # In a process of its own: configuring logging here would change this session's.
    code = (
        "import logging; from wacht_mock.cli.options import configure_logging; "
        "from wacht_mock.core import recording; "
        "configure_logging('info', 'text'); "
        "print(recording._line_sink == logging.getLogger().handlers[0].request_line); "
        "configure_logging('info', 'json'); print(recording._line_sink)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "None"]


class _HeldAppend(deque[str]):
    """The handler's queue, holding the append of a line marked `late` until `go` is set: the
    logging thread is caught between its check of the handler and its append."""

    def __init__(self, go: threading.Event) -> None:
        super().__init__()
        self.go, self.held = go, threading.Event()

    def append(self, line: str) -> None:
        if "late" in line:
            self.held.set()
            self.go.wait(5)
        super().append(line)


def test_a_line_logged_while_the_handler_closes_is_written_after_the_others() -> None:
    stream, go = _Stderr(), threading.Event()
    handler = BatchedLines(stream, delay=60)
    handler.setFormatter(TextFormatter())
    queue = handler._waiting = _HeldAppend(go)
    handler.request_line(logging.INFO, "GET /a 200 0.1 ms")
    late = threading.Thread(target=handler.request_line, args=(logging.INFO, "GET /late 200"))
    late.start()
    assert queue.held.wait(5)
    handler.close()  # its last flush runs while the late line is on its way
    go.set()
    late.join(5)
    assert [line.split("INFO", 1)[1].strip() for line in stream.getvalue().splitlines()] == [
        "GET /a 200 0.1 ms",
        "GET /late 200",
    ]
