"""The ASGI application: routes, the one error handler, and a last-resort 500."""

from __future__ import annotations

import logging
import traceback

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wacht_mock.core.errors import ApiError
from wacht_mock.core.recording import Recorder, facts
from wacht_mock.core.wire import routing_path
from wacht_mock.service.config import MockConfig
from wacht_mock.service.control import PREFIX, control_routes
from wacht_mock.service.faults import FaultInjector
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.routes import routes

logger = logging.getLogger("wacht_mock")


def create_app(config: MockConfig | WachtMock | None = None) -> Starlette:
    """A fresh application (and, unless one is given, a fresh mock): no state is shared."""
    mock = config if isinstance(config, WachtMock) else WachtMock(config)
    app = Starlette(
        routes=[*routes, control_routes(guarded=bool(mock.config.control_token))],
        middleware=[
            Middleware(EncodedSlashes),
            Middleware(Recorder, journal=mock.journal, skip_prefix=PREFIX + "/"),
            # Inside the recorder: a bug becomes a JSON 500 the journal records like any answer
            # (with its traceback in the entry's error), instead of escaping past it.
            Middleware(CatchAll),
            Middleware(FaultInjector, plan=lambda: mock.faults),
        ],
        exception_handlers={ApiError: render_api_error, HTTPException: render_http_exception},
    )
    app.router.redirect_slashes = False  # ".../{id}/" is an unknown path, not a 307 to follow
    app.state.mock = mock
    return app


def error_response(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return ApiError(message, status=status, headers=headers).response()


async def render_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    noted = facts(request.scope)
    if exc.violation:
        noted.violations.append(f"contract violation: {exc.message}")
    if exc.setup_problem:
        noted.error = exc.message
    if exc.script:
        noted.script = exc.script
        if not exc.setup_problem:  # a scripted HTTP fault answered
            noted.fault = f"scripted fault: status {exc.status}"
    return error_response(exc.message, exc.status, exc.headers)


async def render_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 (no route) and 405 (wrong method), in the envelope."""
    assert isinstance(exc, HTTPException)
    message = {404: f"No route for {request.url.path}", 405: f"Method {request.method} not allowed"}
    text = message.get(exc.status_code, exc.detail)
    return error_response(text, exc.status_code, dict(exc.headers or {}))


class EncodedSlashes:
    """Routes on the path as sent: an id holding ``%2F`` is one (unknown) id, not two segments."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path = scope.get("raw_path") if scope["type"] == "http" else None
        if raw_path and b"%2" in raw_path and routing_path(raw_path) != scope["path"]:
            scope = {**scope, "path": routing_path(raw_path)}
        await self.app(scope, receive, send)


class CatchAll:
    """Turns an unexpected exception into a JSON 500 in the envelope, and logs it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            logger.exception("internal error on %s %s", scope.get("method"), scope.get("path"))
            facts(scope).error = "".join(traceback.format_exception(exc, limit=-3)).strip()
            if started or scope["type"] != "http":
                raise
            response = error_response("Internal server error in the mock (see its log)", 500)
            await response(scope, receive, send)
