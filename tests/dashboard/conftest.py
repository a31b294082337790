"""One headless Chromium (the system's) per test module; a fresh context and mock per test.

Playwright's sync API runs an asyncio loop on the test thread while it is started: the other
modules' async tests cannot run then, so it lives for one module at a time (a test process runs
a module's tests one after another, xdist or not).

Every page a test opens has its console errors and uncaught exceptions collected; a test that
saw any fails. The one expected: a page asked for before signing in is the sign-in form with
status 401, which Chromium logs as a resource that failed to load.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    sync_playwright,
)

from tests.dashboard.support import serving
from wacht_mock.service.mock import WachtMock


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "the browser tests need the system's chromium (apt-get install chromium)"
    # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
    browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
    yield browser
    browser.close()


@pytest.fixture
def served() -> Iterator[tuple[WachtMock, str]]:
    with serving() as mock_and_url:
        yield mock_and_url


@pytest.fixture
def page(browser: Browser, served: tuple[WachtMock, str]) -> Iterator[Page]:
    _, url = served
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(5000)
    problems: list[str] = []
    sign_in_forms: set[str] = set()

    def answered(response: Response) -> None:
        if response.request.resource_type == "document" and response.status == 401:
            sign_in_forms.add(response.url)

    def logged(message: ConsoleMessage) -> None:
        expected = "status of 401" in message.text and message.location["url"] in sign_in_forms
        if message.type == "error" and not expected:
            problems.append(f"console: {message.text} ({message.location['url']})")

    page.on("response", answered)
    page.on("console", logged)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    yield page
    context.close()  # before the server stops: the live feed closes with the page
    assert problems == []
