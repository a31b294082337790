"""The HTTP surface of the execution-context API: parse, call the mock, render.

One :class:`~starlette.routing.Route` per path, so that a wrong method gets a 405 with the right
``Allow`` header.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from wacht_mock.core.body import read_json
from wacht_mock.core.errors import ApiError
from wacht_mock.service import query
from wacht_mock.service.auth import Tenant
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.models import STATUSES
from wacht_mock.service.payloads import (
    CreateContextRequest,
    ExecuteRequest,
    UpdateContextRequest,
    validate,
)
from wacht_mock.service.store import NewContext
from wacht_mock.service.streaming import EventStream
from wacht_mock.service.views import (
    context_page_response,
    context_response,
    execution_json,
    page_json,
    turn_json,
)

COLLECTION = "/ai/execution-contexts"
ITEM = COLLECTION + "/{context_id}"


def _mock(request: Request) -> WachtMock:
    mock: WachtMock = request.app.state.mock
    return mock


def _tenant(request: Request) -> Tenant:
    tenant = _mock(request).keys.authenticate(request.headers.get("authorization"))
    request.state.deployment_id = tenant.deployment_id
    return tenant


#: nginx's status for a client that hung up before its request was read; no one receives it,
#: but the journal shows it (and it is no server error: the mock did nothing wrong).
CLIENT_CLOSED_REQUEST = 499


async def _body(request: Request) -> object:
    try:
        return await read_json(request, max_bytes=_mock(request).config.max_body_bytes)
    except ClientDisconnect:
        raise ApiError(
            "The client closed the connection before it sent the whole request body",
            status=CLIENT_CLOSED_REQUEST,
        ) from None


def _lax(request: Request) -> bool:
    return _mock(request).config.ignore_unknown_fields


LIST_PARAMETERS = ("limit", "offset", "status", "context_group")
PAGE_PARAMETERS = ("limit", "offset")


def _query(request: Request, known: tuple[str, ...]) -> QueryParams:
    """The query; parameters the contract does not name are noted in the journal, not refused."""
    params = request.query_params
    if not _lax(request):
        notes = query.unknown(params, known)
        if notes:
            request.state.violations = notes
    return params


async def contexts(request: Request) -> Response:
    tenant = _tenant(request)
    if request.method == "POST":
        body = validate(CreateContextRequest, await _body(request), ignore_unknown=_lax(request))
        new = NewContext(**body.model_dump())
        return context_response(_mock(request).store.create(tenant.deployment_id, new))
    params = _query(request, LIST_PARAMETERS)
    limit, offset = query.paging(params)
    page = _mock(request).store.list(
        tenant.deployment_id,
        limit=limit,
        offset=offset,
        status=query.choice(params, "status", STATUSES),
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
        body = validate(UpdateContextRequest, await _body(request), ignore_unknown=_lax(request))
        updated = store.update(tenant.deployment_id, context_id, body.changes())
        return context_response(updated)
    return context_response(store.get(tenant.deployment_id, context_id))


async def execute(request: Request) -> Response:
    tenant = _tenant(request)
    body = validate(ExecuteRequest, await _body(request), ignore_unknown=_lax(request))
    mock = _mock(request)
    request.state.agent_name = body.agent_name
    execution = mock.executions.execute(
        tenant.deployment_id, request.path_params["context_id"], body
    )
    request.state.script = execution.reply.source
    if body.kind == "stream":
        return EventStream(execution)
    await asyncio.sleep(execution.reply.latency)
    return JSONResponse(execution_json(execution))


async def messages(request: Request) -> Response:
    tenant = _tenant(request)
    limit, offset = query.paging(_query(request, PAGE_PARAMETERS))
    page = _mock(request).store.history(
        tenant.deployment_id, request.path_params["context_id"], limit=limit, offset=offset
    )
    return JSONResponse(page_json(page, turn_json))


class Endpoint:
    """A ``request -> response`` coroutine as a plain ASGI app.

    Starlette wraps a function endpoint in an exception handler of its own on every call; the
    app's :class:`~wacht_mock.service.app.Errors` already renders every exception, once.
    """

    def __init__(self, handle: Callable[[Request], Awaitable[Response]]) -> None:
        self.handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handle(Request(scope, receive, send))
        await response(scope, receive, send)


routes = [
    Route(COLLECTION, Endpoint(contexts), methods=["GET", "POST"]),
    Route(ITEM, Endpoint(context), methods=["GET", "PATCH", "DELETE"]),
    Route(ITEM + "/execute", Endpoint(execute), methods=["POST"]),
    Route(ITEM + "/messages", Endpoint(messages), methods=["GET"]),
]
