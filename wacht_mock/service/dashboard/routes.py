"""The dashboard's routes: the guard, the pages, the assets and the live feed."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from wacht_mock.core.errors import ApiError, NotFound, Unauthorized
from wacht_mock.core.journal import Entry, TooManySubscribers
from wacht_mock.core.sse import SseEvent
from wacht_mock.core.wire import CONTROL_PREFIX
from wacht_mock.service import query
from wacht_mock.service.control import TOKEN_HEADER
from wacht_mock.service.dashboard import pages
from wacht_mock.service.dashboard.session import cookie_header, has_session, token_matches
from wacht_mock.service.mock import WachtMock

#: Seconds between keep-alive comments on an idle feed (a dead client is noticed by then).
HEARTBEAT_SECONDS = 10.0
#: What a new feed sends of what the journal holds before going live.
FEED_BACKLOG = 500
MAX_SIGN_IN_BYTES = 4096
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
ASSETS = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
SIGN_IN_NEEDED = "The dashboard needs signing in with the control token"

Handler = Callable[[Request], Awaitable[Response]]


def _mock(request: Request) -> WachtMock:
    mock: WachtMock = request.app.state.mock
    return mock


def _local(request: Request) -> None:
    """Loopback clients only, unless the mock was told to serve the dashboard to any."""
    if _mock(request).config.dashboard_remote:
        return
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ApiError("The dashboard answers clients on this machine only", status=403)


def html(text: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(text, status, headers={**SECURITY_HEADERS, **(headers or {})})


def guarded(handler: Handler, *, page: bool = True) -> Handler:
    """`handler` for signed-in browsers only: a 401 otherwise (the sign-in form for a page
    a browser asks for, the error envelope for anything else)."""

    async def guard(request: Request) -> Response:
        _local(request)
        if not has_session(request, _mock(request).config.control_token):
            if page and "text/html" in request.headers.get("accept", ""):
                return html(pages.sign_in(), 401)
            raise Unauthorized(SIGN_IN_NEEDED)
        return await handler(request)

    return guard


async def sign_in(request: Request) -> Response:
    _local(request)
    token = _mock(request).config.control_token or ""
    raw = await request.body()
    if len(raw) > MAX_SIGN_IN_BYTES:
        return html(pages.sign_in("That is not the control token."), 401)
    given = parse_qs(raw.decode("utf-8", "replace")).get("token", [""])[0]
    if not token_matches(given, token):
        return html(pages.sign_in("That is not the control token."), 401)
    response = RedirectResponse(pages.UI + "/", status_code=303, headers=SECURITY_HEADERS)
    response.headers["Set-Cookie"] = cookie_header(token)
    return response


async def sign_out(request: Request) -> Response:
    _local(request)
    response = RedirectResponse(pages.UI + "/", status_code=303, headers=SECURITY_HEADERS)
    response.headers["Set-Cookie"] = cookie_header("", clear=True)
    return response


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        raise NotFound(f"No dashboard asset {name!r}")
    data = resources.files(__package__).joinpath("static", name).read_bytes()
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    return Response(data, media_type=ASSETS[name], headers=headers)


async def requests_page(request: Request) -> Response:
    journal = _mock(request).journal
    return html(pages.requests_page(journal.entries()[-FEED_BACKLOG:], journal.total))


async def request_page(request: Request) -> Response:
    number = request.path_params["number"]
    found = [
        entry for entry in _mock(request).journal.entries(number - 1) if entry.number == number
    ]
    if not found:
        raise NotFound(f"The journal holds no request #{number} (gone, or never made)")
    return html(pages.request_page(found[0]))


async def contexts_page(request: Request) -> Response:
    return html(pages.contexts_page(_mock(request)))


async def conversation_page(request: Request) -> Response:
    """A context's conversation, with each execution's run state read from the control API."""
    mock = _mock(request)
    deployment, context_id = request.path_params["deployment_id"], request.path_params["context_id"]
    context = mock.store.get(deployment, context_id)  # a NotFound for an unknown one
    turns = mock.store.turns(deployment, context_id)
    token = mock.config.control_token or ""
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://dashboard", headers={TOKEN_HEADER: token}
    ) as control:
        listing = await _read(
            control, "/executions", {"context_id": context_id, "deployment_id": deployment}
        )
        executions = listing.get("executions") if isinstance(listing, dict) else None
        ids = [t.execution_id for t in turns]
        ids += [str(e.get("execution_id")) for e in executions or [] if isinstance(e, dict)]
        if context.execution_state is not None:
            ids.append(context.execution_state.execution_id)
        runs = {
            eid: await _read(control, f"/executions/{quote(eid, safe='')}/run-state")
            for eid in dict.fromkeys(ids)
        }
    summary = pages.ExecutionsSeen(executions if isinstance(executions, list) else None, runs)
    return html(pages.conversation_page(mock, context, turns, summary))


async def _read(control: httpx.AsyncClient, path: str, params: dict[str, str] | None = None) -> Any:
    """A control API answer's JSON, or None when it has none for this (a 404: not recorded)."""
    answer = await control.get(CONTROL_PREFIX + path, params=params)
    if answer.status_code != 200:
        return None
    try:
        return answer.json()
    except ValueError:
        return None


