"""wacht-mock: a stateful mock server and contract-testing kit for the Wacht AI API.

The public API is what ``__all__`` names; everything else may change without notice.
"""

from wacht_mock._version import __version__
from wacht_mock.agents import (
    AgentCall,
    AgentScript,
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
from wacht_mock.core.server import ServerThread
from wacht_mock.proxy.recorder import FixtureRecorder
from wacht_mock.proxy.server import ContractProxy, ProxyThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock
from wacht_mock.testing.handle import MockHandle

__all__ = [
    "AgentCall",
    "AgentScript",
    "ApiError",
    "CheckOptions",
    "CheckReport",
    "Clock",
    "ContractProxy",
    "ContractValidator",
    "DriftReport",
    "Engine",
    "FixtureRecorder",
    "FrozenClock",
    "HttpFault",
    "InvalidScript",
    "MockConfig",
    "MockHandle",
    "ProxyThread",
    "Reply",
    "ScriptError",
    "ServerThread",
    "StreamFault",
    "SystemClock",
    "ToolCall",
    "Usage",
    "Violation",
    "WachtMock",
    "__version__",
    "contract_path",
    "contract_schema",
    "create_app",
    "load_contract",
    "run_check",
]
