"""What the agent saw, over HTTP: each execution's run state, served by the control API, kept
per deployment, for JSON and streamed runs, paused and resumed runs; feedback in the messages."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jsonschema
import pytest

from tests.helpers import KEY, OTHER_KEY, auth
from wacht_mock import MockConfig, Reply, StreamFault, ToolCall, WachtMock, create_app
from wacht_mock.contract.documents import contract_path
from wacht_mock.contract.runstate import FILE_NAME, render
from wacht_mock.service.auth import deployment_id_for

pytestmark = pytest.mark.anyio
TOKEN = {"X-Wacht-Mock-Token": "s3cret"}
COLLECTION = "/ai/execution-contexts"
LOOKUP = {
    "name": "lookup_order",
    "description": "Find an order",
    "input": {"type": "object", "properties": {"order_id": {"type": "string"}}},
}
SCHEMA = json.loads((contract_path("guide").parent / FILE_NAME).read_text())


@pytest.fixture
def mock() -> WachtMock:
    return WachtMock(MockConfig(seed=1, control_token="s3cret"))


@pytest.fixture
async def client(mock: WachtMock) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(mock))
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        yield c


async def new_context(client: httpx.AsyncClient, **fields: Any) -> str:
    response = await client.post(COLLECTION, json={"title": "Orders", **fields})
    context_id: str = response.json()["id"]
    return context_id


async def execute(
    client: httpx.AsyncClient, context_id: str, message: str, variant: str = "new_message"
) -> dict[str, Any]:
    body = {"agent_name": "bot", "execution_type": {variant: {"message": message}}}
    response = await client.post(f"{COLLECTION}/{context_id}/execute", json=body)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


async def run_state(client: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    response = await client.get(f"/_mock/executions/{execution_id}/run-state", headers=TOKEN)
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    jsonschema.Draft202012Validator(SCHEMA).validate(state)
    return state


async def test_the_next_run_sees_the_new_instructions_and_the_first_exchange(
    mock: WachtMock, client: httpx.AsyncClient
) -> None:
    bot = mock.engine.agent("bot").declare(tools=[LOOKUP])
    bot.replies(
        [
            Reply(
                "It shipped.",
                reasoning="The customer names an order.",
                tool_calls=[ToolCall("lookup_order", {"order_id": "A-42"}, result="shipped")],
            ),
            "Sorry for the wait.",
        ]
    )
    context_id = await new_context(client, system_instructions="Be brief.")
    first = await execute(client, context_id, "Where is A-42?")
    patched = await client.patch(
        f"{COLLECTION}/{context_id}", json={"system_instructions": "Be brief and kind."}
    )
    assert patched.status_code == 200
    second = await execute(client, context_id, "It is late!")

    before = await run_state(client, first["execution_id"])
    seen = await run_state(client, second["execution_id"])
    assert before["system"] == [{"type": "text", "text": "Be brief."}]
    assert before["history"] == []
    assert seen["system"] == [{"type": "text", "text": "Be brief and kind."}]
    assert [turn["role"] for turn in seen["history"]] == ["user", "assistant", "tool", "assistant"]
    assert seen["history"][1]["blocks"] == [
        {"type": "reasoning", "text": "The customer names an order."},
        {
            "type": "tool_call",
            "call_id": seen["history"][1]["blocks"][1]["call_id"],
            "name": "lookup_order",
            "args": {"order_id": "A-42"},
        },
    ]
    assert seen["history"][2]["blocks"][0]["content"] == "shipped"
    assert seen["tools"] == [LOOKUP]
    assert seen["task"] == {"kind": "new_message", "message": "It is late!", "files": []}
    assert seen["metadata"]["execution_id"] == second["execution_id"]
    assert seen["metadata"]["conversation_id"] == second["conversation_id"]
    assert seen["metadata"]["context_id"] == context_id
    assert bot.last is not None
    assert bot.last.run_state is not None
    assert bot.last.run_state.to_json() == seen  # the handle's view is the same state


async def test_an_empty_message_is_an_empty_text_block_in_the_next_run(
    mock: WachtMock, client: httpx.AsyncClient
) -> None:
    # The contract lets a message be empty; the model is still given the turn's text block.
    mock.engine.agent("bot").replies(["First.", "Second."])
    context_id = await new_context(client)
    await execute(client, context_id, "")
    second = await execute(client, context_id, "And now?")
    seen = await run_state(client, second["execution_id"])
    assert seen["history"][0] == {"role": "user", "blocks": [{"type": "text", "text": ""}]}
    assert seen["history"][1]["blocks"] == [{"type": "text", "text": "First."}]


async def test_the_executions_list_names_each_run(
    mock: WachtMock, client: httpx.AsyncClient
) -> None:
    mock.engine.agent("bot").reply("ok")
    one, two = await new_context(client), await new_context(client)
    a = await execute(client, one, "a")
    await execute(client, two, "b")
    c = await execute(client, one, "c")
    listed = await client.get("/_mock/executions", params={"context_id": one}, headers=TOKEN)
    runs = listed.json()["executions"]
    assert [run["execution_id"] for run in runs] == [a["execution_id"], c["execution_id"]]
    assert runs[0] == {
        "execution_id": a["execution_id"],
        "deployment_id": deployment_id_for(KEY),
        "context_id": one,
        "agent_name": "bot",
        "kind": "new_message",
        "status": "completed",
        "stop_reason": "end_turn",
    }
    everything = await client.get("/_mock/executions", headers=TOKEN)
    assert len(everything.json()["executions"]) == 3


async def test_the_control_api_guards_and_refuses_clearly(client: httpx.AsyncClient) -> None:
    context_id = await new_context(client)
    reply = await execute(client, context_id, "hi")
    path = f"/_mock/executions/{reply['execution_id']}/run-state"
    assert (await client.get(path)).status_code == 401
    assert (await client.get("/_mock/executions")).status_code == 401
    missing = await client.get("/_mock/executions/123/run-state", headers=TOKEN)
    assert missing.status_code == 404
    assert "No run state for execution 123" in missing.json()["errors"][0]["message"]
    unknown = await client.get("/_mock/executions", params={"context": "x"}, headers=TOKEN)
    assert unknown.status_code == 400
    assert "'context'" in unknown.json()["errors"][0]["message"]
    bad = await client.get("/_mock/executions", params={"deployment_id": "x"}, headers=TOKEN)
    assert bad.status_code == 400


async def test_a_deployment_reset_forgets_its_runs_only(
    mock: WachtMock, client: httpx.AsyncClient
) -> None:
    mine = await execute(client, await new_context(client), "mine")
    other_context = (
        await client.post(COLLECTION, json={"title": "T"}, headers=auth(OTHER_KEY))
    ).json()["id"]
    body = {"agent_name": "bot", "execution_type": {"new_message": {"message": "theirs"}}}
    theirs = (
        await client.post(
            f"{COLLECTION}/{other_context}/execute", json=body, headers=auth(OTHER_KEY)
        )
    ).json()
    mine_state = await run_state(client, mine["execution_id"])
    deployment = mine_state["metadata"]["deployment_id"]
    reset = await client.post("/_mock/reset", json={"deployment_id": deployment}, headers=TOKEN)
    assert reset.status_code == 204
    gone = await client.get(f"/_mock/executions/{mine['execution_id']}/run-state", headers=TOKEN)
    assert gone.status_code == 404
    assert (await run_state(client, theirs["execution_id"]))["task"]["message"] == "theirs"


async def test_a_stream_records_what_was_given_even_when_cut(
    mock: WachtMock, client: httpx.AsyncClient
) -> None:
    mock.engine.agent("bot").reply("a b c d", fault=StreamFault("cut", 2))
    context_id = await new_context(client, system_instructions="Stream it.")
    body = {"agent_name": "bot", "execution_type": {"stream": {"message": "go"}}}
    async with client.stream("POST", f"{COLLECTION}/{context_id}/execute", json=body) as stream:
        events = [line async for line in stream.aiter_lines()]
    start = next(json.loads(line[5:]) for line in events if line.startswith("data:"))
    state = await run_state(client, start["execution_id"])
    assert state["task"] == {"kind": "stream", "message": "go", "files": []}
    assert state["system"] == [{"type": "text", "text": "Stream it."}]
    (run,) = (await client.get("/_mock/executions", headers=TOKEN)).json()["executions"]
    assert (run["kind"], run["status"]) == ("stream", "failed")


async def test_a_resumed_run_is_given_the_tool_call_and_the_answer_as_its_task(
    mock: WachtMock, client: httpx.AsyncClient
) -> None:
    refund = ToolCall("refund", {"order": "A1"}, result={"ok": True}, requires_approval=True)
    mock.engine.agent("bot").reply("Refunded.", tool_calls=[refund])
    context_id = await new_context(client)
    paused = await execute(client, context_id, "refund A1")
    pending = (await client.get(f"{COLLECTION}/{context_id}")).json()["execution_state"][
        "pending_input_request"
    ]
    answer = {
        "agent_name": "bot",
        "execution_type": {
            "approval_response": {
                "request_message_id": pending["request_message_id"],
                "approvals": [{"tool_name": "refund", "mode": "allow_once"}],
            }
        },
    }
    resumed = (await client.post(f"{COLLECTION}/{context_id}/execute", json=answer)).json()
    state = await run_state(client, resumed["execution_id"])
    assert state["task"] == {"kind": "approval_response", "message": None, "files": []}
    assert state["history"][-1]["blocks"][0]["name"] == "refund"
    assert (await run_state(client, paused["execution_id"]))["task"]["message"] == "refund A1"


async def test_feedback_is_a_tool_turn_in_the_messages_and_the_next_history(
    mock: WachtMock, client: httpx.AsyncClient
) -> None:
    signal = {"kind": "test", "message": "2 failed", "data": {"failed": 2}}
    mock.engine.agent("bot").replies(
        [{"text": "Patched", "reasoning": "Try the fix", "feedback": [signal]}, "Again"]
    )
    context_id = await new_context(client)
    await execute(client, context_id, "fix it")
    second = await execute(client, context_id, "and?")
    messages = (await client.get(f"{COLLECTION}/{context_id}/messages")).json()["data"]
    roles = [(m["role"], [b["type"] for b in m["blocks"]]) for m in messages]
    assert roles[:3] == [
        ("user", ["text"]),
        ("assistant", ["reasoning", "text"]),
        ("tool", ["feedback"]),
    ]
    assert messages[2]["blocks"][0] == {"type": "feedback", "signals": [signal]}
    history = (await run_state(client, second["execution_id"]))["history"]
    assert history[2] == {"role": "tool", "blocks": [{"type": "feedback", "signals": [signal]}]}
    assert history[1]["blocks"][0] == {"type": "reasoning", "text": "Try the fix"}
    assert not any(entry.violations for entry in mock.journal.entries())


async def test_a_reply_breaking_its_declaration_is_the_scripts_error(
    mock: WachtMock, client: httpx.AsyncClient
) -> None:
    bot = mock.engine.agent("bot").declare(tools=[LOOKUP])
    bot.side_effect = lambda call: Reply(tool_calls=[ToolCall("lookup_order", {"order_id": 1})])
    context_id = await new_context(client)
    body = {"agent_name": "bot", "execution_type": {"new_message": {"message": "x"}}}
    response = await client.post(f"{COLLECTION}/{context_id}/execute", json=body)
    assert response.status_code == 500
    message = response.json()["errors"][0]["message"]
    assert "breaks the agent's declaration" in message
    assert "argument /order_id: 1 is not of type 'string'" in message
    context = (await client.get(f"{COLLECTION}/{context_id}")).json()
    assert context["execution_state"] is None  # nothing was recorded


def test_the_shipped_run_state_schema_is_the_contracts() -> None:
    shipped = (contract_path("guide").parent / FILE_NAME).read_text()
    assert shipped == render(), "run: python -m wacht_mock.contract.runstate"
