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
from .clock import Clock, FrozenClock, SystemClock
from .config import MockConfig
from .contract import contract_path, load_contract
from .errors import ApiError
from .mock import WachtMock
from .server import ServerThread

__all__ = [
    "AgentCall",
    "AgentScript",
    "ApiError",
    "Clock",
    "Engine",
    "FrozenClock",
    "HttpFault",
    "InvalidScript",
    "MockConfig",
    "Reply",
    "ScriptError",
    "ServerThread",
    "StreamFault",
    "SystemClock",
    "ToolCall",
    "Usage",
    "WachtMock",
    "__version__",
    "contract_path",
    "create_app",
    "load_contract",
]
