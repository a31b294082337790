"""Servers that break the contract, each in one way: the mock, made to drift.

Each is the real mock behind a small ASGI layer that rewrites one thing, so that everything else
stays right and a check must name exactly that thing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wacht_mock.core.clock import FrozenClock
from wacht_mock.service.app import create_app
from wacht_mock.service.auth import deployment_id_for
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.store import NewContext

KEY = "wk_test_broken"


@dataclass
class Answer:
    """A response as the drift layer sees it (buffered)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def with_json(self, data: Any, status: int | None = None) -> Answer:
        body = json.dumps(data).encode()
        headers = [(k, v) for k, v in self.headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        return Answer(status or self.status, headers, body)

    @property
    def is_json(self) -> bool:
        return any(
            k == b"content-type" and v.startswith(b"application/json") for k, v in self.headers
        )


Rewrite = Callable[[Scope, Answer], Answer]
RewriteScope = Callable[[Scope], Scope]


class Drift:
    """The mock with its requests (``before``) or responses (``after``) rewritten."""

    def __init__(
        self, app: ASGIApp, after: Rewrite | None = None, before: RewriteScope | None = None
    ) -> None:
        self.app = app
        self.after = after
        self.before = before

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.before is not None:
            scope = self.before(dict(scope))
        if self.after is None:
            await self.app(scope, receive, send)
            return
        answer = Answer(0, [], b"")

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status, answer.headers = message["status"], list(message["headers"])
            elif message["type"] == "http.response.body":
                answer.body += message.get("body", b"")

        await self.app(scope, receive, keep)
        await _send(send, self.after(scope, answer))


async def _send(send: Callable[[Message], Awaitable[None]], answer: Answer) -> None:
    await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
    await send({"type": "http.response.body", "body": answer.body})


def seeded_mock() -> WachtMock:
    """A mock whose test deployment holds contexts of every status and two groups."""
    mock = WachtMock(MockConfig(seed=3, clock=FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))))
    tenant = deployment_id_for(KEY)
    for index, status in enumerate(("active", "inactive", "archived") * 2):
        group = ("support", "sales")[index % 2]
        mock.store.create(tenant, NewContext(f"Seeded {index}", None, group, status))
    return mock


def _contexts(data: Any, change: Callable[[dict[str, Any]], None]) -> Any:
    """Apply ``change`` to every execution context in a body (an object or a page of them)."""
    if isinstance(data, dict) and "deployment_id" in data:
        change(data)
    elif isinstance(data, dict) and isinstance(data.get("data"), list):
        for item in data["data"]:
            _contexts(item, change)
    return data


def _on_contexts(change: Callable[[dict[str, Any]], None]) -> Rewrite:
    def rewrite(scope: Scope, answer: Answer) -> Answer:
        if answer.status != 200 or not answer.is_json:
            return answer
        return answer.with_json(_contexts(answer.json(), change))

    return rewrite


def _numeric_deployment_id(context: dict[str, Any]) -> None:
    context["deployment_id"] = int(context["deployment_id"])


def _no_execution_state(context: dict[str, Any]) -> None:
    del context["execution_state"]


def _created_is_201(scope: Scope, answer: Answer) -> Answer:
    creating = scope["method"] == "POST" and scope["path"] == "/ai/execution-contexts"
    return Answer(201, answer.headers, answer.body) if creating and answer.status == 200 else answer


def _crash_on_largest_page(scope: Scope, answer: Answer) -> Answer:
    if b"limit=100" in scope.get("query_string", b""):
        return answer.with_json({"errors": [{"message": "boom", "code": 500}]}, status=500)
    return answer


def _bare_not_found(scope: Scope, answer: Answer) -> Answer:
    if answer.status == 404 and answer.is_json:
        return answer.with_json({"detail": "Not Found"})
    return answer


def _drop_status_filter(scope: Scope) -> Scope:
    query = scope.get("query_string", b"").decode("latin-1")
    kept = "&".join(part for part in query.split("&") if not part.startswith("status="))
    scope["query_string"] = kept.encode("latin-1")
    return scope


BROKEN: dict[str, tuple[Rewrite | None, RewriteScope | None]] = {
    "wrong field type": (_on_contexts(_numeric_deployment_id), None),
    "missing required field": (_on_contexts(_no_execution_state), None),
    "undocumented status code": (_created_is_201, None),
    "server error": (_crash_on_largest_page, None),
    "error outside the envelope": (_bare_not_found, None),
    "filter ignored": (None, _drop_status_filter),
}


def broken_app(kind: str, mock: WachtMock | None = None) -> ASGIApp:
    """The mock (seeded with contexts unless one is given), broken in the way ``kind`` names."""
    after, before = BROKEN[kind]
    return Drift(create_app(mock or seeded_mock()), after=after, before=before)
