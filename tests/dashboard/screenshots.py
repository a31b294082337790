"""Writes the README's screenshots of the dashboard: ``python -m tests.dashboard.screenshots``.

A mock with the dashboard on, a few requests (a conversation with a tool call, reasoning and a
stream that broke, a 404, a fault), then the requests view and the conversation at 1280x800, in
the light colour scheme, into ``tests/dashboard/screens/``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.dashboard.support import COLLECTION, TOKEN, UI, api, control, conversation, serving

DOCS = Path(__file__).resolve().parent / "screens"
SHOTS = ("dashboard-requests.png", "dashboard-conversation.png")


def main(folder: Path = DOCS) -> list[Path]:
    folder.mkdir(exist_ok=True)
    written = [folder / name for name in SHOTS]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("the screenshots need the system's chromium (apt-get install chromium)")
    with serving() as (mock, url), sync_playwright() as driver:
        context_id = conversation(url)
        with api(url) as client:
            client.get(COLLECTION, params={"limit": 5})
            client.get(f"{COLLECTION}/1234567")
            with control(url) as setup:
                setup.post("/_mock/faults", json={"operation": "list", "status": 503, "times": 1})
            client.get(COLLECTION)
        deployment = mock.store.deployments()[0]
        browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(
            base_url=url, viewport={"width": 1280, "height": 800}, color_scheme="light"
        )
        page.goto(UI + "/")
        page.get_by_label("Control token").fill(TOKEN)
        page.get_by_role("button", name="Sign in").click()
        page.locator("#requests tbody tr").first.wait_for()
        page.screenshot(path=written[0])
        page.goto(f"{UI}/contexts/{deployment}/{context_id}")
        page.locator("details.reasoning summary").first.click()
        page.screenshot(path=written[1], full_page=True)
        browser.close()
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS):
        print(path)
