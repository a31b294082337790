"""Faults on any operation: an error status, a latency or a dropped connection, on schedule.

A `FaultRule` matches an operation (`list`, `create`, `get`, `update`,
`delete`, `execute`, `messages`) or a method and a path pattern (`*` is one path
segment or more), optionally only for one deployment (an API key). It fires on `times`
matching calls (the next N; then it is spent) and, with a `probability`, on a seeded draw:
the mock's seed gives the same sequence for the same requests. Every fault that fires is noted
in the journal (`entry.fault`).

```yaml
faults:
  - {operation: list, status: 503, times: 2}            # the next two lists fail, then 200
  - {operation: execute, status: 429, retry_after: 1, probability: 0.2}
  - {method: GET, path: "/ai/execution-contexts/*", latency: 0.5, deployment: wk_test_slow}
  - {operation: create, drop: true, times: 1}           # the connection closes, no answer
```
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.types import ASGIApp, Receive, Scope, Send

from wacht_mock.core.errors import ApiError
from wacht_mock.core.recording import facts
from wacht_mock.core.wire import CONTROL_PREFIX
from wacht_mock.service.auth import deployment_id_for, is_well_formed

Operation = Literal["list", "create", "get", "update", "delete", "execute", "messages"]
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "collection"): "list",
    ("POST", "collection"): "create",
    ("GET", "item"): "get",
    ("PATCH", "item"): "update",
    ("DELETE", "item"): "delete",
    ("POST", "execute"): "execute",
    ("GET", "messages"): "messages",
}
_COLLECTION = "/ai/execution-contexts"


def operation_of(method: str, path: str) -> Operation | None:
    """The contract operation a request is for, if it is one."""
    parts = path.rstrip("/").split("/") if path != _COLLECTION else []
    if path == _COLLECTION:
        shape = "collection"
    elif path.startswith(_COLLECTION + "/") and len(parts) == 4:
        shape = "item"
    elif (
        path.startswith(_COLLECTION + "/")
        and len(parts) == 5
        and parts[4]
        in (
            "execute",
            "messages",
        )
    ):
        shape = parts[4]
    else:
        return None
    return OPERATIONS.get((method.upper(), shape))


class FaultRule(BaseModel):
    """One fault: what it matches, what it does, and when it fires."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    operation: Operation | None = None
    method: str | None = None
    path: str | None = None
    deployment: str | None = None
    status: Annotated[int, Field(ge=400, le=599)] | None = None
    retry_after: Annotated[int, Field(ge=0)] | None = None
    message: str | None = None
    latency: Annotated[float, Field(ge=0, le=600)] = 0.0
    drop: bool = False
    times: Annotated[int, Field(ge=1)] | None = None
    probability: Annotated[float, Field(ge=0, le=1)] | None = None

    @model_validator(mode="after")
    def _sensible(self) -> FaultRule:
        if self.operation is None and self.method is None and self.path is None:
            raise ValueError("a fault needs an operation, or a method and/or a path to match")
        if self.operation is not None and (self.method or self.path):
            raise ValueError("give an operation, or a method and path, not both")
        if self.status is None and not self.drop and not self.latency:
            raise ValueError("a fault needs a status, drop: true or a latency")
        if self.status is not None and self.drop:
            raise ValueError("a fault answers with a status or drops the connection, not both")
        if self.retry_after is not None and self.status is None:
            raise ValueError("retry_after goes with a status")
        if self.deployment is not None and not is_well_formed(self.deployment):
            raise ValueError(f"deployment must be an API key (wk_test_…), got {self.deployment!r}")
        return self

    def matches(self, method: str, path: str, deployment_id: Callable[[], str | None]) -> bool:
        """Whether this rule is for a request (`deployment_id` is asked only if need be)."""
        if self.operation is not None and operation_of(method, path) != self.operation:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is not None and not fnmatch.fnmatchcase(path, self.path):
            return False
        return self.deployment is None or deployment_id_for(self.deployment) == deployment_id()

    def describe(self) -> str:
        target = self.operation or f"{self.method or '*'} {self.path or '*'}"
        effects = []
        if self.latency:
            effects.append(f"latency {self.latency:g} s")
        if self.status is not None:
            effects.append(f"status {self.status}")
        if self.drop:
            effects.append("drop")
        return f"{target}: {', '.join(effects)}"


