"""The dashboard's sign-in: a cookie that stands for the control token without holding it.

The cookie's value is an HMAC of the token (so the token itself is never in a cookie), HttpOnly,
`SameSite=Strict` and scoped to `/_mock/`. The control API takes it in place of the token
header only together with the header `DASHBOARD_HEADER`, which a form on another site cannot
send: a cross-site request never carries both.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import HTTPConnection

from wacht_mock.core.wire import CONTROL_PREFIX

COOKIE = "wacht_mock_dashboard"
DASHBOARD_HEADER = "x-wacht-mock-dashboard"
COOKIE_PATH = CONTROL_PREFIX + "/"


def session_value(token: str) -> str:
    """What the cookie holds for `token`: the same for the server's lifetime, never the token."""
    return hmac.new(token.encode(), b"wacht-mock dashboard session", hashlib.sha256).hexdigest()


def token_matches(given: str, token: str) -> bool:
    return bool(token) and secrets.compare_digest(given.encode(), token.encode())


def has_session(connection: HTTPConnection, token: str | None) -> bool:
    """Whether the request carries the signed-in cookie of `token`."""
    if not token:
        return False
    given = connection.cookies.get(COOKIE, "")
    return secrets.compare_digest(given.encode(), session_value(token).encode())


def cookie_header(token: str, *, clear: bool = False) -> str:
    """The `Set-Cookie` value that signs in (or, with `clear`, out)."""
    value, age = ("", 0) if clear else (session_value(token), 12 * 3600)
    return f"{COOKIE}={value}; Path={COOKIE_PATH}; Max-Age={age}; HttpOnly; SameSite=Strict"
