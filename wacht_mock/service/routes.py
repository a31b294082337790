"""The HTTP surface of the execution-context API: parse, call the mock, render.

`ENDPOINTS` names each path once with the handler of each of its methods; `endpoint` finds a
path's from its segments (no pattern tried in turn), for `service/app.ApiRouter`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from wacht_mock.core.body import MAX_BODY_DEPTH, read_json
from wacht_mock.core.errors import ApiError
from wacht_mock.core.recording import facts
from wacht_mock.service import query
from wacht_mock.service.auth import Tenant
from wacht_mock.service.execution import CLIENT_CLOSED_REQUEST
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.requests import ExecuteRequest, NewContext, Read
from wacht_mock.service.streaming import EventStream
from wacht_mock.service.views import (
    context_page_response,
    context_response,
    execution_json,
    json_response,
    page_json,
    turn_json,
)

COLLECTION = "/ai/execution-contexts"


def _mock(request: Request) -> WachtMock:
    mock: WachtMock = request.scope["app"].mock
    return mock


def _tenant(request: Request) -> Tenant:
    tenant = _mock(request).keys.authenticate(request.headers.get("authorization"))
    facts(request.scope).deployment_id = tenant.deployment_id
    return tenant


async def _body(request: Request) -> object:
    try:
        return await read_json(
            request, max_bytes=_mock(request).config.max_body_bytes, max_depth=MAX_BODY_DEPTH
        )
    except ClientDisconnect:
        raise ApiError(
            "The client closed the connection before it sent the whole request body",
            status=CLIENT_CLOSED_REQUEST,
        ) from None


def _lax(request: Request) -> bool:
    return _mock(request).config.ignore_unknown_fields


LIST_PARAMETERS = ("limit", "offset", "status", "context_group")
PAGE_PARAMETERS = ("limit", "offset")


def _note(request: Request, notes: list[str] | tuple[str, ...]) -> None:
    """Violations the mock answered anyway, for the journal (and the test that reads it)."""
    facts(request.scope).violations.extend(notes)


def _query(request: Request, known: tuple[str, ...]) -> QueryParams:
    """The query; parameters the contract does not name are noted in the journal, not refused."""
    params = request.query_params
    if not _lax(request):
        _note(request, query.unknown(params, known))
    return params


def _read(request: Request, read: Read) -> Read:
    _note(request, read.notes)
    return read


async def contexts(request: Request) -> Response:
    tenant = _tenant(request)
    mock = _mock(request)
    if request.method == "POST":
        new: NewContext = _read(request, mock.requests.create(await _body(request))).value
        return context_response(mock.store.create(tenant.deployment_id, new))
    params = _query(request, LIST_PARAMETERS)
    limit, offset = query.paging(params, mock.profile.max_limit)
    page = mock.store.list(
        tenant.deployment_id,
        limit=limit,
        offset=offset,
        status=query.status(params, mock.profile),
        context_group=query.text(params, "context_group"),
    )
    return context_page_response(page)


async def context(request: Request) -> Response:
    tenant = _tenant(request)
    store = _mock(request).store
    context_id = request.path_params["context_id"]
    if request.method == "DELETE":
        store.delete(tenant.deployment_id, context_id)
        return Response(status_code=204)
    if request.method == "PATCH":
        changes = _read(request, _mock(request).requests.update(await _body(request))).value
        return context_response(store.update(tenant.deployment_id, context_id, changes))
    return context_response(store.get(tenant.deployment_id, context_id))


async def execute(request: Request) -> Response:
    tenant = _tenant(request)
    mock = _mock(request)
    body: ExecuteRequest = _read(request, mock.requests.execute(await _body(request))).value
    facts(request.scope).agent_name = body.agent_name
    execution = mock.executions.execute(
        tenant.deployment_id, request.path_params["context_id"], body
    )
    reply = execution.reply
    if reply is not None:
        facts(request.scope).script = reply.source
    fault = execution.stream_fault
    if fault is not None:
        facts(
            request.scope
        ).fault = f"scripted stream fault: {fault.mode} after {fault.after_events} events"
    if body.kind == "stream":
        return EventStream(execution, mock.executions)
    if reply is not None and reply.latency:  # no extra turn of the event loop for none
        await asyncio.sleep(reply.latency)
    return json_response(execution_json(execution))


async def messages(request: Request) -> Response:
    tenant = _tenant(request)
    limit, offset = query.paging(_query(request, PAGE_PARAMETERS), query.MAX_LIMIT)
    page = _mock(request).store.history(
        tenant.deployment_id, request.path_params["context_id"], limit=limit, offset=offset
    )
    return json_response(page_json(page, turn_json))


Handler = Callable[[Request], Awaitable[Response]]
#: Per path under the collection (`""`, `"{id}"`, `"{id}/execute"`, `"{id}/messages"`): the
#: handler of each method it takes; `HEAD` goes with `GET`, as in Starlette.
ENDPOINTS: dict[str, dict[str, Handler]] = {
    "": {"GET": contexts, "HEAD": contexts, "POST": contexts},
    "{id}": {"GET": context, "HEAD": context, "PATCH": context, "DELETE": context},
    "{id}/execute": {"POST": execute},
    "{id}/messages": {"GET": messages, "HEAD": messages},
}
_COLLECTION, _ITEM = ENDPOINTS[""], ENDPOINTS["{id}"]
_UNDER_ITEM = {"execute": ENDPOINTS["{id}/execute"], "messages": ENDPOINTS["{id}/messages"]}


def endpoint(path: str) -> tuple[dict[str, Handler], str | None] | None:
    """The methods of `path` and the context id in it; None for a path the API does not have."""
    if not path.startswith(COLLECTION):
        return None
    rest = path[len(COLLECTION) :]
    if not rest:
        return _COLLECTION, None
    if rest[0] != "/":
        return None
    context_id, slash, tail = rest[1:].partition("/")
    if not context_id:
        return None
    if not slash:
        return _ITEM, context_id
    methods = _UNDER_ITEM.get(tail)
    return None if methods is None else (methods, context_id)
