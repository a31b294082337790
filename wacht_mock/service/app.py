"""The ASGI application: the API's short way in, the control API's router, the one error handler."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from wacht_mock.core.errors import ApiError
from wacht_mock.core.recording import Recorder, facts
from wacht_mock.core.wire import routing_path
from wacht_mock.service.config import MockConfig
from wacht_mock.service.control import PREFIX, control_routes
from wacht_mock.service.faults import FaultInjector
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.routes import endpoint


def create_app(config: MockConfig | WachtMock | None = None) -> MockApp:
    """A fresh application (and, unless one is given, a fresh mock): no state is shared."""
    return MockApp(config if isinstance(config, WachtMock) else WachtMock(config))


class MockApp(Starlette):
    """The mock's ASGI application.

    The API's requests take the short way: the recorder (also the one catch-all: a bug becomes
    a JSON 500 the journal records like any answer, with its traceback in the entry's error),
    the fault injector, then `ApiRouter`, which finds the handler from the path's segments.
    The control API and the dashboard (`/_mock/`) go through Starlette's router, behind the
    same catch-all, and are not recorded.
    """

    def __init__(self, mock: WachtMock) -> None:
        super().__init__(
            routes=[*_dashboard(mock), control_routes(guarded=bool(mock.config.control_token))],
            middleware=[
                Middleware(
                    Recorder, journal=mock.journal, skip_prefix=PREFIX + "/", answer_errors=True
                ),
                Middleware(FaultInjector, plan=lambda: self.mock.faults),
            ],
            exception_handlers={ApiError: render_api_error, HTTPException: render_http_exception},
        )
        self.router.redirect_slashes = False  # ".../{id}/" is an unknown path, not a 307
        self.mock = mock

    @property
    def mock(self) -> WachtMock:
        """The mock this app serves (also `app.state.mock`)."""
        return self._mock

    @mock.setter
    def mock(self, mock: WachtMock) -> None:
        """Serve another mock from now on: its store, its journal, its faults, its scripts.

        The control API's guard and the dashboard stay as the app was made (from the first
        mock's settings): make a new app for other settings.
        """
        self._mock = self.state.mock = mock
        self._api = Recorder(
            FaultInjector(ApiRouter(self), plan=lambda: mock.faults),
            journal=mock.journal,
            skip_prefix=PREFIX + "/",
            answer_errors=True,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # Routed on the path as sent: an id holding `%2F` is one (unknown) id, not two.
            raw_path = scope.get("raw_path")
            if raw_path and b"%2" in raw_path and routing_path(raw_path) != scope["path"]:
                scope = {**scope, "path": routing_path(raw_path)}
            path: str = scope["path"]
            if not (path.startswith(PREFIX) and path[len(PREFIX) : len(PREFIX) + 1] in "/"):
                scope["app"] = self
                await self._api(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


class ApiRouter:
    """The API's four paths, told apart by their segments (`service/routes.ENDPOINTS`).

    A path the API does not have is a 404, a method its path does not take a 405 with the
    `Allow` header, both in the envelope; an `ApiError` a handler raises is rendered here, once.
    """

    def __init__(self, app: MockApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self._handle(request, scope)
        except ApiError as exc:
            response = await render_api_error(request, exc)
        await response(scope, receive, send)

    @staticmethod
    async def _handle(request: Request, scope: Scope) -> Response:
        found = endpoint(scope["path"])
        if found is None:
            raise ApiError(f"No route for {scope['path']}", status=404)
        methods, context_id = found
        handler = methods.get(scope["method"])
        if handler is None:
            allowed = ", ".join(methods)
            raise ApiError(
                f"Method {scope['method']} not allowed", status=405, headers={"Allow": allowed}
            )
        if context_id is not None:
            scope["path_params"] = {"context_id": context_id}
        return await handler(request)


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
