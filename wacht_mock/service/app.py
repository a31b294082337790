"""The ASGI application: routes, the one error handler; the recorder answers a last-resort 500."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from wacht_mock.core.errors import ApiError
from wacht_mock.core.recording import Recorder, facts
from wacht_mock.core.wire import routing_path
from wacht_mock.service.config import MockConfig
from wacht_mock.service.control import PREFIX, control_routes
from wacht_mock.service.faults import FaultInjector
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.routes import routes


def create_app(config: MockConfig | WachtMock | None = None) -> Starlette:
    """A fresh application (and, unless one is given, a fresh mock): no state is shared."""
    mock = config if isinstance(config, WachtMock) else WachtMock(config)
    app = Starlette(
        routes=[
            *routes,
            *_dashboard(mock),
            control_routes(guarded=bool(mock.config.control_token)),
        ],
        middleware=[
            Middleware(EncodedSlashes),
            # Also the one catch-all: a bug becomes a JSON 500 the journal records like any
            # answer (with its traceback in the entry's error), instead of escaping past it.
            Middleware(
                Recorder, journal=mock.journal, skip_prefix=PREFIX + "/", answer_errors=True
            ),
            Middleware(FaultInjector, plan=lambda: mock.faults),
        ],
        exception_handlers={ApiError: render_api_error, HTTPException: render_http_exception},
    )
    app.router.redirect_slashes = False  # ".../{id}/" is an unknown path, not a 307 to follow
    app.state.mock = mock
    return app


def _dashboard(mock: WachtMock) -> list[Mount]:
    """`/_mock/ui/` when the dashboard is on (before `/_mock/`; imported only then)."""
    if not (mock.config.dashboard and mock.config.control_token):
        return []
    from wacht_mock.service.dashboard.routes import dashboard_routes

    return [dashboard_routes()]


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
    """Routes on the path as sent: an id holding `%2F` is one (unknown) id, not two segments."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path = scope.get("raw_path") if scope["type"] == "http" else None
        if raw_path and b"%2" in raw_path and routing_path(raw_path) != scope["path"]:
            scope = {**scope, "path": routing_path(raw_path)}
        await self.app(scope, receive, send)
