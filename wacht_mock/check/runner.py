"""Contract checks of any server: the mock, a staging service or the real API.

`wacht-mock check` runs schemathesis' engine (the one behind its own command line) with every
check, in the examples, coverage, fuzzing and stateful phases (chains of calls along the
contract's links), with positive and negative data, and adds the rules the contract states in
words (`wacht_mock.contract.rules`: filters applied, pages echoed, errors' codes, stream
framing).

For a pytest suite of your own, `contract_schema` returns the loaded contract:

    schema = contract_schema(api_key="wk_test_…")

    @schema.parametrize()
    def test_api(case):
        case.call_and_validate(base_url="https://staging.example.com")
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from wacht_mock.check.extra import require_schemathesis
from wacht_mock.check.report import PHASES, CheckReport, write_junit
from wacht_mock.contract.documents import Profile, contract_path, load_contract
from wacht_mock.contract.validation import ContractValidator
from wacht_mock.core.server import ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
DEFAULT_MAX_EXAMPLES = 100
DEFAULT_TIMEOUT = 30.0
MOCK_KEY = "wk_test_contractcheck"
API_KEY_VARIABLE = "WACHT_API_KEY"

if TYPE_CHECKING:  # schemathesis is the check extra's: imported when a check is asked for
    from schemathesis.schemas import BaseSchema


def contract_schema(
    base_url: str | None = None,
    api_key: str | None = None,
    *,
    contract: str | Path | None = None,
    profile: Profile = "guide",
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    seed: int | None = None,
    phases: Sequence[str] = PHASES,
    read_only: bool = False,
    request_timeout: float = DEFAULT_TIMEOUT,
) -> BaseSchema:
    """The contract loaded by schemathesis, ready for `@schema.parametrize()`.

    Every check is on, with positive and negative data; the contract's worded rules are added as
    a check of their own. `api_key` authenticates every generated request (schemathesis still
    sends the negative "no key" cases). `read_only` leaves out POST, PUT, PATCH and DELETE, and
    never sends them as undocumented methods either: for servers holding real data. `profile`
    picks the packaged contract of a dialect (`guide` or `platform`); `contract` names
    another document.
    """
    require_schemathesis("contract_schema()")
    import schemathesis

    from wacht_mock.check import worded

    path = Path(contract) if contract is not None else contract_path(profile)
    if not path.is_file():
        raise ValueError(f"no contract at {path}")
    config = schemathesis.Config.from_dict(
        _config(base_url, api_key, max_examples, seed, phases, request_timeout)
    )
    loaded = schemathesis.openapi.from_path(path, config=config)
    worded.register(loaded.raw_schema, ContractValidator(load_contract(path)))
    return loaded.exclude(method=list(UNSAFE_METHODS)) if read_only else loaded


def _config(
    base_url: str | None,
    api_key: str | None,
    max_examples: int,
    seed: int | None,
    phases: Sequence[str],
    request_timeout: float,
) -> dict[str, Any]:
    unknown = sorted(set(phases) - set(PHASES))
    if unknown:
        raise ValueError(f"unknown phase {', '.join(unknown)} (phases: {', '.join(PHASES)})")
    if max_examples < 1:
        raise ValueError("--max-examples must be at least 1")
    config: dict[str, Any] = {
        "generation": {"mode": "all", "max-examples": max_examples, "database": "none"},
        "phases": {name: {"enabled": name in phases} for name in PHASES},
        "cache": {"enabled": False},
        "request-timeout": request_timeout,
    }
    if base_url is not None:
        config["base-url"] = _checked_url(base_url)
    if seed is not None:
        config["seed"] = seed
    if api_key:
        config["auth"] = {"openapi": {"bearerAuth": {"bearer": api_key}}}
    return config


def _checked_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--base-url must be an http(s) URL, got {url!r}")
    return url.rstrip("/")


# -- running a check ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckOptions:
    """What `wacht-mock check` was asked for."""

    base_url: str | None = None
    api_key: str | None = None
    contract: Path | None = None
    profile: Profile = "guide"
    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int | None = None
    phases: tuple[str, ...] = PHASES
    read_only: bool = False
    junit: Path | None = None
    against_mock: bool = False
    request_timeout: float = DEFAULT_TIMEOUT


def run_check(options: CheckOptions, progress: Callable[[str], None] | None = None) -> CheckReport:
    """Check the server `options` name (or a fresh in-process mock) against the contract."""
    require_schemathesis("wacht-mock check")
    from schemathesis.core.result import Ok

    seed = options.seed if options.seed is not None else random.randrange(2**32)
    with _target(options, seed) as (base_url, api_key):
        schema = contract_schema(
            base_url,
            api_key,
            contract=options.contract,
            profile=options.profile,
            max_examples=options.max_examples,
            seed=seed,
            phases=options.phases,
            read_only=options.read_only,
            request_timeout=options.request_timeout,
        )
        operations = [r.ok().label for r in schema.get_all_operations() if isinstance(r, Ok)]
        report = CheckReport(base_url, operations, seed=seed)
        problem = preflight(base_url, api_key, options.request_timeout)
        if problem is None:
            _execute(schema, report, progress)
        else:
            report.error(problem)
    if options.junit is not None:
        write_junit(report, options.junit)
    return report


def _execute(
    schema: BaseSchema, report: CheckReport, progress: Callable[[str], None] | None
) -> None:
    """schemathesis' engine, every phase in turn, each event into the report."""
    from schemathesis.engine import events, from_schema

    for event in from_schema(schema).execute():
        report.record(event)
        if progress is not None and isinstance(event, events.PhaseFinished):
            name = event.phase.name.value
            if name in PHASES and event.phase.is_enabled:
                progress(f"{name}: {event.status.value}")


def preflight(base_url: str, api_key: str | None, timeout: float) -> str | None:
    """Why the server cannot be checked at all (unreachable, or the key refused), if it cannot."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    url = f"{base_url.rstrip('/')}/ai/execution-contexts?limit=1"
    try:
        response = httpx.get(url, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return f"cannot reach {base_url}: {exc or type(exc).__name__}"
    if response.status_code in (401, 403):
        return f"the server refused the API key ({response.status_code}: {response.text[:200]})"
    return None


@contextmanager
def _target(options: CheckOptions, seed: int) -> Iterator[tuple[str, str | None]]:
    if not options.against_mock:
        if options.base_url is None:
            raise ValueError("give --base-url URL, or --against-mock")
        yield options.base_url, options.api_key
        return
    if options.base_url is not None:
        raise ValueError("--against-mock checks a mock of its own: leave out --base-url")
    # The same seed: the same generated replies; the same profile: the dialect checked.
    app = create_app(MockConfig(seed=seed, profile=options.profile))
    with _quiet("uvicorn.error"), ServerThread(app) as server:
        yield server.url, options.api_key or MOCK_KEY


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """The mock's own server keeps quiet about the malformed requests the check sends it."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
