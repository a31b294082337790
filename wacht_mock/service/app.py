"""The ASGI application: routes, the journal's recorder, and the one wrapper that renders errors.

The stack is two layers deep: :class:`~wacht_mock.core.recording.Recorder` (outermost, so that
it sees every answer) and :class:`Errors` (every exception, expected or not, becomes an answer in
the envelope), around Starlette's router. Starlette's own error middlewares are left out: each
would wrap every request again for what :class:`Errors` already does.
"""

from __future__ import annotations

import logging
import traceback

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wacht_mock.core.errors import ApiError, error_envelope
from wacht_mock.core.recording import Recorder
from wacht_mock.service.config import MockConfig
from wacht_mock.service.control import PREFIX, control
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.routes import routes

logger = logging.getLogger("wacht_mock")

#: What Starlette's 404 (no route) and 405 (wrong method) say, in the envelope.
ROUTING_MESSAGES = {404: "No route for {path}", 405: "Method {method} not allowed"}
INTERNAL_ERROR = "Internal server error in the mock (see its log)"


class MockApp(Starlette):
    """Starlette with the mock's two-layer stack instead of Starlette's four."""

    def __init__(self, mock: WachtMock) -> None:
        super().__init__(routes=[*routes, control] if mock.config.control_token else routes)
        self.router.redirect_slashes = False  # ".../{id}/" is an unknown path, not a 307
        self.state.mock = mock

    def build_middleware_stack(self) -> ASGIApp:
        mock: WachtMock = self.state.mock
        return Recorder(Errors(self.router), journal=mock.journal, skip_prefix=PREFIX + "/")


def create_app(config: MockConfig | WachtMock | None = None) -> Starlette:
    """A fresh application (and, unless one is given, a fresh mock): no state is shared."""
    mock = config if isinstance(config, WachtMock) else WachtMock(config)
    return MockApp(mock)


def error_response(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(error_envelope(message, status), status_code=status, headers=headers)


def render_api_error(scope: Scope, exc: ApiError) -> Response:
    """The envelope; what the error says for the journal goes on the scope's notes."""
    notes = scope.setdefault("state", {})
    if exc.violation:
        notes["violations"] = [*notes.get("violations", ()), f"contract violation: {exc.message}"]
    if exc.setup_problem:
        notes["error"] = exc.message
    if exc.script:
        notes["script"] = exc.script
    return error_response(exc.message, exc.status, exc.headers)


def render_http_exception(scope: Scope, exc: HTTPException) -> Response:
    """Starlette's own 404 (no route) and 405 (wrong method), in the envelope."""
    template = ROUTING_MESSAGES.get(exc.status_code)
    text = template.format(path=scope["path"], method=scope["method"]) if template else exc.detail
    return error_response(text, exc.status_code, dict(exc.headers or {}))


class Errors:
    """Every exception becomes an answer in the envelope: an :class:`ApiError` as it says,
    Starlette's routing errors as 404/405, anything else as a logged JSON 500.

    It sits inside the recorder, so the journal sees the answer the client got. An exception
    after the response has started cannot be answered any more: it is noted and re-raised.
    """

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
            if started or scope["type"] != "http":
                self._note(scope, exc)
                raise
            if isinstance(exc, ApiError):
                response = render_api_error(scope, exc)
            elif isinstance(exc, HTTPException):
                response = render_http_exception(scope, exc)
            else:
                self._note(scope, exc)
                response = error_response(INTERNAL_ERROR, 500)
            exc.__traceback__ = None  # an instance raised again must not pile up old frames
            await response(scope, receive, send)

    @staticmethod
    def _note(scope: Scope, exc: Exception) -> None:
        logger.exception("internal error on %s %s", scope.get("method"), scope.get("path"))
        scope.setdefault("state", {})["error"] = "".join(
            traceback.format_exception(exc, limit=-3)
        ).strip()
