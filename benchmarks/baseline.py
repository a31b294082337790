"""The baseline: bare Starlette endpoints on the mock's paths, answering with the mock's own JSON.

No auth, no validation, no store, no journal: each endpoint reads the request body (so the
transport does the same work) and returns a body captured from the mock in the same run, so
that both sides serialise the same JSON. The ratio of the mock to this is what the mock's own
work costs on top of Starlette.

``python benchmarks/baseline.py --port 0 --bodies FILE`` serves it the way ``wacht-mock serve``
serves the mock (the same uvicorn settings, one process), for the throughput runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import threading
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message

from wacht_mock.core.server import ServerThread

COLLECTION = "/ai/execution-contexts"
ITEM = COLLECTION + "/{context_id}"
SUPPORT = {
    "title": "Customer Support Context",
    "system_instructions": "You are a helpful customer support assistant.",
    "context_group": "support",
    "status": "active",
}
MESSAGE = "Help me reset my password"


def execute_body(kind: str = "new_message") -> dict[str, Any]:
    return {"agent_name": "support-bot", "execution_type": {kind: {"message": MESSAGE}}}


@dataclass(frozen=True)
class Bodies:
    """What the mock answered to each operation, for the baseline to answer with."""

    context: dict[str, Any]
    created: dict[str, Any]
    updated: dict[str, Any]
    page: dict[str, Any]
    executed: dict[str, Any]
    stream: list[str]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> Bodies:
        return cls(**json.loads(path.read_text()))


async def capture(app: ASGIApp, headers: dict[str, str], page_size: int) -> Bodies:
    """One of each operation against the mock app, in-process; its answers."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        client.headers.update(headers)
        created = (await client.post(COLLECTION, json=SUPPORT)).json()
        for _ in range(page_size):
            await client.post(COLLECTION, json=SUPPORT)
        url = f"{COLLECTION}/{created['id']}"
        updated = (await client.patch(url, json={"title": "Updated Support Context"})).json()
        executed = (await client.post(url + "/execute", json=execute_body())).json()
        context = (await client.get(url)).json()
        page = (await client.get(COLLECTION, params={"limit": page_size})).json()
    stream = await stream_events(app, f"{url}/execute", headers)
    return Bodies(context, created, updated, page, executed, stream)


async def stream_events(app: ASGIApp, path: str, headers: dict[str, str]) -> list[str]:
    """The SSE events of a streamed execution, each as the text the mock wrote."""
    chunks: list[str] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            chunks.append(message["body"].decode())

    await call_asgi(app, "POST", path, headers, json.dumps(execute_body("stream")).encode(), send)
    return chunks


async def call_asgi(
    app: ASGIApp,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    send: Any,
) -> None:
    """One request straight into an ASGI app, without a client library in between."""
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw_headers.append((b"content-type", b"application/json"))
    raw_headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    answered = asyncio.Event()

    async def receive() -> Message:
        nonlocal sent
        if sent:  # the client stays until the whole answer came (a stream stops when it goes)
            await answered.wait()
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def sending(message: Message) -> None:
        await send(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            answered.set()

    await app(scope, receive, sending)


def bare_app(bodies: Bodies) -> Starlette:
    """Starlette with one endpoint per path, each returning the captured JSON."""

    async def contexts(request: Request) -> Response:
        if request.method == "POST":
            await request.body()
            return JSONResponse(bodies.created)
        return JSONResponse(bodies.page)

    async def context(request: Request) -> Response:
        if request.method == "PATCH":
            await request.body()
            return JSONResponse(bodies.updated)
        if request.method == "DELETE":
            return Response(status_code=204)
        return JSONResponse(bodies.context)

    async def execute(request: Request) -> Response:
        if b'"stream"' in await request.body():
            return StreamingResponse(_events(bodies.stream), media_type="text/event-stream")
        return JSONResponse(bodies.executed)

    return Starlette(
        routes=[
            Route(COLLECTION, contexts, methods=["GET", "POST"]),
            Route(ITEM, context, methods=["GET", "PATCH", "DELETE"]),
            Route(ITEM + "/execute", execute, methods=["POST"]),
        ]
    )


async def _events(events: list[str]) -> AsyncIterator[str]:
    for event in events:
        yield event


def main() -> None:
    parser = argparse.ArgumentParser(description="serve the bare Starlette baseline")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bodies", type=Path, required=True)
    args = parser.parse_args()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda sig, frame: stopping.set())
    with ServerThread(bare_app(Bodies.load(args.bodies)), args.host, args.port) as server:
        print(f"baseline listening on {server.url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopping.wait()


if __name__ == "__main__":
    main()
