"""The one error type of the mock.

An `ApiError` is raised wherever a request cannot be served (auth, validation, the store,
the execution service) and rendered once, at the edge, into the documented envelope:

    {"errors": [{"message": "<human readable>", "code": <http status>}]}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from wacht_mock.core.jsontext import encode


class ApiError(Exception):
    """An error the API answers with: an HTTP status, a message and optional headers."""

    status: int = 500
    #: The request broke the contract (the client under test is at fault).
    violation: bool = False
    #: The mock could not answer as the test set it up (a script ran out, an agent had no
    #: script in strict mode, a callable raised): the pytest plugin fails the test with it.
    setup_problem: bool = False
    #: The script step that answered with this error (a scripted fault), for the journal.
    script: str | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers: dict[str, str] = dict(headers or {})

    def envelope(self) -> dict[str, Any]:
        """The documented error body."""
        return error_envelope(self.message, self.status)

    def body(self) -> str:
        """The envelope as JSON text, written as every part of the mock writes it (compact,
        Unicode as is): a response's body, or a stream's `error` event's data."""
        return encode(self.envelope()).decode()

    def response(self) -> Response:
        """The error as an HTTP response: its status, its headers, the envelope as JSON."""
        body = encode(self.envelope())
        return Response(body, self.status, headers=self.headers, media_type="application/json")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.message!r})"


def error_envelope(message: str, status: int) -> dict[str, Any]:
    """`{"errors": [{"message", "code"}]}` with `code` equal to the HTTP status."""
    return {"errors": [{"message": message, "code": status}]}


class BadRequest(ApiError):
    status = 400
    violation = True


class Unauthorized(ApiError):
    status = 401


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class RequestTimeout(ApiError):
    """The request did not arrive in time; the connection is closed after this answer."""

    status = 408

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"Connection": "close"})


class PayloadTooLarge(ApiError):
    status = 413
    violation = True


class UnsupportedMediaType(ApiError):
    status = 415
    violation = True


class ScriptProblem(ApiError):
    """An agent's script could not answer; the test's setup, not the client, is at fault."""

    setup_problem = True
