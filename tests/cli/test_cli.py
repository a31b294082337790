"""``wacht-mock`` from a shell: help, version, serve with no arguments, a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import Started, auth, started, wacht_mock_process
from wacht_mock import __version__
from wacht_mock.cli.main import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"wacht-mock {__version__}"


def test_serve_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    for option in ("--host", "--port", "--seed", "--keys", "--frozen-time"):
        assert option in out


def test_a_bad_key_in_keys_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--keys", "secret"]) == 2
    assert "not a well-formed API key" in capsys.readouterr().err


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], Started]]:
    with wacht_mock_process("serve", "--port", "0", "--keys", "wk_test_alpha") as process:
        yield process, started(process)
        if process.poll() is None:
            process.kill()


def test_serve_prints_where_it_listens_and_stops_on_ctrl_c(
    served: tuple[subprocess.Popen[str], Started],
) -> None:
    process, (line, url) = served
    assert line.startswith(f"wacht-mock {__version__} listening on http://127.0.0.1:")
    assert line.rstrip().endswith("(profile guide; httptools + uvloop; Ctrl-C to stop)")
    assert httpx.get(f"{url}/ai/execution-contexts", headers=auth()).status_code == 200
    assert httpx.get(f"{url}/ai/execution-contexts", headers=auth("wk_test_x")).status_code == 401
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "wacht-mock stopped" in out
    assert "Traceback" not in err


def test_serve_stops_on_sigterm(served: tuple[subprocess.Popen[str], Started]) -> None:
    process, _ = served
    process.terminate()
    assert process.wait(timeout=10) == 0


def test_without_httptools_and_uvloop_serve_falls_back_to_h11_and_asyncio() -> None:
    hide = "import sys; sys.modules.update(httptools=None, uvloop=None); "
    run = "from wacht_mock.cli.main import main; sys.exit(main(['serve', '--port', '0']))"
    with subprocess.Popen(
        [sys.executable, "-c", hide + run],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        line, url = started(process)
        assert line.rstrip().endswith("; h11 + asyncio; Ctrl-C to stop)")
        assert httpx.get(f"{url}/ai/execution-contexts", headers=auth()).status_code == 200
        process.terminate()
        assert process.wait(timeout=10) == 0
