"""The control API under ``/_mock/``: what the pytest handle does, for tests in any language.

Off unless the server has a control token (``wacht-mock serve --control``); then every call needs
the header ``X-Wacht-Mock-Token: <token>``. It is not part of the contract and never appears in it.
"""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from wacht_mock._version import __version__
from wacht_mock.contract.documents import PROFILES
from wacht_mock.core.body import read_json
from wacht_mock.core.errors import BadRequest, Unauthorized
from wacht_mock.core.wire import CONTROL_PREFIX
from wacht_mock.service.auth import deployment_id_for, is_well_formed
from wacht_mock.service.fixtures import FixtureError, FixtureFile, apply
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.snapshot import export_state, import_state

PREFIX = CONTROL_PREFIX
TOKEN_HEADER = "x-wacht-mock-token"


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
    """Everything back to the start; or one deployment, named in the body
    (``{"api_key": …}`` or ``{"deployment_id": …}``) or the query (``?deployment_id=…``)."""
    mock = _mock(request)
    mock.reset(await _deployment_to_reset(request))
    return Response(status_code=204)


RESET_SHAPE = 'Send no body, {"api_key": "wk_…"} or {"deployment_id": "<digits>"}'


async def _deployment_to_reset(request: Request) -> str | None:
    query = dict(request.query_params)
    if set(query) - {"deployment_id"}:
        raise BadRequest("Query parameters: only deployment_id is known here")
    given = await read_json(request, max_bytes=4096) if await request.body() else {}
    if not isinstance(given, dict) or len(given) > 1 or set(given) - {"api_key", "deployment_id"}:
        raise BadRequest(RESET_SHAPE)
    if "deployment_id" in query:
        if given:
            raise BadRequest("Name the deployment once: in the query or in the body")
        given = query
    if "api_key" in given:
        key = given["api_key"]
        if not isinstance(key, str) or not is_well_formed(key):
            raise BadRequest(f"{RESET_SHAPE}: api_key is not a well-formed API key")
        return deployment_id_for(key)
    if "deployment_id" in given:
        return _deployment_id(given["deployment_id"])
    return None


def _deployment_id(value: object) -> str:
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()) or len(value) > 19:
        raise BadRequest(f"deployment_id: expected a decimal deployment id, got {value!r}")
    return value


async def fixtures(request: Request) -> Response:
    """Load a fixture document (the YAML files' shape, as JSON): contexts and agent scripts."""
    mock = _mock(request)
    try:
        document = FixtureFile.model_validate(await read_json(request))
        made = apply(
            document,
            mock.store,
            mock.engine,
            mock.engine.seed,
            "control API",
            mock.profile.new_status,
        )
    except (ValidationError, FixtureError) as exc:
        raise BadRequest(f"Not a valid fixture document: {exc}") from None
    return JSONResponse({"contexts_created": made})


async def settings(request: Request) -> Response:
    """``{"seed": int | null, "strict_agents": bool, "profile": "guide" | "platform"}``: read,
    or change what is sent (a reset goes back to the configured values)."""
    mock = _mock(request)
    if request.method == "PUT":
        changes = await read_json(request)
        if not isinstance(changes, dict) or set(changes) - {"seed", "strict_agents", "profile"}:
            raise BadRequest(
                'Send {"seed": int | null, "strict_agents": bool, "profile": "guide" | "platform"}'
            )
        _apply_settings(mock, changes)
    return JSONResponse(
        {
            "seed": mock.engine.seed,
            "strict_agents": mock.engine.strict,
            "profile": mock.profile.name,
        }
    )


def _apply_settings(mock: WachtMock, changes: dict[str, Any]) -> None:
    seed, strict = changes.get("seed", mock.engine.seed), changes.get("strict_agents", False)
    if (seed is not None and type(seed) is not int) or type(strict) is not bool:
        raise BadRequest('"seed" must be an integer or null, "strict_agents" a boolean')
    profile = changes.get("profile", mock.profile.name)
    if profile not in PROFILES:
        raise BadRequest(f'"profile" must be one of {", ".join(PROFILES)}, got {profile!r}')
    if profile != mock.profile.name:
        mock.speak(profile)
    mock.engine.seed = seed
    if "strict_agents" in changes:
        mock.engine.strict = strict


async def journal(request: Request) -> Response:
    """``GET``: entries numbered above ``since`` (oldest first); ``DELETE``: clear it."""
    mock = _mock(request)
    if request.method == "DELETE":
        mock.journal.clear()
        return Response(status_code=204)
    since = request.query_params.get("since", "0")
    if not since.isdigit():
        raise BadRequest(f"Query parameter 'since': expected an entry number, got {since!r}")
    entries = [entry.as_dict() for entry in mock.journal.entries(int(since))]
    return JSONResponse({"entries": entries, "total": mock.journal.total})


async def state(request: Request) -> Response:
    """``GET``: the whole state as a snapshot; ``PUT``: replace the state with one."""
    mock = _mock(request)
    if request.method == "GET":
        return JSONResponse(export_state(mock.store))
    snapshot = await read_json(request, max_bytes=256 * 1024 * 1024)
    try:
        count = import_state(mock.store, snapshot)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadRequest(f"Not a valid snapshot: {exc!r}") from None
    return JSONResponse({"contexts": count})


async def calls(request: Request) -> Response:
    """An agent's call log: ``called``, ``call_count`` and each call with its reply; every
    deployment's calls, or one's (``?deployment_id=…``)."""
    name = request.path_params["agent_name"]
    query = dict(request.query_params)
    if set(query) - {"deployment_id"}:
        raise BadRequest("Query parameters: only deployment_id is known here")
    deployment_id = _deployment_id(query["deployment_id"]) if query else None
    script = _mock(request).engine.find(name, deployment_id)
    if script is None:
        return JSONResponse({"called": False, "call_count": 0, "calls": []})
    if deployment_id is None:
        records, count = script.calls, script.call_count
    else:
        records = script.calls_in(deployment_id)
        count = script.call_count_in(deployment_id)
    calls = [
        {
            "kind": record.call.kind,
            "message": record.call.message,
            "context_id": record.call.context.id,
            "turn": record.call.turn,
            "reply": None if record.reply is None else record.reply.text,
        }
        for record in records
    ]
    return JSONResponse({"called": count > 0, "call_count": count, "calls": calls})


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
