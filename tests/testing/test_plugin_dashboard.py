"""``--wacht-dashboard``: the session's mock served with its dashboard, kept as the first failing
test left it, until Enter is pressed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

FAILING = """
def test_creates_then_fails(wacht_mock):
    client = wacht_mock.client()
    client.post("/ai/execution-contexts", json={"title": "Broken order"})
    assert False, "the client did the wrong thing"


def test_never_runs(wacht_mock):
    wacht_mock.client().post("/ai/execution-contexts", json={"title": "Later"})
"""
LINE = re.compile(r"wacht-mock dashboard: (http://\S+/_mock/ui/) \(token (\S+)\); press Enter")


def test_the_dashboard_shows_the_failing_tests_mock_until_enter(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(FAILING)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WACHT_MOCK_")}
    command = [sys.executable, "-m", "pytest", "-p", "wacht_mock", "-p", "no:cacheprovider"]
    with subprocess.Popen(
        [*command, "-q", "--wacht-dashboard", "test_user.py"],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**environment, "PYTHONUNBUFFERED": "1"},
    ) as session:
        assert session.stdin is not None
        assert session.stdout is not None
        printed = []
        for line in session.stdout:
            printed.append(line)
            found = LINE.search(line)
            if found:
                break
        else:
            raise AssertionError("".join(printed))
        url, token = found.groups()
        with httpx.Client(timeout=5) as browser:
            signed = browser.post(url + "sign-in", data={"token": token})
            assert signed.status_code == 303
            contexts = browser.get(url + "contexts").text
            requests = browser.get(url).text
        assert "Broken order" in contexts  # the failing test's state, kept
        assert "Later" not in contexts  # the session stopped at the failure
        assert "POST" in requests
        out, _ = session.communicate("\n", timeout=30)
    assert session.returncode == 1
    assert "(live while tests run)" in "".join(printed)
    assert "1 failed" in out
    assert "wacht-mock dashboard: test_user.py::test_creates_then_fails failed" in out


def test_the_dashboard_option_refuses_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=FAILING)
    result = pytester.runpytest(
        "-p", "wacht_mock", "-p", "no:cacheprovider", "-n", "2", "--wacht-dashboard"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--wacht-dashboard keeps one server for you to look at: run without -n*"]
    )
