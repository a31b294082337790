"""wacht-mock: a stateful mock server and contract-testing kit for the Wacht AI API.

The public API is what `__all__` names; everything else may change without notice.

How it is built. One subpackage per part; a part imports its own modules or a lower level's,
never a sibling's (`lint-imports` holds it to that, see `[tool.importlinter]`):

    4  cli/        wacht-mock serve | check | proxy: arguments in, exit status out
    3  check/      schemathesis runs a contract    testing/   pytest plugin, handle, cassettes
    2  service/    the fake Wacht service          proxy/     a real server, watched and recorded
    1  agents/     scripted replies                contract/  the OpenAPI documents, validation
    0  core/       the error type and its envelope, JSON and SSE framing, clock, ids, the journal
                   and its recorder, masking, bounded documents, the recorded-fixture shape, wire
                   values, the uvicorn server thread, text helpers

The path of one request through the service (`service/`), each step raising the one error
type, `ApiError`, rendered once at the edge (its `response()`,
from the handler in `service/app.py`; the proxy's own errors likewise):

    MockApp (service/app)               routes on the path as sent (an encoded slash stays);
                                        `/_mock/` goes to Starlette's router, the API on:
      Recorder (core/recording)         every request and answer into the journal; a bug
                                        becomes a JSON 500 it records, never a traceback
        FaultInjector (service/faults)  an injected fault answers instead, when one is due
          ApiRouter (service/app)       the handler, from the path's segments (service/routes)
            routes (service/routes)     auth: the key's tenant (service/auth)
              RequestReader             the body, held to the profile's contract (contract/)
              Store                     contexts and their conversations (service/store)
              ExecutionService          the agent engine's reply (agents/), runs that wait
              views | EventStream       JSON, or Server-Sent Events (core/sse)
      Facts (core/recording)            what a handler learned, for the journal entry

`import wacht_mock` loads nothing but this module: each name is imported from its part when
first used (PEP 562), so the pytest plugin costs a test session that does not use it nothing,
and the check's schemathesis (the `check` extra) loads only when a check runs.
"""

import importlib as _importlib
import typing as _typing

from wacht_mock._version import __version__

if _typing.TYPE_CHECKING:
    from wacht_mock.agents import (
        AgentCall,
        AgentScript,
        CallRecord,
        Engine,
        HttpFault,
        InvalidScript,
        Reply,
        ScriptError,
        StreamFault,
        ToolCall,
        Usage,
    )
    from wacht_mock.check.report import CheckReport
    from wacht_mock.check.runner import CheckOptions, contract_schema, run_check
    from wacht_mock.contract.documents import contract_path, load_contract
    from wacht_mock.contract.drift import DriftReport
    from wacht_mock.contract.validation import ContractValidator
    from wacht_mock.contract.violations import Violation
    from wacht_mock.core.clock import Clock, FrozenClock, SystemClock
    from wacht_mock.core.errors import ApiError
    from wacht_mock.core.journal import Entry, Journal
    from wacht_mock.core.server import ServerThread
    from wacht_mock.proxy.recorder import FixtureRecorder
    from wacht_mock.proxy.server import ContractProxy, ProxyThread
    from wacht_mock.service.app import create_app
    from wacht_mock.service.config import MockConfig
    from wacht_mock.service.mock import WachtMock
    from wacht_mock.service.models import Context
    from wacht_mock.testing.handle import MockHandle

#: Where each public name is defined, by part (the order of `__all__`).
_PARTS: dict[str, tuple[str, ...]] = {
    # the fake service, and what its state and requests are made of
    "wacht_mock.service.mock": ("WachtMock",),
    "wacht_mock.service.app": ("create_app",),
    "wacht_mock.service.config": ("MockConfig",),
    "wacht_mock.service.models": ("Context",),
    "wacht_mock.core.server": ("ServerThread",),
    "wacht_mock.core.clock": ("Clock", "FrozenClock", "SystemClock"),
    "wacht_mock.core.errors": ("ApiError",),
    "wacht_mock.core.journal": ("Entry", "Journal"),
    # scripted agent replies
    "wacht_mock.agents": (
        "AgentCall",
        "AgentScript",
        "CallRecord",
        "Engine",
        "HttpFault",
        "InvalidScript",
        "Policy",
        "Reply",
        "ResponseFormat",
        "RunState",
        "ScriptError",
        "Signal",
        "StreamFault",
        "Tool",
        "ToolCall",
        "Usage",
    ),
    # tests: the handle the pytest fixtures give
    "wacht_mock.testing.handle": ("MockHandle",),
    # the contract and validation against it
    "wacht_mock.contract.documents": ("contract_path", "load_contract"),
    "wacht_mock.contract.validation": ("ContractValidator",),
    "wacht_mock.contract.violations": ("Violation",),
    "wacht_mock.contract.drift": ("DriftReport",),
    # the validating proxy
    "wacht_mock.proxy.server": ("ContractProxy", "ProxyThread"),
    "wacht_mock.proxy.recorder": ("FixtureRecorder",),
    # contract checks of a server (schemathesis: pip install 'wacht-mock[check]')
    "wacht_mock.check.runner": ("CheckOptions", "contract_schema", "run_check"),
    "wacht_mock.check.report": ("CheckReport",),
}
_HOME = {name: module for module, names in _PARTS.items() for name in names}

__all__ = [  # noqa: RUF022 (grouped by part, not sorted)
    "__version__",
    # the fake service
    "WachtMock",
    "create_app",
    "MockConfig",
    "Context",
    "ServerThread",
    "Clock",
    "FrozenClock",
    "SystemClock",
    "ApiError",
    "Entry",
    "Journal",
    # scripted agent replies
    "AgentCall",
    "AgentScript",
    "CallRecord",
    "Engine",
    "HttpFault",
    "InvalidScript",
    "Policy",
    "Reply",
    "ResponseFormat",
    "RunState",
    "ScriptError",
    "Signal",
    "StreamFault",
    "Tool",
    "ToolCall",
    "Usage",
    # tests
    "MockHandle",
    # the contract
    "contract_path",
    "load_contract",
    "ContractValidator",
    "Violation",
    "DriftReport",
    # the validating proxy
    "ContractProxy",
    "ProxyThread",
    "FixtureRecorder",
    # contract checks (the check extra)
    "CheckOptions",
    "contract_schema",
    "run_check",
    "CheckReport",
]


def __getattr__(name: str) -> object:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'wacht_mock' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
