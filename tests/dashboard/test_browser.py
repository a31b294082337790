"""The dashboard in a real browser: sign-in, the live list, a request's bodies, a conversation,
the actions, keyboard use, a narrow window; no console error on any page, no key in clear."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, Route, expect

from tests.dashboard.support import (
    COLLECTION,
    SECRET_KEY,
    SECRET_PART,
    TOKEN,
    UI,
    api,
    conversation,
)
from wacht_mock.service.mock import WachtMock

pytestmark = pytest.mark.browser


def sign_in(page: Page, token: str = TOKEN) -> None:
    page.goto(UI + "/")
    page.get_by_label("Control token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_a_wrong_token_is_refused_and_the_right_one_signs_in_by_keyboard(page: Page) -> None:
    answer = page.goto(UI + "/")
    assert answer is not None
    assert answer.status == 401
    sign_in(page, "not-the-token")
    expect(page.get_by_role("alert")).to_have_text("That is not the control token.")
    field = page.get_by_label("Control token")
    expect(field).to_have_value("")  # the wrong token is not shown back
    expect(field).to_be_focused()  # the field has the focus again (waited for, not assumed)
    page.keyboard.type(TOKEN)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Requests")).to_be_visible()
    page.keyboard.press("Tab")  # the skip link first, then the navigation
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{UI}/")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Requests")


def test_a_request_appears_within_a_second_and_opens_to_its_bodies(
    page: Page, served: tuple[WachtMock, str]
) -> None:
    _, url = served
    sign_in(page)
    expect(page.locator("#live")).to_contain_text("0 shown")
    page.wait_for_function("document.querySelector('#requests').dataset.since !== undefined")
    time.sleep(0.2)  # the feed connects
    with api(url) as client:
        made = time.monotonic()
        client.post(COLLECTION, json={"title": "Seen live", "context_group": "g1"})
        row = page.locator("#requests tbody tr").first
        expect(row).to_contain_text("POST", timeout=1000)
    assert time.monotonic() - made < 1.5
    expect(row).to_contain_text(COLLECTION)
    expect(row.locator("td.status")).to_have_text("200")
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Request #1")).to_be_visible()
    expect(page.locator(".request-body pre")).to_contain_text('"title": "Seen live"')
    expect(page.locator(".response-body pre")).to_contain_text('"context_group": "g1"')
    expect(page.locator(".response-body pre")).to_contain_text('"id": "')
    expect(page.get_by_text("wk_test_…Xy31")).to_be_visible()  # the Authorization header


def test_the_filters_narrow_the_list(page: Page, served: tuple[WachtMock, str]) -> None:
    _, url = served
    with api(url) as client:
        client.post(COLLECTION, json={"title": "One"})
        client.get(f"{COLLECTION}/404404")
    sign_in(page)
    rows = page.locator("#requests tbody tr:not(.hidden)")
    expect(rows).to_have_count(2)
    page.get_by_label("Status").select_option("4xx")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("404404")
    page.get_by_label("Status").select_option("")
    page.get_by_label("Operation").select_option("POST /ai/execution-contexts")
    expect(rows).to_have_count(1)
    page.get_by_label("Operation").select_option("")
    page.get_by_label("Text").fill("404404")
    expect(rows).to_have_count(1)


def test_a_conversation_shows_its_tool_call_reasoning_and_the_broken_stream(
    page: Page, served: tuple[WachtMock, str]
) -> None:
    _, url = served
    conversation(url)
    sign_in(page)
    page.get_by_role("link", name="Contexts").click()
    expect(page.locator("table.contexts")).to_contain_text("failed")
    page.get_by_role("link", name="Refund for A1").click()
    expect(page.get_by_role("heading", name="Conversation: Refund for A1")).to_be_visible()
    tool_call = page.locator(".tool-call").first
    expect(tool_call).to_contain_text("lookup_order")
    expect(tool_call).to_contain_text('"order_id": "A1"')
    expect(page.locator(".tool-result").first).to_contain_text('"status": "shipped"')
    reasoning = page.locator("details.reasoning").first
    expect(reasoning.locator("p")).to_be_hidden()  # folded
    reasoning.locator("> summary").click()
    expect(reasoning).to_contain_text("look the order up first")
    expect(page.locator(".outcome.failed")).to_contain_text("Upstream model overloaded")
    expect(page.locator(".broken-streams")).to_contain_text("Upstream model overloaded")
    expect(page.locator(".execution")).to_have_count(2)
    run_state = page.locator("details.run-state").first
    run_state.locator("> summary").click()
    expect(run_state.locator(".run-state-body")).to_be_visible()
    page.locator(".broken-streams a").click()  # the stream's request, event by event
    events = page.locator(".response-body ol.events > li")
    expect(page.locator(".response-body h2")).to_have_text("Response body: 3 events")
    expect(events.first.locator(".event")).to_have_text("message_start")
    expect(events.last.locator(".event")).to_have_text("error")
    expect(events.last).to_contain_text("Upstream model overloaded")


def test_the_actions_wait_for_the_page_script(page: Page, served: tuple[WachtMock, str]) -> None:
    # A click before the script took the forms over submitted the form as a plain GET: the
    # page reloaded, nothing was reset, and nothing said so (a slow machine showed it).
    sign_in(page)
    held: list[Route] = []
    page.route("**/dashboard.js", lambda route: held.append(route))
    page.goto(f"{UI}/actions", wait_until="commit")  # a deferred script holds DOMContentLoaded
    reset = page.get_by_role("button", name="Reset")
    expect(reset).to_be_disabled()
    assert held, "the page asked for its script"
    for route in held:
        route.continue_()
    page.unroute("**/dashboard.js")
    expect(reset).to_be_enabled()
    reset.click()
    expect(page.locator("#action-result")).to_have_text("Everything reset.")


def test_reset_from_the_dashboard_empties_the_lists(
    page: Page, served: tuple[WachtMock, str]
) -> None:
    _, url = served
    conversation(url)
    sign_in(page)
    expect(page.locator("#requests tbody tr")).not_to_have_count(0)
    page.get_by_role("link", name="Actions").click()
    page.get_by_role("button", name="Reset").click()
    expect(page.locator("#action-result")).to_have_text("Everything reset.")
    page.get_by_role("link", name="Requests").click()
    expect(page.locator("#no-requests")).to_be_visible()
    expect(page.locator("#requests tbody tr")).to_have_count(0)
    page.get_by_role("link", name="Contexts").click()
    expect(page.locator("#no-contexts")).to_be_visible()
    page.get_by_role("link", name="Agents").click()
    expect(page.locator("#no-agents")).to_be_visible()


def test_a_pasted_fixture_loads_and_settings_and_faults_apply(
    page: Page, served: tuple[WachtMock, str]
) -> None:
    mock, url = served
    sign_in(page)
    page.get_by_role("link", name="Actions").click()
    page.get_by_label("YAML (contexts, agents, faults)").fill(
        "deployments:\n  wk_test_pasted:\n    contexts:\n      - {title: Pasted in}\n"
        "agents:\n  pasted-bot: {reply: Hello from a paste}\n"
    )
    page.get_by_role("button", name="Load").click()
    expect(page.locator("#action-result")).to_have_text("Fixture loaded: 1 contexts created.")
    page.get_by_label("Seed").fill("nine")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#action-result")).to_have_class("bad")
    page.get_by_label("Seed").fill("9")
    page.get_by_label("Strict agents").check()
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#action-result")).to_have_text("Settings: seed 9, strict agents on.")
    assert (mock.engine.seed, mock.engine.strict) == (9, True)
    page.get_by_role("button", name="Inject").click()
    expect(page.locator("#action-result")).to_have_text("Fault injected: 1 rules in place.")
    with api(url) as client:
        assert client.get(COLLECTION).status_code == 503
    page.get_by_role("link", name="Contexts").click()
    expect(page.get_by_role("link", name="Pasted in")).to_be_visible()
    page.get_by_role("link", name="Agents").click()
    expect(page.locator(".agent")).to_contain_text("Hello from a paste")
    expect(page.get_by_text("seeded with 9")).to_be_visible()


def test_no_page_nor_the_feed_shows_a_key_in_clear(
    page: Page, served: tuple[WachtMock, str]
) -> None:
    _, url = served
    context_id = conversation(url)
    with api(url) as client:
        client.get(f"{COLLECTION}?title={SECRET_KEY}")
        client.post(COLLECTION, json={"title": f"key {SECRET_KEY} in a body"})
    sign_in(page)
    seen = [page.content()]
    links = page.locator("#requests a").evaluate_all("links => links.map(a => a.href)")
    deployment = page.locator("#requests tbody tr").first.get_attribute("data-deployment")
    pages = [*links, f"{UI}/contexts", f"{UI}/agents", f"{UI}/actions"]
    pages.append(f"{UI}/contexts/{deployment}/{context_id}")
    for address in pages:
        page.goto(address)
        seen.append(page.content())
    feed = page.evaluate(
        """() => new Promise((done) => {
            const got = []; const feed = new EventSource("/_mock/ui/feed");
            feed.addEventListener("entry", (e) => { got.push(e.data);
              if (got.length >= 5) { feed.close(); done(got.join("\\n")); } });
        })"""
    )
    assert len(seen) >= 9
    for text in (*seen, feed):
        assert SECRET_PART not in text
    assert re.search(r"wk_test_…Xy31", "".join(seen))


def test_a_narrow_window_needs_no_sideways_scrolling_of_the_page(
    page: Page, served: tuple[WachtMock, str]
) -> None:
    _, url = served
    conversation(url)
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page)
    for name in ("Requests", "Contexts", "Agents", "Actions"):
        page.get_by_role("link", name=name, exact=True).first.click()
        expect(page.locator("nav a[aria-current=page]")).to_have_text(name)
        page.wait_for_load_state("load")  # its stylesheet applied
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"{name}: {wide} px wider than the window"
