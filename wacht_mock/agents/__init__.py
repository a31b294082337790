"""The scripted agent-reply engine: which reply an agent gives to a call, rendered.

It knows nothing of HTTP or storage: the server builds an `AgentCall`, asks
`Engine.respond` for a `RenderedReply`, and turns it into JSON or a stream.

    engine = Engine(seed=42)
    engine.agent("support-bot").when(message_contains="refund").reply("Refunds take 5 days")
    engine.agent("support-bot").reply("Hello {context.title}")
    engine.load(load_agents_file("fixtures/agents.yaml"))
"""

from .building import ReplyLike
from .call import AgentCall, CallKind, ContextView, HistoryTurn
from .calllog import CallRecord
from .chunking import Chunking
from .engine import Engine
from .errors import (
    AgentNotScripted,
    InvalidScript,
    NoRuleMatched,
    ScriptCallableError,
    ScriptError,
    ScriptExhausted,
)
from .faults import Fault, HttpFault, StreamFault, StreamFaultMode
from .loader import load_agents_file
from .matching import When
from .plans import Exhaustion
from .rendered import RenderedReply, RenderedToolCall
from .replay import ReplayMiss
from .reply import NO_RESULT, Reply, Status, StopReason, ToolCall
from .script import AgentScript, RuleBuilder, SideEffect
from .usage import Usage

__all__ = [
    "NO_RESULT",
    "AgentCall",
    "AgentNotScripted",
    "AgentScript",
    "CallKind",
    "CallRecord",
    "Chunking",
    "ContextView",
    "Engine",
    "Exhaustion",
    "Fault",
    "HistoryTurn",
    "HttpFault",
    "InvalidScript",
    "NoRuleMatched",
    "RenderedReply",
    "RenderedToolCall",
    "ReplayMiss",
    "Reply",
    "ReplyLike",
    "RuleBuilder",
    "ScriptCallableError",
    "ScriptError",
    "ScriptExhausted",
    "SideEffect",
    "Status",
    "StopReason",
    "StreamFault",
    "StreamFaultMode",
    "ToolCall",
    "Usage",
    "When",
    "load_agents_file",
]
