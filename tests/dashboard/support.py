"""What the dashboard's tests share: a served mock with the dashboard on, its token, a key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from wacht_mock.core.server import ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock

TOKEN = "dashboard-test-token-4821"
#: Long enough that masking keeps its last four characters: the rest must never be shown.
SECRET_KEY = "wk_test_Zq7SecretTenantKey9Xy31"
SECRET_PART = "Zq7SecretTenantKey9"
UI = "/_mock/ui"
COLLECTION = "/ai/execution-contexts"
#: Every dashboard URL that holds data (the assets hold none and need no sign-in).
GUARDED_PATHS = ("/", "/contexts", "/agents", "/actions", "/feed", "/requests/1")

#: An agent whose replies hold a reasoning block and a tool call with its result, and whose
#: streamed reply ends with an error event after two events.
CONVERSATION_FIXTURE = """
agents:
  order-bot:
    rules:
      - when: {message_contains: refund}
        reply:
          reasoning: The user wants a refund; look the order up first.
          tool_calls:
            - {name: lookup_order, args: {order_id: A1}, result: {status: shipped}}
          text: Your order A1 has shipped.
      - when: {kind: stream}
        reply:
          text: This stream breaks part way through its reply.
          fault: {mode: error, after_events: 2, message: Upstream model overloaded, code: 503}
"""


def dashboard_config(**changes: object) -> MockConfig:
    fields: dict[str, object] = {"seed": 1, "control_token": TOKEN, "dashboard": True}
    return MockConfig(**{**fields, **changes})  # type: ignore[arg-type]


@contextmanager
def serving(**changes: object) -> Iterator[tuple[WachtMock, str]]:
    """A mock with the dashboard on, over a real socket: the mock and its URL."""
    mock = WachtMock(dashboard_config(**changes))
    with ServerThread(create_app(mock), port=0) as server:
        yield mock, server.url


def api(url: str, key: str = SECRET_KEY) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=5)


def control(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"X-Wacht-Mock-Token": TOKEN}, timeout=5)


def conversation(url: str) -> str:
    """A context with a tool call, a reasoning block and a stream that broke; its id."""
    with control(url) as setup:
        answer = setup.post(
            "/_mock/fixtures",
            content=CONVERSATION_FIXTURE,
            headers={"Content-Type": "application/yaml"},
        )
        assert answer.status_code == 200, answer.text
    with api(url) as client:
        context = client.post(COLLECTION, json={"title": "Refund for A1"}).json()
        execute = f"{COLLECTION}/{context['id']}/execute"
        asked = {"new_message": {"message": "I want a refund"}}
        answer = client.post(execute, json={"agent_name": "order-bot", "execution_type": asked})
        assert answer.status_code == 200, answer.text
        streamed = {"stream": {"message": "And my other order?"}}
        answer = client.post(execute, json={"agent_name": "order-bot", "execution_type": streamed})
        assert "event: error" in answer.text
    return str(context["id"])
