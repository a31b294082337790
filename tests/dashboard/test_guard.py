"""The dashboard's guard, without a browser: sign-in, the cookie, 401s, loopback only, headers."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from importlib import resources

import httpx
import pytest

from tests.dashboard.support import GUARDED_PATHS, TOKEN, UI, dashboard_config
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.dashboard.routes import ASSETS
from wacht_mock.service.dashboard.session import COOKIE, session_value
from wacht_mock.service.settings import mock_config, resolve

pytestmark = pytest.mark.anyio
LOOPBACK = ("127.0.0.1", 50000)


def client_for(config: MockConfig, client: tuple[str, int] = LOOPBACK) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(config), client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://mock")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(dashboard_config()) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, token: str = TOKEN) -> httpx.Response:
    return await client.post(f"{UI}/sign-in", data={"token": token})


@pytest.mark.parametrize("path", GUARDED_PATHS)
async def test_every_dashboard_url_needs_signing_in(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(UI + path)
    assert answer.status_code == 401
    assert answer.json() == {
        "errors": [
            {"message": "The dashboard needs signing in with the control token", "code": 401}
        ]
    }
    client.cookies.set(COOKIE, "not-the-session")  # a made-up cookie is no better
    assert (await client.get(UI + path)).status_code == 401


async def test_a_browser_asking_for_a_page_gets_the_sign_in_form_with_401(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get(f"{UI}/contexts", headers={"Accept": "text/html"})
    assert answer.status_code == 401
    assert 'name="token"' in answer.text
    assert "Content-Security-Policy" in answer.headers


async def test_the_right_token_signs_in_with_a_strict_http_only_cookie_not_holding_it(
    client: httpx.AsyncClient,
) -> None:
    wrong = await sign_in(client, "guess")
    assert wrong.status_code == 401
    assert "That is not the control token." in wrong.text
    assert "set-cookie" not in wrong.headers
    right = await sign_in(client)
    assert right.status_code == 303
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/_mock/" in cookie
    assert TOKEN not in cookie
    for path in GUARDED_PATHS[:4]:
        assert (await client.get(UI + path)).status_code == 200
    signed_out = await client.post(f"{UI}/sign-out")
    assert "Max-Age=0" in signed_out.headers["set-cookie"]
    client.cookies.clear()
    assert (await client.get(UI + "/")).status_code == 401


async def test_the_cookie_lets_the_dashboard_call_the_control_api_only_with_its_header(
    client: httpx.AsyncClient,
) -> None:
    await sign_in(client)
    assert (await client.get("/_mock/settings")).status_code == 401  # a cross-site form's try
    answer = await client.get("/_mock/settings", headers={"X-Wacht-Mock-Dashboard": "1"})
    assert answer.status_code == 200
    assert answer.json()["seed"] == 1


async def test_without_the_dashboard_the_cookie_opens_nothing() -> None:
    async with client_for(MockConfig(control_token=TOKEN)) as client:
        assert (await client.get(UI + "/")).status_code == 404
        client.cookies.set(COOKIE, session_value(TOKEN))
        headers = {"X-Wacht-Mock-Dashboard": "1"}
        assert (await client.get("/_mock/settings", headers=headers)).status_code == 401


async def test_only_loopback_clients_are_served_unless_told_otherwise() -> None:
    async with client_for(dashboard_config(), ("192.0.2.7", 50000)) as client:
        answer = await sign_in(client)
        assert answer.status_code == 403
        assert answer.json()["errors"][0]["message"] == (
            "The dashboard answers clients on this machine only"
        )
    async with client_for(dashboard_config(dashboard_remote=True), ("192.0.2.7", 1)) as client:
        assert (await sign_in(client)).status_code == 303


async def test_pages_carry_a_strict_policy_and_no_inline_script(
    client: httpx.AsyncClient,
) -> None:
    await sign_in(client)
    for path in ("/", "/contexts", "/agents", "/actions"):
        answer = await client.get(UI + path)
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "default-src 'none'" in policy
        assert "unsafe-inline" not in policy
        scripts = re.findall(r"<script[^>]*>(.*?)</script>", answer.text, re.S)
        assert scripts == [""]  # one script, from a file
        assert " style=" not in answer.text
        assert " on" not in re.sub(r">[^<]*<", "><", answer.text)


async def test_the_assets_ship_in_the_package_and_are_served(client: httpx.AsyncClient) -> None:
    static = resources.files("wacht_mock.service.dashboard").joinpath("static")
    for name, media in ASSETS.items():
        assert static.joinpath(name).is_file()
        answer = await client.get(f"{UI}/static/{name}")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == media
        assert answer.content == static.joinpath(name).read_bytes()
    missing = await client.get(f"{UI}/static/..%2Fsession.py")
    assert missing.status_code == 404


async def test_an_unknown_request_or_context_is_a_404_in_the_envelope(
    client: httpx.AsyncClient,
) -> None:
    await sign_in(client)
    gone = await client.get(f"{UI}/requests/99")
    assert gone.status_code == 404
    assert "#99" in gone.json()["errors"][0]["message"]
    assert (await client.get(f"{UI}/contexts/1/2")).status_code == 404


def test_dashboard_turns_the_control_api_on_and_needs_a_token() -> None:
    config = mock_config(resolve({"dashboard": True}, {}))
    assert config.dashboard
    assert config.control_token
    with pytest.raises(ValueError, match="dashboard: the dashboard needs a control_token"):
        MockConfig(dashboard=True)


def test_the_dashboard_is_not_imported_unless_it_is_on() -> None:
    check = (
        "import sys\n"
        "from wacht_mock.service.app import create_app\n"
        "from wacht_mock.service.config import MockConfig\n"
        "create_app(MockConfig(control_token='t'))\n"
        "assert 'wacht_mock.service.dashboard.routes' not in sys.modules\n"
        "create_app(MockConfig(control_token='t', dashboard=True))\n"
        "assert 'wacht_mock.service.dashboard.routes' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
