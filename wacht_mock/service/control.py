"""The control API under `/_mock/`: what the pytest handle does, for tests in any language.

`GET /_mock/health` and `GET /_mock/contract` are always on and need nothing: a liveness
probe and the contract the mock follows, both read-only. The rest is off unless the server has a
control token (`wacht-mock serve --control`); then every call needs the header
`X-Wacht-Mock-Token: <token>`. It is not part of the contract and never appears in it.
"""

from __future__ import annotations

import gc
from typing import Any

import anyio.to_thread
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from wacht_mock._version import __version__
from wacht_mock.contract.documents import PROFILES, contract_path, load_contract
from wacht_mock.core.body import read_body, read_json, read_json_bytes, read_optional_json
from wacht_mock.core.documents import MAX_DEPTH, DocumentError, load_yaml
from wacht_mock.core.errors import BadRequest, Unauthorized
from wacht_mock.core.jsontext import JsonTextError, decode
from wacht_mock.core.wire import CONTROL_PREFIX, media_type
from wacht_mock.service import query
from wacht_mock.service.auth import deployment_id_for, is_well_formed
from wacht_mock.service.dashboard.session import DASHBOARD_HEADER, has_session, token_matches
from wacht_mock.service.faults import parse_rules
from wacht_mock.service.fixtures import FixtureError, FixtureFile, apply
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.snapshot import SnapshotError, export_state, import_state
from wacht_mock.service.views import json_response

PREFIX = CONTROL_PREFIX
TOKEN_HEADER = "x-wacht-mock-token"
MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024
#: A snapshot holds what fixtures made (tool-call arguments, results) a dozen levels down.
SNAPSHOT_DEPTH = MAX_DEPTH + 16


def _mock(request: Request) -> WachtMock:
    mock: WachtMock = request.app.state.mock
    token = mock.config.control_token or ""
    if token_matches(request.headers.get(TOKEN_HEADER, ""), token):
        return mock
    # The dashboard's own calls: its signed-in cookie, with a header no cross-site form can send.
    if (
        mock.config.dashboard
        and DASHBOARD_HEADER in request.headers
        and has_session(request, token)
    ):
        return mock
    raise Unauthorized(f"The control API needs the header {TOKEN_HEADER}: <token>")


YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


async def health(request: Request) -> Response:
    """Liveness, for anyone: no token needed."""
    return json_response({"status": "ok", "version": __version__})


async def contract(request: Request) -> Response:
    """The OpenAPI document of the profile the mock speaks: the file as shipped (YAML), or, when
    `Accept` asks for JSON, the document with the shapes it borrows bundled in."""
    mock: WachtMock = request.app.state.mock  # no token needed here: not through _mock()
    path = contract_path(mock.profile.name)
    if "application/json" in request.headers.get("accept", ""):
        return json_response(load_contract(path))
    return Response(path.read_text("utf-8"), media_type="application/yaml")


async def _document(request: Request) -> Any:
    """A JSON body, or a YAML one (the fixture files' own format) by its Content-Type."""
    if media_type(request.headers.get("content-type")) not in YAML_TYPES:
        return await read_json(request, max_depth=MAX_DEPTH)
    raw = await read_body(request)
    try:
        return load_yaml(raw.decode("utf-8"))  # bounded: aliases, depth and size
    except UnicodeDecodeError as exc:
        raise BadRequest(f"Request body is not valid YAML: not UTF-8 (byte {exc.start})") from None
    except DocumentError as exc:
        raise BadRequest(f"Request body is not valid YAML: {exc}") from None


async def reset(request: Request) -> Response:
    """Everything back to the start; or one deployment, named in the body
    (`{"api_key": …}` or `{"deployment_id": …}`) or the query (`?deployment_id=…`)."""
    mock = _mock(request)
    mock.reset(await _deployment_to_reset(request))
    return Response(status_code=204)


RESET_SHAPE = 'Send no body, {"api_key": "wk_…"} or {"deployment_id": "<digits>"}'


async def _deployment_to_reset(request: Request) -> str | None:
    query = dict(request.query_params)
    if set(query) - {"deployment_id"}:
        raise BadRequest("Query parameters: only deployment_id is known here")
    given = await read_optional_json(request, absent={}, max_bytes=4096)
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
    """Load a fixture document (YAML, or the same shape as JSON): contexts, scripts, faults."""
    mock = _mock(request)
    try:
        document = FixtureFile.model_validate(await _document(request) or {})
        made = apply(
            document,
            mock.store,
            mock.engine,
            mock.engine.seed,
            "control API",
            mock.profile,
        )
    except (ValidationError, FixtureError) as exc:
        raise BadRequest(f"Not a valid fixture document: {exc}") from None
    mock.add_faults(document.faults)
    return json_response({"contexts_created": made})


async def faults(request: Request) -> Response:
    """`GET`: the fault rules, with how often each fired; `POST`: add some; `DELETE`."""
    mock = _mock(request)
    if request.method == "POST":
        try:
            mock.add_faults(parse_rules(await _document(request), "fault"))
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    elif request.method == "DELETE":
        mock.faults.reset(mock.engine.seed)
        return Response(status_code=204)
    return json_response({"faults": mock.faults.listing()})


async def settings(request: Request) -> Response:
    """`{"seed": int | null, "strict_agents": bool, "profile": "guide" | "platform"}`: read,
    or change what is sent (a reset goes back to the configured values)."""
    mock = _mock(request)
    if request.method == "PUT":
        changes = await read_json(request)
        _check_settings(changes)
        _apply_settings(mock, changes)
    return json_response(_settings(mock))


