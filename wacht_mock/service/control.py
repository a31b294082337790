"""The control API under ``/_mock/``: what the pytest handle does, for tests in any language.

Off unless the server has a control token (``wacht-mock serve --control``); then every call needs
the header ``X-Wacht-Mock-Token: <token>``. It is not part of the contract and never appears in it.
"""

from __future__ import annotations

import gc
import secrets
from typing import Any

import anyio.to_thread
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from wacht_mock._version import __version__
from wacht_mock.core.body import read_json, read_json_bytes
from wacht_mock.core.documents import MAX_DEPTH
from wacht_mock.core.errors import BadRequest, Unauthorized
from wacht_mock.core.jsontext import JsonTextError, decode
from wacht_mock.core.wire import CONTROL_PREFIX
from wacht_mock.service import query
from wacht_mock.service.fixtures import FixtureError, FixtureFile, apply
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.snapshot import SnapshotError, export_state, import_state

PREFIX = CONTROL_PREFIX
TOKEN_HEADER = "x-wacht-mock-token"
MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024
#: A snapshot holds what fixtures made (tool-call arguments, results) a dozen levels down.
SNAPSHOT_DEPTH = MAX_DEPTH + 16


def _mock(request: Request) -> WachtMock:
    mock: WachtMock = request.app.state.mock
    token = mock.config.control_token or ""
    given = request.headers.get(TOKEN_HEADER, "")
    if not token or not secrets.compare_digest(given.encode(), token.encode()):
        raise Unauthorized(f"The control API needs the header {TOKEN_HEADER}: <token>")
    return mock


async def health(request: Request) -> Response:
    _mock(request)
    return JSONResponse({"status": "ok", "version": __version__})


async def reset(request: Request) -> Response:
    _mock(request).reset()
    return Response(status_code=204)


async def fixtures(request: Request) -> Response:
    """Load a fixture document (the YAML files' shape, as JSON): contexts and agent scripts."""
    mock = _mock(request)
    try:
        document = FixtureFile.model_validate(await read_json(request, max_depth=MAX_DEPTH))
        made = apply(document, mock.store, mock.engine, mock.engine.seed, "control API")
    except (ValidationError, FixtureError) as exc:
        raise BadRequest(f"Not a valid fixture document: {exc}") from None
    return JSONResponse({"contexts_created": made})


async def settings(request: Request) -> Response:
    """``{"seed": int | null, "strict_agents": bool}``: read, or change what is sent."""
    mock = _mock(request)
    if request.method == "PUT":
        changes = await read_json(request)
        if not isinstance(changes, dict) or set(changes) - {"seed", "strict_agents"}:
            raise BadRequest('Send {"seed": int | null, "strict_agents": bool}')
        _apply_settings(mock, changes)
    return JSONResponse({"seed": mock.engine.seed, "strict_agents": mock.engine.strict})


def _apply_settings(mock: WachtMock, changes: dict[str, Any]) -> None:
    seed, strict = changes.get("seed", mock.engine.seed), changes.get("strict_agents", False)
    if (seed is not None and type(seed) is not int) or type(strict) is not bool:
        raise BadRequest('"seed" must be an integer or null, "strict_agents" a boolean')
    mock.engine.seed = seed
    if "strict_agents" in changes:
        mock.engine.strict = strict


async def journal(request: Request) -> Response:
    """``GET``: entries numbered above ``since`` (oldest first); ``DELETE``: clear it."""
    mock = _mock(request)
    if request.method == "DELETE":
        mock.journal.clear()
        return Response(status_code=204)
    since = query.integer(request.query_params, "since", default=0, low=0, high=None)
    entries = [entry.as_dict() for entry in mock.journal.entries(since)]
    return JSONResponse({"entries": entries, "total": mock.journal.total})


async def state(request: Request) -> Response:
    """``GET``: the whole state as a snapshot; ``PUT``: replace the state with one."""
    mock = _mock(request)
    if request.method == "GET":
        return JSONResponse(await anyio.to_thread.run_sync(export_state, mock.store))
    raw = await read_json_bytes(request, max_bytes=MAX_SNAPSHOT_BYTES)
    count = await anyio.to_thread.run_sync(_import, mock, raw)  # the event loop keeps serving
    return JSONResponse({"contexts": count})


def _import(mock: WachtMock, raw: bytes) -> int:
    # Full collections over the millions of objects a large snapshot makes would each hold the
    # GIL (and so the event loop) for up to seconds: the cyclic collector waits for the import.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return import_state(mock.store, decode(raw, "the body", max_depth=SNAPSHOT_DEPTH))
    except (JsonTextError, SnapshotError) as exc:
        raise BadRequest(f"Not a valid snapshot: {exc}") from None
    finally:
        if collecting:
            gc.enable()


async def calls(request: Request) -> Response:
    """An agent's call log: ``called``, ``call_count`` and each call with its reply."""
    name = request.path_params["agent_name"]
    script = _mock(request).engine.find(name)
    if script is None:
        return JSONResponse({"called": False, "call_count": 0, "calls": []})
    records = [
        {
            "kind": record.call.kind,
            "message": record.call.message,
            "context_id": record.call.context.id,
            "turn": record.call.turn,
            "reply": None if record.reply is None else record.reply.text,
        }
        for record in script.calls
    ]
    return JSONResponse(
        {"called": script.called, "call_count": script.call_count, "calls": records}
    )


control = Mount(
    PREFIX,
    routes=[
        Route("/health", health, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/fixtures", fixtures, methods=["POST"]),
        Route("/settings", settings, methods=["GET", "PUT"]),
        Route("/journal", journal, methods=["GET", "DELETE"]),
        Route("/state", state, methods=["GET", "PUT"]),
        Route("/agents/{agent_name}/calls", calls, methods=["GET"]),
    ],
)
