"""Executing scripted agents over HTTP (in-process): replies, history, state, faults."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import auth
from wacht_mock import HttpFault, StreamFault, ToolCall, Usage, WachtMock

pytestmark = pytest.mark.anyio


async def new_context(client: httpx.AsyncClient, **fields: Any) -> str:
    body = {"title": "Customer Support Context", "context_group": "support", **fields}
    response = await client.post("/ai/execution-contexts", json=body)
    context_id: str = response.json()["id"]
    return context_id


async def execute(
    client: httpx.AsyncClient, context_id: str, message: str | None = "Hi", *, agent: str = "bot"
) -> httpx.Response:
    variant = {"continue": {}} if message is None else {"new_message": {"message": message}}
    return await client.post(
        f"/ai/execution-contexts/{context_id}/execute",
        json={"agent_name": agent, "execution_type": variant},
    )


async def history(client: httpx.AsyncClient, context_id: str) -> list[dict[str, Any]]:
    page = (await client.get(f"/ai/execution-contexts/{context_id}/messages")).json()
    turns: list[dict[str, Any]] = page["data"]
    return turns


async def test_a_fixed_reply_is_templated(client: httpx.AsyncClient, mock: WachtMock) -> None:
    mock.engine.agent("bot").reply("You said {message} in {context.title}")
    context_id = await new_context(client)
    body = (await execute(client, context_id, "hello")).json()
    assert body["response"]["content"] == "You said hello in Customer Support Context"
    assert body["response"]["stop_reason"] == "end_turn"


async def test_a_sequence_then_its_end(client: httpx.AsyncClient, mock: WachtMock) -> None:
    mock.engine.agent("bot").replies(["one", "two"])
    context_id = await new_context(client)
    contents = [(await execute(client, context_id)).json()["response"]["content"] for _ in "ab"]
    assert contents == ["one", "two"]
    exhausted = await execute(client, context_id)
    assert exhausted.status_code == 500
    message = exhausted.json()["errors"][0]["message"]
    assert "bot" in message
    assert "2" in message


async def test_tool_calls_with_results_make_three_turns(
    client: httpx.AsyncClient, mock: WachtMock
) -> None:
    mock.engine.agent("bot").reply(
        text="It shipped.",
        reasoning="Look the order up.",
        tool_calls=[ToolCall("lookup_order", {"id": "A1"}, id="call_1", result={"s": "shipped"})],
        usage=Usage(11, 3),
    )
    context_id = await new_context(client)
    body = (await execute(client, context_id, "Where is A1?")).json()
    response = body["response"]
    assert response["tool_calls"] == [
        {"id": "call_1", "name": "lookup_order", "args": {"id": "A1"}}
    ]
    assert response["usage"] == {"input_tokens": 11, "output_tokens": 3}
    assert response["reasoning"] == "Look the order up."
    turns = await history(client, context_id)
    assert [t["role"] for t in turns] == ["user", "assistant", "tool", "assistant"]
    assert turns[1]["blocks"] == [
        {"type": "reasoning", "text": "Look the order up."},
        {"type": "tool_call", "call_id": "call_1", "name": "lookup_order", "args": {"id": "A1"}},
    ]
    assert turns[2]["blocks"] == [
        {"type": "tool_result", "call_id": "call_1", "content": {"s": "shipped"}}
    ]
    assert turns[3]["id"] == response["message_id"]
    assert {t["execution_id"] for t in turns} == {body["execution_id"]}


async def test_a_tool_call_without_result_stops_for_the_tool(
    client: httpx.AsyncClient, mock: WachtMock
) -> None:
    mock.engine.agent("bot").reply(tool_calls=[ToolCall("cancel_order", {"order": "A1"})])
    context_id = await new_context(client)
    response = (await execute(client, context_id)).json()["response"]
    assert response["stop_reason"] == "tool_use"
    assert response["tool_calls"][0]["name"] == "cancel_order"


async def test_an_ask_waits_for_input_then_a_new_message_answers(
    client: httpx.AsyncClient, mock: WachtMock
) -> None:
    mock.engine.agent("bot").replies(
        [{"ask": "Which email?"}, "Thanks, reset link sent."], when_exhausted="repeat_last"
    )
    context_id = await new_context(client)
    asked = (await execute(client, context_id, "Reset my password")).json()
    assert asked["status"] == "waiting_for_input"
    assert asked["response"]["stop_reason"] == "user_input"
    context = (await client.get(f"/ai/execution-contexts/{context_id}")).json()
    assert context["execution_state"]["pending_input_request"] == {"message": "Which email?"}
    assert context["completed_at"] is None
    answered = (await execute(client, context_id, "me@example.com")).json()
    assert answered["status"] == "completed"
    assert answered["conversation_id"] == asked["conversation_id"]
    context = (await client.get(f"/ai/execution-contexts/{context_id}")).json()
    assert context["execution_state"]["pending_input_request"] is None
    assert context["completed_at"] is not None


async def test_continue_adds_only_the_agent_turn(
    client: httpx.AsyncClient, mock: WachtMock
) -> None:
    mock.engine.agent("bot").replies(["first", "continued"])
    context_id = await new_context(client)
    refused = await execute(client, context_id, None)
    assert refused.status_code == 409
    assert "no conversation to continue" in refused.json()["errors"][0]["message"]
    await execute(client, context_id, "go")
    await execute(client, context_id, None)
    turns = await history(client, context_id)
    assert [(t["role"], t["blocks"][0]["text"]) for t in turns] == [
        ("user", "go"),
        ("assistant", "first"),
        ("assistant", "continued"),
    ]


async def test_files_become_file_blocks(client: httpx.AsyncClient) -> None:
    context_id = await new_context(client)
    await client.post(
        f"/ai/execution-contexts/{context_id}/execute",
        json={
            "agent_name": "bot",
            "execution_type": {"new_message": {"message": "see", "files": ["a.pdf"]}},
        },
    )
    user = (await history(client, context_id))[0]
    assert user["blocks"] == [{"type": "text", "text": "see"}, {"type": "file", "file": "a.pdf"}]


async def test_structured_output(client: httpx.AsyncClient, mock: WachtMock) -> None:
    schema = {
        "type": "object",
        "required": ["priority"],
        "properties": {"priority": {"enum": ["high"]}},
    }
    mock.engine.agent("bot").reply(schema=schema, structured_output={"priority": "high"})
    context_id = await new_context(client)
    response = (await execute(client, context_id)).json()["response"]
    assert response["structured_output"] == {"priority": "high"}
    assert response["content"] == '{"priority":"high"}'


async def test_rules_match_on_the_context(client: httpx.AsyncClient, mock: WachtMock) -> None:
    bot = mock.engine.agent("bot")
    bot.when(context_group="sales").reply("sales answer")
    bot.reply("anyone else")
    sales = await new_context(client, context_group="sales")
    support = await new_context(client)
    assert (await execute(client, sales)).json()["response"]["content"] == "sales answer"
    assert (await execute(client, support)).json()["response"]["content"] == "anyone else"


async def test_a_callable_sees_the_context_and_history(
    client: httpx.AsyncClient, mock: WachtMock
) -> None:
    mock.engine.agent("bot").side_effect = lambda call: (
        f"{call.context.title}: turn {call.turn}, {len(call.history)} earlier turns"
    )
    context_id = await new_context(client)
    await execute(client, context_id)
    second = (await execute(client, context_id)).json()["response"]["content"]
    assert second == "Customer Support Context: turn 2, 2 earlier turns"


async def test_http_faults_answer_in_the_envelope_and_record_nothing(
    client: httpx.AsyncClient, mock: WachtMock
) -> None:
    mock.engine.agent("bot").replies(
        [{"fault": {"status": 429, "retry_after": 3, "message": "Slow down"}}, "ok"]
    )
    context_id = await new_context(client)
    before = (await client.get(f"/ai/execution-contexts/{context_id}")).json()
    limited = await execute(client, context_id)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "3"
    assert limited.json() == {"errors": [{"message": "Slow down", "code": 429}]}
    assert (await client.get(f"/ai/execution-contexts/{context_id}")).json() == before
    assert await history(client, context_id) == []
    assert (await execute(client, context_id)).json()["response"]["content"] == "ok"


@pytest.mark.parametrize("status", [500, 503])
async def test_server_faults(client: httpx.AsyncClient, mock: WachtMock, status: int) -> None:
    mock.engine.agent("bot").reply("never", fault=HttpFault(status))
    context_id = await new_context(client)
    response = await execute(client, context_id)
    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == status


async def test_a_mid_stream_fault_marks_the_execution_failed(
    client: httpx.AsyncClient, mock: WachtMock
) -> None:
    mock.engine.agent("bot").reply("a b c", fault=StreamFault("error", 2, "model overloaded", 503))
    context_id = await new_context(client)
    await client.post(
        f"/ai/execution-contexts/{context_id}/execute",
        json={"agent_name": "bot", "execution_type": {"stream": {"message": "go"}}},
    )
    state = (await client.get(f"/ai/execution-contexts/{context_id}")).json()["execution_state"]
    assert state["status"] == "failed"
    assert state["error"] == {"message": "model overloaded", "code": 503}
    assert [t["role"] for t in await history(client, context_id)] == ["user"]


async def test_strict_mode_makes_unscripted_agents_404(
    client: httpx.AsyncClient, mock: WachtMock
) -> None:
    mock.engine.strict = True
    context_id = await new_context(client)
    response = await execute(client, context_id, agent="nobody")
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == "Agent nobody not found"


async def test_the_default_agent_answers_plausibly(client: httpx.AsyncClient) -> None:
    context_id = await new_context(client)
    response = (await execute(client, context_id)).json()["response"]
    assert len(response["content"].split()) > 3
    assert response["usage"]["output_tokens"] > 0


async def test_inactive_contexts_do_not_execute(client: httpx.AsyncClient) -> None:
    context_id = await new_context(client, status="inactive")
    response = await execute(client, context_id)
    assert response.status_code == 409
    assert "is inactive" in response.json()["errors"][0]["message"]


async def test_another_tenant_cannot_read_the_history(client: httpx.AsyncClient) -> None:
    context_id = await new_context(client)
    await execute(client, context_id)
    url = f"/ai/execution-contexts/{context_id}/messages"
    assert (await client.get(url, headers=auth("wk_test_other"))).status_code == 404


async def test_a_stream_fault_means_nothing_to_a_plain_execute(
    client: httpx.AsyncClient, mock: WachtMock
) -> None:
    mock.engine.agent("bot").reply("all of it", fault=StreamFault("drop", 1))
    context_id = await new_context(client)
    body = (await execute(client, context_id)).json()
    assert (body["status"], body["response"]["content"]) == ("completed", "all of it")
    assert [t["role"] for t in await history(client, context_id)] == ["user", "assistant"]


async def test_each_recorded_call_keeps_the_history_it_saw(
    client: httpx.AsyncClient, mock: WachtMock
) -> None:
    mock.engine.agent("bot").reply("Reply to {message}")
    context_id = await new_context(client)
    for message in ("one", "two", "three"):
        await execute(client, context_id, message)
    seen = [
        [(turn.role, turn.text) for turn in record.call.history]
        for record in mock.engine.agent("bot").calls
    ]
    assert seen == [
        [],
        [("user", "one"), ("assistant", "Reply to one")],
        [
            ("user", "one"),
            ("assistant", "Reply to one"),
            ("user", "two"),
            ("assistant", "Reply to two"),
        ],
    ]
