"""What the pages show, without a browser: a run state in every block type, the agents' scripts
and how far their sequences have run, escaping and masking of whatever is shown."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.dashboard.support import (
    COLLECTION,
    SECRET_KEY,
    SECRET_PART,
    TOKEN,
    UI,
    dashboard_config,
)
from wacht_mock.core.journal import Entry
from wacht_mock.service.app import create_app
from wacht_mock.service.dashboard.pages import broken_streams, run_state_html
from wacht_mock.service.mock import WachtMock

pytestmark = pytest.mark.anyio

#: A run state in the documented shape, with every kind of block.
RUN_STATE: dict[str, Any] = {
    "system": [{"type": "text", "text": "You are <b>careful</b>."}],
    "guides": [{"type": "text", "text": "Refunds take 5 days."}],
    "history": [
        {"role": "user", "blocks": [{"type": "text", "text": f"my key is {SECRET_KEY}"}]},
        {
            "role": "assistant",
            "blocks": [
                {"type": "reasoning", "text": "Look it up."},
                {"type": "tool_call", "call_id": "c1", "name": "lookup", "args": {"id": "A1"}},
            ],
        },
        {"role": "tool", "blocks": [{"type": "tool_result", "call_id": "c1", "content": "ok"}]},
        {"role": "user", "blocks": [{"type": "file", "name": "invoice.pdf"}]},
        {"role": "user", "blocks": [{"type": "feedback", "signals": ["thumbs_up"]}]},
    ],
    "task": {"kind": "new_message", "message": "Where is A1?", "files": []},
    "policy": {"max_iters": 4, "max_input_tokens": 1000, "max_output_tokens": 200},
    "metadata": {},
    "tools": [{"name": "lookup", "description": "Find an order", "input": {}}],
    "response_format": {"type": "free"},
}


def test_a_run_state_shows_every_block_escaped_and_masked() -> None:
    shown = run_state_html(RUN_STATE)
    assert "You are &lt;b&gt;careful&lt;/b&gt;." in shown
    assert "<h3>History (5 turns)</h3>" in shown
    assert 'class="block reasoning"' in shown
    assert "<code>lookup</code>" in shown
    assert "&quot;id&quot;: &quot;A1&quot;" in shown
    assert 'class="block tool-result"' in shown
    assert "<code>invoice.pdf</code>" in shown
    assert "feedback" in shown
    assert "thumbs_up" in shown
    assert "Where is A1?" in shown
    assert "max_iters" in shown
    assert "Find an order" in shown
    assert SECRET_PART not in shown
    assert "metadata" not in shown.lower()  # empty: not shown


def test_no_run_state_says_so() -> None:
    assert "Run state not recorded." in run_state_html(None)


async def test_the_conversation_reads_executions_and_run_states_from_the_control_api() -> None:
    mock = WachtMock(dashboard_config())
    app = create_app(mock)
    asked: list[str] = []

    async def executions(request: Request) -> Response:
        asked.append(f"{request.url.path}?{request.url.query}")
        assert request.headers["x-wacht-mock-token"] == TOKEN
        listed = [
            {
                "execution_id": turn.execution_id,
                "agent_name": "support-bot",
                "kind": "new_message",
                "status": "completed",
                "stop_reason": "end_turn",
            }
            for turn in mock.store.turns(*request.state.ids)
        ][:1]
        return JSONResponse({"executions": listed})

    async def run_state(request: Request) -> Response:
        asked.append(request.url.path)
        return JSONResponse(RUN_STATE)

    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        headers = {"Authorization": f"Bearer {SECRET_KEY}"}
        context = (await client.post(COLLECTION, json={"title": "T"}, headers=headers)).json()
        body = {"agent_name": "support-bot", "execution_type": {"new_message": {"message": "hi"}}}
        await client.post(f"{COLLECTION}/{context['id']}/execute", json=body, headers=headers)
        deployment = mock.store.deployments()[0]

        async def listing(request: Request) -> Response:
            request.state.ids = (deployment, context["id"])
            return await executions(request)

        app.router.routes.insert(0, Route("/_mock/executions", listing))
        app.router.routes.insert(0, Route("/_mock/executions/{eid}/run-state", run_state))
        await client.post(f"{UI}/sign-in", data={"token": TOKEN})
        page = (await client.get(f"{UI}/contexts/{deployment}/{context['id']}")).text
    assert asked[0] == f"/_mock/executions?context_id={context['id']}&deployment_id={deployment}"
    assert len(asked) == 2  # one execution: one run state
    assert "support-bot · new_message · completed · end_turn" in page
    assert "<h3>History (5 turns)</h3>" in page
    assert "Run state not recorded." not in page


async def test_the_agents_page_shows_rules_sequences_and_how_far_each_ran() -> None:
    mock = WachtMock(dashboard_config())
    script = mock.engine.agent("sales-bot")
    script.when(message_contains="price").replies(["10 EUR", "20 EUR", "30 EUR"])
    script.reply("Ask me about prices.")
    transport = httpx.ASGITransport(app=create_app(mock), client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        headers = {"Authorization": f"Bearer {SECRET_KEY}"}
        context = (await client.post(COLLECTION, json={"title": "T"}, headers=headers)).json()
        body = {"agent_name": "sales-bot", "execution_type": {"new_message": {"message": "price"}}}
        for _ in range(2):
            await client.post(f"{COLLECTION}/{context['id']}/execute", json=body, headers=headers)
        await client.post(f"{UI}/sign-in", data={"token": TOKEN})
        page = (await client.get(f"{UI}/agents")).text
    deployment = mock.store.deployments()[0]
    assert "when message contains &#x27;price&#x27;: a sequence of 3 (then error)" in page
    assert f"{deployment}: 2 of 3 used" in page
    assert "Otherwise one reply: <q>Ask me about prices.</q>" in page
    assert "<h3>Calls (2; the last 50 shown)</h3>" in page
    assert "20 EUR" in page
    assert "seeded with <b>1</b>" in page


async def test_a_conversation_waiting_for_input_shows_the_pending_question() -> None:
    mock = WachtMock(dashboard_config())
    mock.engine.agent("support-bot").reply(ask="Which email address is on your account?")
    transport = httpx.ASGITransport(app=create_app(mock), client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        headers = {"Authorization": f"Bearer {SECRET_KEY}"}
        context = (await client.post(COLLECTION, json={"title": "T"}, headers=headers)).json()
        body = {"agent_name": "support-bot", "execution_type": {"new_message": {"message": "pw"}}}
        await client.post(f"{COLLECTION}/{context['id']}/execute", json=body, headers=headers)
        await client.post(f"{UI}/sign-in", data={"token": TOKEN})
        deployment = mock.store.deployments()[0]
        page = (await client.get(f"{UI}/contexts/{deployment}/{context['id']}")).text
    assert (
        '<p class="outcome waiting_for_input">Outcome: waiting_for_input (question): '
        "Which email address is on your account?</p>"
    ) in page


def test_a_stream_its_client_left_or_that_dropped_counts_as_broken() -> None:
    def entry(number: int, path: str, status: int = 200, **notes: Any) -> Entry:
        return Entry(number, 0.0, "POST", path, "", {}, "", status, "", 1.0, **notes)

    context = "/ai/execution-contexts/42/execute"
    entries = [
        entry(1, context),  # a clean one
        entry(2, context, outcome="interrupted: the client disconnected after 3 of 9 events"),
        entry(3, context, status=0),  # dropped
        entry(4, "/ai/execution-contexts/420/execute", status=0),  # another context's
    ]
    assert [e.number for e in broken_streams(entries, "42")] == [2, 3]