def parse_rules(data: object, source: str) -> list[FaultRule]:
    """Fault rules from a list of mappings; a `ValueError` names the source and the place."""
    items = data if isinstance(data, list) else [data]
    rules = []
    for index, item in enumerate(items):
        where = f"{source}: faults[{index}]" if isinstance(data, list) else source
        try:
            rules.append(FaultRule.model_validate(item))
        except ValidationError as exc:
            problems = "; ".join(
                (".".join(map(str, e["loc"])) + ": " if e["loc"] else "")
                + str(e.get("ctx", {}).get("error", e["msg"]))
                for e in exc.errors(include_url=False)
            )
            raise ValueError(f"{where}: {problems}") from None
    return rules


@dataclass
class _Scheduled:
    rule: FaultRule
    number: int
    left: int | None
    draws: random.Random
    fired: int = 0


@dataclass(frozen=True)
class Firing:
    """A fault that fired: what to do, and the journal's note."""

    rule: FaultRule
    note: str


class FaultPlan:
    """The fault rules of a mock, in order (the first one that fires wins). Thread-safe."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Scheduled] = []
        self._seed = seed
        self._count = 0

    def add(self, rules: Iterable[FaultRule]) -> None:
        with self._lock:
            for rule in rules:
                self._count += 1
                draws = random.Random(f"{self._seed or 0}:fault:{self._count}")
                self._rules.append(_Scheduled(rule, self._count, rule.times, draws))

    def reset(self, seed: int | None) -> None:
        with self._lock:
            self._rules.clear()
            self._seed = seed
            self._count = 0

    def pick(
        self, method: str, path: str, deployment_id: Callable[[], str | None] = lambda: None
    ) -> Firing | None:
        """The fault that fires for this request, if one does (and count it)."""
        if not self._rules:
            return None
        with self._lock:
            for item in self._rules:
                if item.left == 0 or not item.rule.matches(method, path, deployment_id):
                    continue
                probability = item.rule.probability
                if probability is not None and item.draws.random() >= probability:
                    continue
                item.fired += 1
                if item.left is not None:
                    item.left -= 1
                of = f" ({item.fired} of {item.rule.times})" if item.rule.times else ""
                return Firing(item.rule, f"fault {item.number}{of}: {item.rule.describe()}")
        return None

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "number": item.number,
                    **item.rule.model_dump(exclude_defaults=True),
                    "fired": item.fired,
                    "left": item.left,
                }
                for item in self._rules
            ]

    def __len__(self) -> int:
        return len(self._rules)


class FaultInjector:
    """ASGI middleware: the mock's fault plan, applied before the routes see a request."""

    def __init__(self, app: ASGIApp, plan: Callable[[], FaultPlan]) -> None:
        self.app = app
        self.plan = plan  # the mock's plan, looked up per request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        plan: FaultPlan = self.plan()
        firing = plan.pick(scope["method"], scope["path"], lambda: _deployment(scope["headers"]))
        if firing is None:
            await self.app(scope, receive, send)
            return
        facts(scope).fault = firing.note
        rule = firing.rule
        if rule.latency:
            await asyncio.sleep(rule.latency)
        if rule.drop:
            # An ASGI app cannot close a connection before it answers (the server would send a
            # 500); a response that starts and never ends makes the server drop the connection.
            facts(scope).dropped = True
            await _drain(receive)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            return
        if rule.status is None:
            await self.app(scope, receive, send)
            return
        await _answer(send, rule)


#: What a dropped request's body is read of before the connection goes (see `_drain`).
DRAIN_LIMIT = 1024 * 1024


async def _drain(receive: Receive) -> None:
    """Read the request's body (up to `DRAIN_LIMIT`) before a drop: a connection closed with
    unread bytes in the server's buffer is reset, and the client would see a reset one time and
    a server that hung up the next; read first, it always sees the server hang up."""
    read = 0
    while read <= DRAIN_LIMIT:
        message = await receive()
        if message["type"] != "http.request":
            return
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _deployment(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            return deployment_id_for(key.strip()) if scheme.lower() == "bearer" else None
    return None


async def _answer(send: Send, rule: FaultRule) -> None:
    assert rule.status is not None
    message = rule.message or HTTPStatus(rule.status).phrase
    body = ApiError(message, status=rule.status).body().encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    retry_after = rule.retry_after
    if retry_after is None and rule.status == HTTPStatus.TOO_MANY_REQUESTS:
        retry_after = 1
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": rule.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
