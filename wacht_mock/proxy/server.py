"""`wacht-mock proxy`: a real server, watched through the contract.

Every request is forwarded to the upstream as it came (streams pass through as they arrive) and
both directions are validated: the client's request, and the upstream's status, headers, body or
each Server-Sent Event. Violations go into the journal (each entry's `violations`), into the
`DriftReport` (which field of which operation, how often) and
into the
log. With `fail_on_violation` a response that breaks the contract reaches the client as a 502 in
the error envelope instead (or, once a stream has started, as a final `error` event).

    proxy = ContractProxy("https://staging.example.com")
    with ProxyThread(proxy) as server:
        ...  # point the client at server.url
    print(proxy.drift.text())
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wacht_mock.contract.documents import Profile, contract_path
from wacht_mock.contract.drift import DriftReport
from wacht_mock.contract.responses import ResponseCheck
from wacht_mock.contract.validation import ContractValidator
from wacht_mock.contract.violations import Violation
from wacht_mock.core.defaults import DEFAULT_JOURNAL_SIZE
from wacht_mock.core.errors import ApiError, BadRequest
from wacht_mock.core.journal import Journal
from wacht_mock.core.masking import mask_text
from wacht_mock.core.recording import Recorder, facts
from wacht_mock.core.server import DEFAULT_HOST, DEFAULT_REQUEST_TIMEOUT, ServerThread
from wacht_mock.core.sse import SseEvent, SseReader
from wacht_mock.core.wire import CONTROL_PREFIX as PREFIX
from wacht_mock.proxy.recorder import Capture, FixtureRecorder

logger = logging.getLogger("wacht_mock.proxy")

#: Headers that describe one hop, or that httpx sets for the next one: never copied across.
NOT_FORWARDED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "accept-encoding",
        "content-encoding",
    }
)
DEFAULT_TIMEOUT = 60.0
CONTROL = PREFIX + "/"
"""A mock upstream's control API: forwarded, but neither validated nor journaled."""
KEY_VARIABLE = "WACHT_API_KEY"
"""The upstream's key when the proxy sends its own (`--record-missing`)."""


class BadGateway(ApiError):
    """The upstream failed, or (with `fail_on_violation`) answered against the contract."""

    status = 502

    @classmethod
    def refusing(cls, violations: Sequence[Violation]) -> BadGateway:
        shown = "; ".join(map(str, violations[:3]))
        more = f" (and {len(violations) - 3} more)" if len(violations) > 3 else ""
        return cls(f"The upstream response breaks the contract: {shown}{more}")