async def agents_page(request: Request) -> Response:
    return html(pages.agents_page(_mock(request)))


async def actions_page(request: Request) -> Response:
    return html(pages.actions_page(_mock(request)))


def _event(name: str, data: object, event_id: int | None = None) -> bytes:
    shown = json.dumps(data, ensure_ascii=False)
    return SseEvent(name, shown, None if event_id is None else str(event_id)).encode()


def _entry_event(entry: Entry) -> bytes:
    return _event("entry", pages.row_json(entry), entry.number)


async def feed(request: Request) -> Response:
    """The journal's new entries as Server-Sent Events (`entry`, id = its number), after
    those numbered above `since` (or `Last-Event-ID`); `missed` says how many a slow reader
    lost."""
    mock = _mock(request)
    since = query.integer(request.query_params, "since", default=0, low=0, high=None)
    last_id = request.headers.get("last-event-id", "")
    if last_id.isdigit():
        since = max(since, int(last_id))
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()

    def wake() -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: the feed ends with it
            loop.call_soon_threadsafe(woken.set)

    try:
        subscription = mock.journal.subscribe(wake)
    except TooManySubscribers as exc:
        raise ApiError(f"{exc}: close a dashboard tab", status=503) from None

    async def events() -> AsyncIterator[bytes]:
        with subscription:
            last = since
            yield b"retry: 1000\n\n"
            for entry in mock.journal.entries(since)[-FEED_BACKLOG:]:
                last = entry.number
                yield _entry_event(entry)
            while True:
                try:
                    await asyncio.wait_for(woken.wait(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                woken.clear()
                entries, missed = subscription.take()
                if missed:
                    yield _event("missed", {"missed": missed})
                for entry in entries:
                    if entry.number > last:
                        last = entry.number
                        yield _entry_event(entry)

    headers = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def dashboard_routes() -> Mount:
    """`/_mock/ui/`: mounted by the app when the dashboard is on."""
    return Mount(
        CONTROL_PREFIX + "/ui",
        routes=[
            Route("/", guarded(requests_page), methods=["GET"]),
            Route("/requests/{number:int}", guarded(request_page), methods=["GET"]),
            Route("/contexts", guarded(contexts_page), methods=["GET"]),
            Route(
                "/contexts/{deployment_id}/{context_id}",
                guarded(conversation_page),
                methods=["GET"],
            ),
            Route("/agents", guarded(agents_page), methods=["GET"]),
            Route("/actions", guarded(actions_page), methods=["GET"]),
            Route("/feed", guarded(feed, page=False), methods=["GET"]),
            Route("/sign-in", sign_in, methods=["POST"]),
            Route("/sign-out", sign_out, methods=["POST"]),
            Route("/static/{name}", asset, methods=["GET"]),
        ],
    )
