"""Runs that wait: a question, a tool call awaiting approval, a tool the client runs, a cancel.

Each is asked for by a script and answered with the platform's variant, in the guide profile
(one more single-key variant) and, where the behaviour differs, in the platform profile (whose
context ``status`` follows the run).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.helpers import auth
from wacht_mock import (
    FrozenClock,
    InvalidScript,
    MockConfig,
    Reply,
    ServerThread,
    ToolCall,
    WachtMock,
    create_app,
)
from wacht_mock.service.store import NewContext

pytestmark = pytest.mark.anyio
COLLECTION = "/ai/execution-contexts"


def mock_of(profile: str = "guide") -> WachtMock:
    clock = FrozenClock(datetime(2026, 3, 1, tzinfo=UTC))
    return WachtMock(MockConfig(seed=1, clock=clock, profile=profile))  # type: ignore[arg-type]


@pytest.fixture(params=["guide", "platform"])
def mock(request: pytest.FixtureRequest) -> WachtMock:
    return mock_of(request.param)


@pytest.fixture
async def client(mock: WachtMock) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(mock))
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        yield c


class Conversation:
    """One context, and the calls a test makes in it."""

    def __init__(self, client: httpx.AsyncClient, context_id: str) -> None:
        self.client = client
        self.id = context_id

    async def send(self, variant: str, fields: dict[str, Any]) -> httpx.Response:
        body = {"agent_name": "support-bot", "execution_type": {variant: fields}}
        return await self.client.post(f"{COLLECTION}/{self.id}/execute", json=body)

    async def state(self) -> dict[str, Any]:
        context: dict[str, Any] = (await self.client.get(f"{COLLECTION}/{self.id}")).json()
        return context

    async def turns(self) -> list[dict[str, Any]]:
        page = (await self.client.get(f"{COLLECTION}/{self.id}/messages")).json()
        turns: list[dict[str, Any]] = page["data"]
        return turns


@pytest.fixture
async def chat(client: httpx.AsyncClient) -> Conversation:
    context = (await client.post(COLLECTION, json={"title": "Support"})).json()
    return Conversation(client, context["id"])


REFUND = ToolCall("refund", {"order": "A1"}, result={"refunded": True}, requires_approval=True)
LOOKUP = ToolCall("lookup_order", {"order": "A1"}, client_executed=True)


async def test_a_question_is_answered_with_user_input_response(
    mock: WachtMock, chat: Conversation
) -> None:
    bot = mock.engine.agent("support-bot")
    bot.replies([Reply(ask="Which email?"), Reply("Sent to {message}.")])
    asked = await chat.send("new_message", {"message": "reset my password"})
    assert asked.json()["status"] == "waiting_for_input"
    answer = await chat.send("user_input_response", {"message": "jane@example.com"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["response"]["content"] == "Sent to jane@example.com."
    assert bot.calls[-1].call.kind == "user_input_response"
    again = await chat.send("user_input_response", {"message": "?"})
    assert again.status_code == 409
    assert "has asked no question" in again.json()["errors"][0]["message"]


async def test_a_tool_call_waits_for_its_approval(mock: WachtMock, chat: Conversation) -> None:
    mock.engine.agent("support-bot").reply("Refunded.", tool_calls=[REFUND], reasoning="ok")
    paused = await chat.send("new_message", {"message": "refund A1"})
    assert paused.json()["status"] == "waiting_for_input"
    assert paused.json()["response"]["content"] == ""
    state = (await chat.state())["execution_state"]
    pending = state["pending_input_request"]
    assert pending["kind"] == "approval"
    assert [call["name"] for call in pending["tool_calls"]] == ["refund"]
    assert [t["role"] for t in await chat.turns()] == ["user", "assistant"]

    blocked = await chat.send("new_message", {"message": "hello?"})
    assert blocked.status_code == 409
    assert "waits for an approval_response" in blocked.json()["errors"][0]["message"]
    wrong = await chat.send(
        "approval_response",
        {"request_message_id": "1", "approvals": [{"tool_name": "refund", "mode": "allow_once"}]},
    )
    assert wrong.status_code == 409
    none = await chat.send(
        "approval_response", {"request_message_id": pending["request_message_id"], "approvals": []}
    )
    assert none.status_code == 400
    assert "no approval for 'refund'" in none.json()["errors"][0]["message"]

    approved = await chat.send(
        "approval_response",
        {
            "request_message_id": pending["request_message_id"],
            "approvals": [{"tool_name": "refund", "mode": "allow_once"}],
        },
    )
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["response"]["content"]) == (
        "completed",
        "Refunded.",
    )
    turns = await chat.turns()
    assert [t["role"] for t in turns] == ["user", "assistant", "tool", "assistant"]
    assert turns[2]["blocks"] == [
        {"type": "tool_result", "call_id": REFUND_ID(turns), "content": {"refunded": True}}
    ]
    # allow_once: the next refund asks again.
    again = await chat.send("new_message", {"message": "refund A2"})
    assert again.json()["status"] == "waiting_for_input"


def REFUND_ID(turns: list[dict[str, Any]]) -> str:
    call_id: str = turns[1]["blocks"][-1]["call_id"]
    return call_id


async def test_allow_always_stops_asking_in_that_context(
    mock: WachtMock, chat: Conversation
) -> None:
    mock.engine.agent("support-bot").reply("Refunded.", tool_calls=[REFUND])
    paused = await chat.send("new_message", {"message": "refund"})
    assert paused.json()["status"] == "waiting_for_input"
    message_id = (await chat.state())["execution_state"]["pending_input_request"][
        "request_message_id"
    ]
    approvals = [{"tool_name": "refund", "mode": "allow_always"}]
    done = await chat.send(
        "approval_response", {"request_message_id": message_id, "approvals": approvals}
    )
    assert done.json()["status"] == "completed"
    second = await chat.send("new_message", {"message": "refund again"})
    assert (second.json()["status"], second.json()["response"]["content"]) == (
        "completed",
        "Refunded.",
    )


async def test_a_client_executed_tool_waits_for_its_result(
    mock: WachtMock, chat: Conversation
) -> None:
    mock.engine.agent("support-bot").reply("It shipped.", tool_calls=[LOOKUP])
    paused = await chat.send("new_message", {"message": "where is A1?"})
    pending = (await chat.state())["execution_state"]["pending_input_request"]
    assert (paused.json()["status"], pending["kind"]) == ("waiting_for_input", "function_result")
    wrong = await chat.send("platform_function_result", {"execution_id": "1", "result": {}})
    assert wrong.status_code == 409
    delivered = await chat.send(
        "platform_function_result",
        {"execution_id": pending["execution_id"], "result": {"status": "shipped"}},
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["response"]["content"] == "It shipped."
    turns = await chat.turns()
    assert turns[-2]["blocks"][0]["content"] == {"status": "shipped"}
    nothing = await chat.send("platform_function_result", {"execution_id": "1", "result": 1})
    assert nothing.status_code == 409


async def test_a_result_with_a_number_out_of_range_is_refused_and_the_run_still_waits(
    mock: WachtMock, chat: Conversation
) -> None:
    """1e400 is no double: taken as infinity, it was kept and every read of the history
    failed with a 500 from then on."""
    mock.engine.agent("support-bot").reply("It shipped.", tool_calls=[LOOKUP])
    await chat.send("new_message", {"message": "where is A1?"})
    pending = (await chat.state())["execution_state"]["pending_input_request"]
    result = {"execution_id": pending["execution_id"], "result": {"weight": "WEIGHT"}}
    variant = {"agent_name": "support-bot", "execution_type": {"platform_function_result": result}}
    body = json.dumps(variant).replace('"WEIGHT"', "1e400")
    refused = await chat.client.post(
        f"{COLLECTION}/{chat.id}/execute",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert refused.status_code == 400, refused.text
    assert "number 1e400 is out of range" in refused.json()["errors"][0]["message"]
    turns = await chat.client.get(f"{COLLECTION}/{chat.id}/messages")
    assert turns.status_code == 200, turns.text
    assert (await chat.state())["execution_state"]["status"] == "waiting_for_input"


@pytest.mark.parametrize(("depth", "status"), [(128, 200), (129, 400)])
async def test_a_result_nested_past_128_levels_is_refused_as_the_platform_server_did(
    mock: WachtMock, chat: Conversation, depth: int, status: int
) -> None:
    """serde's limit on the platform server; the history of what is kept stays readable."""
    mock.engine.agent("support-bot").reply("It shipped.", tool_calls=[LOOKUP])
    await chat.send("new_message", {"message": "where is A1?"})
    pending = (await chat.state())["execution_state"]["pending_input_request"]
    inner = depth - 3  # the body, execution_type and the variant hold it
    result = {"execution_id": pending["execution_id"], "result": "RESULT"}
    variant = {"agent_name": "support-bot", "execution_type": {"platform_function_result": result}}
    body = json.dumps(variant).replace('"RESULT"', "[" * inner + "]" * inner)
    answer = await chat.client.post(
        f"{COLLECTION}/{chat.id}/execute",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == status, answer.text
    if status == 400:
        assert "nested deeper than 128 levels" in answer.json()["errors"][0]["message"]
    turns = await chat.client.get(f"{COLLECTION}/{chat.id}/messages")
    assert turns.status_code == 200, turns.text


async def test_cancel_ends_a_waiting_run(mock: WachtMock, chat: Conversation) -> None:
    mock.engine.agent("support-bot").reply("Refunded.", tool_calls=[REFUND])
    nothing = await chat.send("cancel", {})
    assert nothing.status_code == 409
    await chat.send("new_message", {"message": "refund"})
    cancelled = await chat.send("cancel", {})
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["response"]) == ("interrupted", None)
    context = await chat.state()
    assert context["execution_state"]["status"] == "interrupted"
    assert context["execution_state"]["pending_input_request"] is None
    if mock.profile.name == "platform":
        assert context["status"] == "interrupted"
    assert (await chat.send("cancel", {})).status_code == 409


