"""wacht-mock: a stateful mock server and contract-testing kit for the Wacht AI API.

The public API is what ``__all__`` names; everything else may change without notice.
"""

from ._version import __version__
from .agents import (
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
from .app import create_app
from .check import CheckOptions, contract_schema, run_check
from .checkreport import CheckReport
from .clock import Clock, FrozenClock, SystemClock
from .config import MockConfig
from .contract import contract_path, load_contract
from .drift import DriftReport
from .errors import ApiError
from .handle import MockHandle
from .mock import WachtMock
from .proxy import ContractProxy, ProxyThread
from .server import ServerThread
from .validation import ContractValidator
from .violations import Violation

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