class Replay(Protocol):
    """What answers before the upstream (capture on miss): the proxy forwards, and records,
    only the requests it `misses`."""

    @property
    def app(self) -> ASGIApp: ...

    def misses(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> bool: ...


class ContractProxy:
    """The proxy's state and its ASGI application (`app`)."""

    def __init__(
        self,
        upstream: str,
        *,
        contract: Path | None = None,
        profile: Profile = "guide",
        fail_on_violation: bool = False,
        ignore_unknown_fields: bool = False,
        journal_size: int = DEFAULT_JOURNAL_SIZE,
        timeout: float = DEFAULT_TIMEOUT,
        recorder: FixtureRecorder | None = None,
        upstream_key: str | None = None,
        replay: Replay | None = None,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"--upstream must be an http(s) URL, got {upstream!r}")
        self.upstream = upstream.rstrip("/")
        self.validator = ContractValidator(
            contract or contract_path(profile), ignore_unknown_fields=ignore_unknown_fields
        )
        self.fail_on_violation = fail_on_violation
        self.timeout = timeout
        self.journal = Journal(journal_size)
        self.drift = DriftReport()
        self.recorder = recorder
        self.upstream_key = upstream_key
        self.replay = replay
        if recorder is not None and upstream_key:
            recorder.learn_key(upstream_key)
        self._client: httpx.AsyncClient | None = None
        self.app = Recorder(self._asgi, journal=self.journal, skip_prefix=CONTROL)

    # -- ASGI ----------------------------------------------------------------------------------

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await Exchange(self, scope, receive, send).run()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._client = httpx.AsyncClient(
                    timeout=httpx.Timeout(self.timeout, connect=10.0), follow_redirects=False
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("the proxy runs with lifespan on (use ProxyThread)")
        return self._client

    def note(self, scope: Scope, violations: Sequence[Violation]) -> None:
        """Journal, drift report and log: everywhere a violation should show."""
        if not violations or scope["path"].startswith(CONTROL):
            return
        self.drift.add(violations)
        noted = facts(scope).violations
        for violation in violations:
            noted.append(f"contract violation ({violation.direction}): {violation}")
            logger.warning("%s %s: %s", scope["method"], mask_text(scope["path"]), violation)


class Exchange:
    """One request forwarded, and its response brought back."""

    def __init__(self, proxy: ContractProxy, scope: Scope, receive: Receive, send: Send):
        self.proxy = proxy
        self.scope = scope
        self.receive = receive
        self.send = send
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query = scope.get("query_string", b"").decode("latin-1")
        self.started = False
        self.capture: Capture | None = None

    async def run(self) -> None:
        """Forward, check, answer; an `ApiError` before the answer is rendered here."""
        try:
            await self._exchange()
        except ApiError as exc:
            if self.started:
                raise
            await exc.response()(self.scope, self.receive, self.send)

    async def _exchange(self) -> None:
        url = self._upstream_url()
        body = await self._body()
        headers = _headers(self.scope["headers"])
        validator = self.proxy.validator
        self.proxy.note(
            self.scope,
            validator.validate_request(
                self.method, self.path, query=self.query, headers=headers, body=body
            ),
        )
        replay = self.proxy.replay
        if replay is not None and not replay.misses(self.method, self.path, headers, body):
            await replay.app(self.scope, _once(body, self.receive), self.send)
            return
        if self.proxy.recorder is not None and not self.path.startswith(CONTROL):
            self.capture = self.proxy.recorder.capture(self.method, self.path, headers, body)
        try:
            request = self._upstream_request(url, body)
            response = await self.proxy.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise BadGateway(f"Upstream {self.proxy.upstream} failed: {exc!r}") from None
        try:
            check = validator.response_check(
                self.method, self.path, query=self.query, request_body=body
            )
            await self._respond(response, check)
        finally:
            await response.aclose()

    async def _body(self) -> bytes:
        chunks = []
        while True:
            message = await self.receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(chunks)

    def _upstream_url(self) -> httpx.URL:
        """The upstream's scheme, host and port, always: only the path and query come from the
        request, and a target that is not origin-form (`/path?query`) is refused."""
        raw_path: bytes = self.scope.get("raw_path") or quote(self.path).encode()
        if not raw_path.startswith(b"/"):
            shown = mask_text(raw_path[:80].decode("latin-1"))
            raise BadRequest(
                f"The request target {shown!r} is not in origin-form (/path?query); "
                f"the proxy forwards to {self.proxy.upstream} only"
            )
        upstream = httpx.URL(self.proxy.upstream)
        target = upstream.raw_path.rstrip(b"/") + raw_path
        if self.query:
            target += b"?" + self.query.encode("latin-1")
        return upstream.copy_with(raw_path=target)

    def _upstream_request(self, url: httpx.URL, body: bytes) -> httpx.Request:
        headers = [
            (name, value)
            for name, value in self.scope["headers"]
            if name.decode("latin-1").lower() not in NOT_FORWARDED
        ]
        headers.append((b"accept-encoding", b"identity"))
        if self.proxy.upstream_key:  # the client knows only an alias; the upstream gets its key
            headers = [(k, v) for k, v in headers if k.lower() != b"authorization"]
            headers.append((b"authorization", f"Bearer {self.proxy.upstream_key}".encode()))
        return self.proxy.client.build_request(self.method, url, headers=headers, content=body)

    async def _respond(self, response: httpx.Response, check: ResponseCheck | None) -> None:
        upstream_headers = dict(response.headers)
        found = check.start(response.status_code, upstream_headers) if check else []
        if check is not None and check.streaming:
            await self._stream(response, check, found)
            return
        content = await response.aread()
        if check is not None:
            found += check.whole(content)
        self.proxy.note(self.scope, found)
        if found and self.proxy.fail_on_violation:
            raise BadGateway.refusing(found)
        await self._record(response, content)
        await self._start(response.status_code, response.headers.multi_items(), len(content))
        await self.send({"type": "http.response.body", "body": content})

    async def _record(self, response: httpx.Response, content: bytes | None, **how: bool) -> None:
        """Hand the answer to the recorder (before the client has all of it)."""
        if self.capture is None:
            return
        request = response.request
        auth = {"authorization": request.headers.get("authorization", "")}

        async def fetch(path: str) -> object:
            answer = await self.proxy.client.get(self.proxy.upstream + path, headers=auth)
            answer.raise_for_status()
            return answer.json()

        await self.capture.finish(
            response.status_code, dict(response.headers), content, fetch, **how
        )

    async def _stream(
        self, response: httpx.Response, check: ResponseCheck, found: list[Violation]
    ) -> None:
        strict = self.proxy.fail_on_violation
        self.proxy.note(self.scope, found)
        if found and strict:
            raise BadGateway.refusing(found)
        await self._start(response.status_code, response.headers.multi_items(), None)
        reader = SseReader()
        try:
            async for chunk in response.aiter_raw():
                events = reader.feed(chunk)
                if self.capture is not None:
                    for event in events:
                        self.capture.event(event)  # as it passes: the recorded pacing
                problems = [v for event in events for v in check.event(event)]
                self.proxy.note(self.scope, problems)
                if strict:
                    if await self._forward_events(events, problems):
                        return
                else:
                    await self._more(chunk)
        except httpx.HTTPError:
            await self._record(response, None, dropped=True)
            self.proxy.note(self.scope, check.finish(complete=False))
            if strict:
                await self._error_event(BadGateway("The upstream cut the stream"))
            return  # the upstream dropped the stream: drop it too (unless strict)
        ending = check.finish(complete=not reader.pending)
        await self._record(response, None, complete=not reader.pending)
        self.proxy.note(self.scope, ending)
        if ending and strict:
            await self._error_event(BadGateway.refusing(ending))
            return
        await self.send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _forward_events(self, events: Iterable[SseEvent], problems: list[Violation]) -> bool:
        """Strict mode: whole, valid events only; `True` when a bad one ended the stream."""
        if problems:
            await self._error_event(BadGateway.refusing(problems))
            return True
        for event in events:
            await self._more(event.encode())
        return False

    async def _more(self, body: bytes) -> None:
        await self.send({"type": "http.response.body", "body": body, "more_body": True})

    async def _error_event(self, error: ApiError) -> None:
        """Once a stream has started, an error is its last event (the contract's `error`)."""
        await self._more(b"\n" + SseEvent("error", error.body()).encode())
        await self.send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _start(
        self,
        status: int,
        headers: Iterable[tuple[str, str]],
        length: int | None,
    ) -> None:
        kept = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in headers
            if name.lower() not in NOT_FORWARDED
        ]
        if length is not None:
            kept.append((b"content-length", str(length).encode()))
        self.started = True
        await self.send({"type": "http.response.start", "status": status, "headers": kept})


def _once(body: bytes, then: Receive) -> Receive:
    """A `receive` that hands over a body already read, then what the client sends next."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}


class ProxyThread(ServerThread):
    """A `ContractProxy` served on a real socket from a daemon thread."""

    def __init__(
        self,
        proxy: ContractProxy,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        limit_concurrency: int | None = None,
    ) -> None:
        super().__init__(
            proxy.app,
            host,
            port,
            request_timeout=request_timeout,
            limit_concurrency=limit_concurrency,
            lifespan="on",
            server_header=False,  # the upstream's own Server and Date headers pass through
            date_header=False,
            log_config=None,
        )
        self.proxy = proxy

    def __enter__(self) -> ProxyThread:
        self.start()
        return self