def test_cancel_stops_a_stream_in_flight() -> None:
    mock = mock_of("platform")
    words = " ".join(f"word{i}" for i in range(200))
    mock.engine.agent("support-bot").reply(words, chunk_delay=0.01)
    with (
        ServerThread(create_app(mock)) as server,
        httpx.Client(base_url=server.url, headers=auth()) as http,
    ):
        context = http.post(COLLECTION, json={"title": "t"}).json()
        url = f"{COLLECTION}/{context['id']}/execute"
        stream = {"agent_name": "support-bot", "execution_type": {"stream": {"message": "go"}}}
        seen: list[str] = []
        statuses: list[str] = []

        def read() -> None:
            with http.stream("POST", url, json=stream) as response:
                for line in response.iter_lines():
                    seen.append(line)

        reader = threading.Thread(target=read)
        reader.start()
        deadline = time.monotonic() + 5
        while sum(line.startswith("event: content_delta") for line in seen) < 3:
            assert time.monotonic() < deadline, "the stream never started"
            time.sleep(0.01)
        statuses.append(http.get(f"{COLLECTION}/{context['id']}").json()["status"])
        cancel = {"agent_name": "support-bot", "execution_type": {"cancel": {}}}
        assert http.post(url, json=cancel).status_code == 200
        reader.join(5)
        assert not reader.is_alive()
        after = http.get(f"{COLLECTION}/{context['id']}").json()
    assert statuses == ["running"]
    events = [line.removeprefix("event: ") for line in seen if line.startswith("event: ")]
    assert events[-1] == "message_end"
    assert events.count("content_delta") < 200
    last = next(line for line in reversed(seen) if line.startswith("data: "))
    assert '"status":"interrupted"' in last
    assert (after["status"], after["execution_state"]["status"]) == ("interrupted", "interrupted")


def test_scripts_declare_approval_and_client_tools_in_yaml(tmp_path: Any) -> None:
    path = tmp_path / "agents.yaml"
    path.write_text(
        "agents:\n"
        "  support-bot:\n"
        "    reply:\n"
        "      text: Done.\n"
        "      tool_calls:\n"
        "        - {name: refund, args: {order: A1}, result: {ok: true}, requires_approval: true}\n"
        "        - {name: lookup_order, args: {order: A1}, client_executed: true}\n"
    )
    mock = WachtMock(MockConfig(fixtures=[path]))
    context = mock.store.create("1", NewContext("t"))
    request = mock.requests.execute(
        {"agent_name": "support-bot", "execution_type": {"new_message": {"message": "hi"}}}
    ).value
    execution = mock.executions.execute("1", context.id, request)
    state = execution.context.execution_state
    assert state is not None
    assert state.pending_input_request is not None
    assert (execution.status, state.pending_input_request.kind) == ("waiting_for_input", "approval")


def test_a_client_executed_tool_call_takes_no_result() -> None:
    with pytest.raises(InvalidScript, match="gets its result from the client"):
        ToolCall("lookup", {}, result=1, client_executed=True)
