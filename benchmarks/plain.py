"""The baseline: a plain Starlette implementation of the same API, doing the same work.

What a developer would write by hand in an afternoon, on the same stack (Starlette, pydantic v2,
uvicorn with the same settings): per request it authenticates the bearer key (format check,
deployment id from a hash), reads the body with a ``Content-Type`` and size check, parses it
with ``json.loads`` and validates it with strict pydantic models (unknown fields refused), keeps
contexts in an in-memory store per deployment (newest activity first, filtered, paged),
appends the conversation's turns on execute with a reply and word-count usage, and answers JSON
in the same shape, errors in the same envelope. No journal, no contract notes, no scripts.

``python benchmarks/plain.py --port 0`` serves it as its author would: stock uvicorn (on
httptools and uvloop when installed, as for the mock), its access log off. With
``--mock-server`` it runs on the mock's own server instead (uvicorn with the mock's request
deadlines and one write per response): what is left between the two is the apps' own work.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import itertools
import json
import re
import signal
import socket
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import uvicorn
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wacht_mock.core.server import ServerThread

COLLECTION = "/ai/execution-contexts"
ITEM = COLLECTION + "/{context_id}"
KEY = re.compile(r"wk_(?:live|test)_[A-Za-z0-9]+")
MAX_BODY = 1024 * 1024
REPLY = (
    "Thanks for reaching out. I can help with that: open the account settings, choose the "
    "security tab and follow the reset link we send to your address."
)


class Problem(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def envelope(message: str, status: int) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "code": status}]}, status_code=status)


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class CreateBody(Strict):
    title: str = Field(min_length=1, max_length=255)
    system_instructions: str | None = None
    context_group: str | None = Field(default=None, max_length=255)
    status: Literal["active", "inactive", "archived"] = "active"


class UpdateBody(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=255)
    system_instructions: str | None = None
    context_group: str | None = Field(default=None, max_length=255)
    status: Literal["active", "inactive", "archived"] | None = None


class NewMessage(Strict):
    message: str = Field(min_length=1)
    files: list[Any] | None = None


class ExecutionType(Strict):
    new_message: NewMessage


class ExecuteBody(Strict):
    agent_name: str = Field(min_length=1)
    execution_type: ExecutionType


@dataclass(frozen=True)
class Ctx:
    id: str
    deployment_id: str
    title: str
    system_instructions: str | None
    context_group: str | None
    status: str
    created_at: str
    updated_at: str
    last_activity_at: str
    execution_state: dict[str, Any] | None = None


@dataclass
class Tenant:
    contexts: dict[str, Ctx] = field(default_factory=dict)  # oldest activity first
    turns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


IDS = itertools.count(10**17)
STORE: dict[str, Tenant] = {}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@functools.lru_cache(maxsize=4096)  # as the mock does: a hash per request is work a lookup saves
def deployment_of(key: str) -> str:
    return str(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") >> 1)


def tenant(request: Request) -> Tenant:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not KEY.fullmatch(key):
        raise Problem("Invalid API key" if key else "API key required", 401)
    return STORE.setdefault(deployment_of(key), Tenant())


async def body(request: Request, model: type[Strict]) -> Any:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise Problem("Request body must be application/json", 415)
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Problem("Request body too large", 413)
    try:
        return model.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        raise Problem(f"Invalid request body: {exc}".splitlines()[0], 400) from None


def view(ctx: Ctx) -> dict[str, Any]:
    return {
        "id": ctx.id,
        "deployment_id": ctx.deployment_id,
        "title": ctx.title,
        "system_instructions": ctx.system_instructions,
        "context_group": ctx.context_group,
        "status": ctx.status,
        "created_at": ctx.created_at,
        "updated_at": ctx.updated_at,
        "last_activity_at": ctx.last_activity_at,
        "completed_at": None,
        "execution_state": ctx.execution_state,
    }


def found(store: Tenant, context_id: str) -> Ctx:
    ctx = store.contexts.get(context_id)
    if ctx is None:
        raise Problem(f"Execution context {context_id} not found", 404)
    return ctx


def touch(store: Tenant, ctx: Ctx) -> None:
    """Store ``ctx`` as the one with the newest activity (a dict keeps insertion order)."""
    store.contexts.pop(ctx.id, None)
    store.contexts[ctx.id] = ctx


def number(params: Any, name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise Problem(f"{name} must be an integer from {low} to {high}", 400)
    return int(text)


async def contexts(request: Request) -> Response:
    store = tenant(request)
    if request.method == "POST":
        new: CreateBody = await body(request, CreateBody)
        stamp = now()
        ctx = Ctx(str(next(IDS)), "1", new.title, new.system_instructions, new.context_group,
                  new.status, stamp, stamp, stamp)  # fmt: skip
        touch(store, ctx)
        store.turns[ctx.id] = []
        return JSONResponse(view(ctx))
    params = request.query_params
    limit = number(params, "limit", 50, 1, 100)
    offset = number(params, "offset", 0, 0, 10**9)
    status, group = params.get("status"), params.get("context_group")
    matching = (
        ctx
        for ctx in reversed(store.contexts.values())
        if (status is None or ctx.status == status)
        and (group is None or ctx.context_group == group)
    )
    page = list(itertools.islice(matching, offset, offset + limit + 1))
    data = [view(ctx) for ctx in page[:limit]]
    return JSONResponse(
        {"data": data, "has_more": len(page) > limit, "limit": limit, "offset": offset}
    )


async def context(request: Request) -> Response:
    store = tenant(request)
    ctx = found(store, request.path_params["context_id"])
    if request.method == "DELETE":
        del store.contexts[ctx.id]
        return Response(status_code=204)
    if request.method == "PATCH":
        changes: UpdateBody = await body(request, UpdateBody)
        ctx = replace(ctx, **changes.model_dump(exclude_unset=True), updated_at=now())
        store.contexts[ctx.id] = ctx
    return JSONResponse(view(ctx))


async def execute(request: Request) -> Response:
    store = tenant(request)
    call: ExecuteBody = await body(request, ExecuteBody)
    ctx = found(store, request.path_params["context_id"])
    message = call.execution_type.new_message.message
    turns = store.turns.setdefault(ctx.id, [])
    execution_id, message_id = str(next(IDS)), str(next(IDS))
    stamp = now()
    turns.append({"id": str(next(IDS)), "role": "user", "created_at": stamp, "text": message})
    turns.append({"id": message_id, "role": "assistant", "created_at": stamp, "text": REPLY})
    state = {
        "execution_id": execution_id,
        "conversation_id": ctx.id,
        "agent_name": call.agent_name,
        "status": "completed",
        "pending_input_request": None,
        "error": None,
    }
    touch(store, replace(ctx, last_activity_at=stamp, execution_state=state))
    usage = {"input_tokens": len(message.split()) + 8, "output_tokens": len(REPLY.split())}
    return JSONResponse(
        {
            "execution_id": execution_id,
            "conversation_id": ctx.id,
            "status": "completed",
            "response": {
                "message_id": message_id,
                "role": "assistant",
                "content": REPLY,
                "tool_calls": [],
                "reasoning": None,
                "structured_output": None,
                "usage": usage,
                "stop_reason": "end_turn",
            },
        }
    )


async def problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return envelope(exc.message, exc.status)


async def http_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return envelope(str(exc.detail), exc.status_code)


def plain_app() -> Starlette:
    return Starlette(
        routes=[
            Route(COLLECTION, contexts, methods=["GET", "POST"]),
            Route(ITEM, context, methods=["GET", "PATCH", "DELETE"]),
            Route(ITEM + "/execute", execute, methods=["POST"]),
        ],
        exception_handlers={Problem: problem, HTTPException: http_problem},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="serve the plain Starlette baseline")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mock-server", action="store_true", help="serve on the mock's server")
    args = parser.parse_args()
    if not args.mock_server:
        stock_uvicorn(args.host, args.port)
        return
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda sig, frame: stopping.set())
    with ServerThread(plain_app(), args.host, args.port) as server:
        print(f"plain baseline listening on {server.url} ({server.server.stack})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopping.wait()


def stock_uvicorn(host: str, port: int) -> None:
    """`uvicorn.run(app)` as a plain service runs, on a socket bound first (for its URL)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(plain_app(), access_log=False, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    print(f"plain baseline listening on http://{host}:{sock.getsockname()[1]}", flush=True)
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
