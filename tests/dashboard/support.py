"""What the dashboard's tests share: a served mock with the dashboard on, its token, a key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from wacht_mock.core.server import ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock

TOKEN = "dashboard-test-token-4821"
#: Long enough that masking keeps its last four characters: the rest must never be shown.
SECRET_KEY = "wk_test_Zq7SecretTenantKey9Xy31"
SECRET_PART = "Zq7SecretTenantKey9"
UI = "/_mock/ui"
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
