"""Item 3 of the attack: keys and tokens never in clear, wherever the project prints or stores one.

One masking function in core; each place a credential could show gets its own test: the mock's
journal (headers, the control token on and off ``/_mock/``, the query, bodies), the proxy's log
lines, its journal's violations and its drift report, and the check report's curl lines.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from wacht_mock.core.masking import mask_header, mask_key, mask_text
from wacht_mock.core.server import ServerThread
from wacht_mock.proxy.server import ContractProxy, ProxyThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock

SHORT_KEY = "wk_test_rel1"
LONG_KEY = "wk_live_SECRETabcdefghijkl9876"
TOKEN = "tok3nValue"
COLLECTION = "/ai/execution-contexts"


def hidden(text: str, *secrets: str) -> bool:
    """Whether no secret (nor its part after the ``wk_…_`` prefix) shows in ``text``."""
    return not any(secret in text or secret[8:] in text for secret in secrets)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (f"Bearer {SHORT_KEY}", "Bearer wk_test_…"),
        (f"Bearer {LONG_KEY}", "Bearer wk_live_…9876"),
        (LONG_KEY, "wk_live_…9876"),
        (SHORT_KEY, "wk_test_…"),
        ("Bearer other-token-9999abcd", "Bearer …"),
        ("Bearer short", "Bearer …"),
        ("Basic dXNlcjpwYXNz", "Basic …"),
        ("Bearer", "…"),
        ("", "…"),
    ],
)
def test_a_credential_is_masked_and_a_short_one_never_shown_whole(value: str, masked: str) -> None:
    assert mask_key(value) == masked


def test_key_shaped_values_in_any_text_are_masked() -> None:
    text = f"title {SHORT_KEY}, again {LONG_KEY}; not a key: wk_other_1"
    assert mask_text(text) == "title wk_test_…, again wk_live_…9876; not a key: wk_other_1"
    assert mask_header("x-wacht-mock-token", TOKEN) == "…"
    assert mask_header("cookie", "session=abc") == "…"
    assert mask_header("user-agent", f"bot {SHORT_KEY}") == "bot wk_test_…"
    assert mask_header("accept", "application/json") == "application/json"


def test_the_mock_journal_masks_every_credential() -> None:
    mock = WachtMock(MockConfig(control_token=TOKEN))
    with ServerThread(create_app(mock)) as server:
        headers = {"Authorization": f"Bearer {SHORT_KEY}", "X-Wacht-Mock-Token": TOKEN}
        with httpx.Client(base_url=server.url, headers=headers) as client:
            client.get(COLLECTION, params={"key": LONG_KEY})
            client.post(COLLECTION, json={"title": f"about {LONG_KEY}"})
            client.get("/_mock", headers={"Authorization": LONG_KEY})  # no slash: journaled
            client.get(COLLECTION, headers={"Authorization": LONG_KEY})  # no scheme
    entries = mock.journal.entries()
    assert len(entries) == 4
    for entry in entries:
        text = repr(entry.as_dict()) + entry.summary()
        assert hidden(text, SHORT_KEY, LONG_KEY), text
        assert TOKEN not in text, text
    assert entries[0].headers["authorization"] == "Bearer wk_test_…"
    assert entries[0].headers["x-wacht-mock-token"] == "…"


@pytest.fixture
def upstream() -> Iterator[ServerThread]:
    with ServerThread(create_app(MockConfig(seed=1))) as server:
        yield server


def test_the_proxy_never_shows_a_scheme_less_key(
    upstream: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = ContractProxy(upstream.url)
    with caplog.at_level(logging.WARNING, "wacht_mock.proxy"), ProxyThread(proxy) as server:
        headers = {"Authorization": LONG_KEY, "X-Wacht-Mock-Token": TOKEN}
        response = httpx.get(f"{server.url}{COLLECTION}", headers=headers, params={"k": SHORT_KEY})
        assert response.status_code == 401
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Authorization" in logged  # the violation is reported...
    assert hidden(logged, LONG_KEY, SHORT_KEY), logged  # ...without the key
    (entry,) = proxy.journal.entries()
    assert entry.violations
    assert hidden(repr(entry.as_dict()), LONG_KEY, SHORT_KEY), entry.as_dict()
    assert TOKEN not in repr(entry.as_dict())
    assert proxy.drift.total
    assert hidden(proxy.drift.text(), LONG_KEY, SHORT_KEY), proxy.drift.text()


def test_the_check_report_masks_keys_in_its_curl_lines() -> None:
    from wacht_mock.check.report import Finding

    finding = Finding(
        "ST1",
        "title",
        "GET /x",
        f"body holds {LONG_KEY}",
        f"curl -H 'Authorization: Bearer {LONG_KEY}' http://x",
        500,
    )
    assert hidden(finding.curl + finding.message, LONG_KEY)


def test_masking_what_is_already_masked_changes_nothing() -> None:
    """Text goes through masking more than once (the journal, then a page or a violation that
    quotes it): a masked key stays as it was masked, not ``wk_test_……Xy31``."""
    once = mask_text("title=wk_test_Zq7SecretTenantKey9Xy31 and wk_live_short")
    assert once == "title=wk_test_…Xy31 and wk_live_…"
    assert mask_text(once) == once
