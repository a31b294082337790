"""``wacht-mock serve --dashboard``: the control API on with a made-up token, the dashboard's
URL printed, and the dashboard signed in to with that token."""

from __future__ import annotations

import httpx

from tests.cli.test_serve import serving, stop


def test_serve_dashboard_prints_where_it_is_and_signs_in_with_the_printed_token() -> None:
    with serving("--port", "0", "--dashboard") as (process, url):
        assert process.stdout is not None
        control, dashboard = process.stdout.readline(), process.stdout.readline()
        token = control.split("with token ")[1].strip()
        assert dashboard.strip() == (
            f"dashboard on {url}/_mock/ui/ (sign in with the control token)"
        )
        with httpx.Client(base_url=url, timeout=5) as browser:
            assert browser.get("/_mock/ui/").status_code == 401
            assert browser.post("/_mock/ui/sign-in", data={"token": token}).status_code == 303
            assert browser.get("/_mock/ui/agents").status_code == 200
        stop(process)
