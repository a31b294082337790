"""The control API under ``/_mock/``: what the pytest handle does, for tests in any language.

``GET /_mock/health`` and ``GET /_mock/contract`` are always on and need nothing: a liveness
probe and the contract the mock follows, both read-only. The rest is off unless the server has a
control token (``wacht-mock serve --control``); then every call needs the header
``X-Wacht-Mock-Token: <token>``. It is not part of the contract and never appears in it.
"""

from __future__ import annotations

import secrets
from typing import Any

import yaml
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from wacht_mock._version import __version__
from wacht_mock.contract.documents import contract_path
from wacht_mock.core.body import read_json
from wacht_mock.core.errors import BadRequest, Unauthorized
from wacht_mock.core.wire import CONTROL_PREFIX, media_type
from wacht_mock.service.faults import parse_rules
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


YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


async def health(request: Request) -> Response:
    """Liveness, for anyone: no token needed."""
    return JSONResponse({"status": "ok", "version": __version__})


async def contract(request: Request) -> Response:
    """The OpenAPI document the mock follows: YAML, or JSON when ``Accept`` asks for it."""
    text = contract_path().read_text("utf-8")
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(yaml.safe_load(text))
    return Response(text, media_type="application/yaml")


async def _document(request: Request) -> Any:
    """A JSON body, or a YAML one (the fixture files' own format) by its Content-Type."""
    if media_type(request.headers.get("content-type")) not in YAML_TYPES:
        return await read_json(request)
    raw = await request.body()
    try:
        return yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BadRequest(f"Request body is not valid YAML: {exc}") from None


async def reset(request: Request) -> Response:
    _mock(request).reset()
    return Response(status_code=204)


async def fixtures(request: Request) -> Response:
    """Load a fixture document (YAML, or the same shape as JSON): contexts, scripts, faults."""
    mock = _mock(request)
    try:
        document = FixtureFile.model_validate(await _document(request) or {})
        made = apply(document, mock.store, mock.engine, mock.engine.seed, "control API")
    except (ValidationError, FixtureError) as exc:
        raise BadRequest(f"Not a valid fixture document: {exc}") from None
    mock.add_faults(document.faults)
    return JSONResponse({"contexts_created": made})


async def faults(request: Request) -> Response:
    """``GET``: the fault rules, with how often each fired; ``POST``: add some; ``DELETE``."""
    mock = _mock(request)
    if request.method == "POST":
        try:
            mock.add_faults(parse_rules(await _document(request), "fault"))
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    elif request.method == "DELETE":
        mock.faults.reset(mock.engine.seed)
        return Response(status_code=204)
    return JSONResponse({"faults": mock.faults.listing()})


async def settings(request: Request) -> Response:
    """``{"seed": int | null, "strict_agents": bool}``: read, or change what is sent."""
    mock = _mock(request)
    if request.method == "PUT":
        changes = await read_json(request)
        _check_settings(changes)
        _apply_settings(mock, changes)
    return JSONResponse(_settings(mock))


def _settings(mock: WachtMock) -> dict[str, Any]:
    return {"seed": mock.engine.seed, "strict_agents": mock.engine.strict}


def _check_settings(changes: object) -> None:
    if not isinstance(changes, dict) or set(changes) - {"seed", "strict_agents"}:
        raise BadRequest('Send {"seed": int | null, "strict_agents": bool}')
    seed, strict = changes.get("seed"), changes.get("strict_agents", False)
    if (seed is not None and type(seed) is not int) or type(strict) is not bool:
        raise BadRequest('"seed" must be an integer or null, "strict_agents" a boolean')


def _apply_settings(mock: WachtMock, changes: dict[str, Any]) -> None:
    if "seed" in changes:
        mock.engine.seed = changes["seed"]
    if "strict_agents" in changes:
        mock.engine.strict = changes["strict_agents"]


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
    """``GET``: the whole state (contexts and settings); ``PUT``: replace the state with one."""
    mock = _mock(request)
    if request.method == "GET":
        return JSONResponse({**export_state(mock.store), "settings": _settings(mock)})
    snapshot = await read_json(request, max_bytes=256 * 1024 * 1024)
    changes = snapshot.pop("settings", {}) if isinstance(snapshot, dict) else {}
    _check_settings(changes)
    try:
        count = import_state(mock.store, snapshot)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadRequest(f"Not a valid snapshot: {exc!r}") from None
    _apply_settings(mock, changes)
    return JSONResponse({"contexts": count})


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


def control_routes(*, guarded: bool) -> Mount:
    """``/_mock/``: health and contract always; the rest with a control token (``guarded``)."""
    return Mount(PREFIX, routes=[*OPEN, *(GUARDED if guarded else ())])


OPEN = [
    Route("/health", health, methods=["GET"]),
    Route("/contract", contract, methods=["GET"]),
]
GUARDED = [
    Route("/reset", reset, methods=["POST"]),
    Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/fixtures", fixtures, methods=["POST"]),
    Route("/settings", settings, methods=["GET", "PUT"]),
    Route("/journal", journal, methods=["GET", "DELETE"]),
    Route("/state", state, methods=["GET", "PUT"]),
    Route("/agents/{agent_name}/calls", calls, methods=["GET"]),
]