def _settings(mock: WachtMock) -> dict[str, Any]:
    return {
        "seed": mock.engine.seed,
        "strict_agents": mock.engine.strict,
        "profile": mock.profile.name,
    }


def _check_settings(changes: object) -> None:
    if not isinstance(changes, dict) or set(changes) - {"seed", "strict_agents", "profile"}:
        raise BadRequest(
            'Send {"seed": int | null, "strict_agents": bool, "profile": "guide" | "platform"}'
        )
    seed, strict = changes.get("seed"), changes.get("strict_agents", False)
    if (seed is not None and type(seed) is not int) or type(strict) is not bool:
        raise BadRequest('"seed" must be an integer or null, "strict_agents" a boolean')
    profile = changes.get("profile", "guide")
    if profile not in PROFILES:
        raise BadRequest(f'"profile" must be one of {", ".join(PROFILES)}, got {profile!r}')


def _apply_settings(mock: WachtMock, changes: dict[str, Any]) -> None:
    if "profile" in changes and changes["profile"] != mock.profile.name:
        mock.speak(changes["profile"])
    if "seed" in changes:
        mock.engine.seed = changes["seed"]
    if "strict_agents" in changes:
        mock.engine.strict = changes["strict_agents"]


async def journal(request: Request) -> Response:
    """`GET`: entries numbered above `since` (oldest first); `DELETE`: clear it."""
    mock = _mock(request)
    if request.method == "DELETE":
        mock.journal.clear()
        return Response(status_code=204)
    since = query.integer(request.query_params, "since", default=0, low=0, high=None)
    entries = [entry.as_dict() for entry in mock.journal.entries(since)]
    return json_response({"entries": entries, "total": mock.journal.total})


async def state(request: Request) -> Response:
    """`GET`: the whole state (contexts and settings); `PUT`: replace the state with one."""
    mock = _mock(request)
    if request.method == "GET":
        exported = await anyio.to_thread.run_sync(export_state, mock.store)
        return json_response({**exported, "settings": _settings(mock)})
    raw = await read_json_bytes(request, max_bytes=MAX_SNAPSHOT_BYTES)
    count, changes = await anyio.to_thread.run_sync(_import, mock, raw)  # the loop keeps serving
    _apply_settings(mock, changes)
    return json_response({"contexts": count})


def _import(mock: WachtMock, raw: bytes) -> tuple[int, dict[str, Any]]:
    """The snapshot imported, and its settings checked (for the caller to apply), or a 400."""
    # Full collections over the millions of objects a large snapshot makes would each hold the
    # GIL (and so the event loop) for up to seconds: the cyclic collector waits for the import.
    collecting = gc.isenabled()
    gc.disable()
    try:
        snapshot = decode(raw, "the body", max_depth=SNAPSHOT_DEPTH)
        changes = snapshot.pop("settings", {}) if isinstance(snapshot, dict) else {}
        _check_settings(changes)
        return import_state(mock.store, snapshot), changes
    except (JsonTextError, SnapshotError) as exc:
        raise BadRequest(f"Not a valid snapshot: {exc}") from None
    finally:
        if collecting:
            gc.enable()


async def calls(request: Request) -> Response:
    """An agent's call log: `called`, `call_count` and each call with its reply; every
    deployment's calls, or one's (`?deployment_id=…`)."""
    name = request.path_params["agent_name"]
    query = dict(request.query_params)
    if set(query) - {"deployment_id"}:
        raise BadRequest("Query parameters: only deployment_id is known here")
    deployment_id = _deployment_id(query["deployment_id"]) if query else None
    script = _mock(request).engine.find(name, deployment_id)
    if script is None:
        return json_response({"called": False, "call_count": 0, "calls": []})
    if deployment_id is None:
        records, count = script.calls, script.call_count
    else:
        records = script.calls_in(deployment_id)
        count = script.call_count_in(deployment_id)
    calls = [
        {
            "kind": record.call.kind,
            "execution_id": record.call.execution_id,
            "message": record.call.message,
            "context_id": record.call.context.id,
            "turn": record.call.turn,
            "reply": None if record.reply is None else record.reply.text,
        }
        for record in records
    ]
    return json_response({"called": count > 0, "call_count": count, "calls": calls})


async def executions(request: Request) -> Response:
    """The runs the mock keeps (oldest first), of one deployment and one context if asked
    (`?deployment_id=…&context_id=…`): ids, agent, kind, status and stop reason."""
    mock = _mock(request)
    query = dict(request.query_params)
    unknown = set(query) - {"deployment_id", "context_id"}
    if unknown:
        raise BadRequest(
            f"Query parameter {sorted(unknown)[0]!r} is not known here: "
            "only deployment_id and context_id"
        )
    deployment_id = _deployment_id(query["deployment_id"]) if "deployment_id" in query else None
    records = mock.executions.runs.select(deployment_id, query.get("context_id"))
    return json_response({"executions": [record.to_json() for record in records]})


async def run_state(request: Request) -> Response:
    """What the model was given in one run, with the harness's field names."""
    mock = _mock(request)
    record = mock.executions.runs.get(request.path_params["execution_id"])
    return json_response(record.run_state.to_json())


def control_routes(*, guarded: bool) -> Mount:
    """`/_mock/`: health and contract always; the rest with a control token (`guarded`)."""
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
    Route("/executions", executions, methods=["GET"]),
    Route("/executions/{execution_id}/run-state", run_state, methods=["GET"]),
]
