"""Faults scripted from Python act as they do from YAML; a fault that is not one is an error."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from wacht_mock import StreamFault, WachtMock
from wacht_mock.agents import InvalidScript


async def execute(client: httpx.AsyncClient, kind: str = "new_message") -> httpx.Response:
    context = (await client.post("/ai/execution-contexts", json={"title": "Faults"})).json()
    body = {"agent_name": "bot", "execution_type": {kind: {"message": "Hi"}}}
    return await client.post(f"/ai/execution-contexts/{context['id']}/execute", json=body)


def event_names(response: httpx.Response) -> list[str]:
    return [line[7:] for line in response.text.splitlines() if line.startswith("event: ")]


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["reply", "replies"])
async def test_an_http_fault_given_as_a_dict_is_answered(
    mock: WachtMock, client: httpx.AsyncClient, how: str
) -> None:
    fault: dict[str, Any] = {"status": 429, "retry_after": 1}
    bot = mock.engine.agent("bot")
    if how == "reply":
        bot.reply("x", fault=fault)  # type: ignore[arg-type]
    else:
        bot.replies([{"text": "x", "fault": fault}])

    response = await execute(client)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "fault",
    [{"mode": "error", "after_events": 2}, StreamFault("error", after_events=2)],
    ids=["dict", "keyword"],
)
async def test_a_stream_fault_ends_the_stream_with_an_error_event(
    mock: WachtMock, client: httpx.AsyncClient, fault: Any
) -> None:
    mock.engine.agent("bot").reply("one two three four", fault=fault)

    response = await execute(client, "stream")

    assert event_names(response) == ["message_start", "content_delta", "error"]
    assert "three" not in response.text


@pytest.mark.parametrize("fault", ["nonsense", 429, ["status", 429]])
def test_a_fault_that_is_not_one_is_a_type_error(fault: object) -> None:
    with pytest.raises(TypeError, match=r"fault.*HttpFault, a StreamFault or a mapping"):
        WachtMock().engine.agent("bot").reply("x", fault=fault)  # type: ignore[arg-type]


def test_a_bad_fault_mapping_names_the_key() -> None:
    with pytest.raises(InvalidScript, match=r"fault: unknown fault key 'retry'"):
        WachtMock().engine.agent("bot").reply("x", fault={"status": 429, "retry": 1})  # type: ignore[arg-type]


def test_stream_fault_takes_the_mode_first() -> None:
    assert StreamFault("drop", 3) == StreamFault(mode="drop", after_events=3)
    with pytest.raises(TypeError, match=r"mode first: StreamFault\('cut', after_events=2\)"):
        StreamFault(2, "cut")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_scripted_faults_are_noted_in_the_journal(
    mock: WachtMock, client: httpx.AsyncClient
) -> None:
    mock.engine.agent("bot").replies(
        [
            {"text": "x", "fault": {"status": 503}},
            {"text": "y z", "fault": {"mode": "cut", "after_events": 2}},
        ]
    )
    await execute(client)
    await execute(client, "stream")
    faults = [entry.fault for entry in mock.journal if entry.path.endswith("/execute")]
    assert faults == [
        "scripted fault: status 503",
        "scripted stream fault: cut after 2 events",
    ]
