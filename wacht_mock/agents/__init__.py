"""The scripted agent-reply engine: which reply an agent gives to a call, rendered.

It knows nothing of HTTP or storage: the server builds an `AgentCall`, asks
`Engine.respond` for a `RenderedReply`, and turns it into JSON or a stream.

    engine = Engine(seed=42)
    engine.agent("support-bot").when(message_contains="refund").reply("Refunds take 5 days")
    engine.agent("support-bot").reply("Hello {context.title}")
    engine.load(load_agents_file("fixtures/agents.yaml"))
"""

from .blocks import (
    Block,
    FeedbackBlock,
    FileBlock,
    HistoryTurn,
    ReasoningBlock,
    Signal,
    TextBlock,
    ToolCallBlock,
    ToolResultBlock,
)
from .building import ReplyLike
from .call import AgentCall, CallKind, ContextView, History, Transcript, TurnLike
from .calllog import CallRecord
from .chunking import Chunking
from .declaration import Declaration, Policy, ResponseFormat, Tool
from .engine import BuiltScripts, Engine, Scripts, build_scripts
from .errors import (
    AgentNotScripted,
    DeclarationBroken,
    InvalidScript,
    NoRuleMatched,
    ScriptCallableError,
    ScriptError,
    ScriptExhausted,
)
from .faults import Fault, HttpFault, StreamFault
from .kinds import Exhaustion, ReplyStatus, StopReason, StreamFaultMode
from .loader import load_agents_file
from .matching import When
from .rendered import RenderedReply, RenderedToolCall
from .replay import ReplayMiss
from .reply import NO_RESULT, Reply, ToolCall
from .runstate import RunState, Task
from .script import AgentScript, RuleBuilder, SideEffect, Tenant
from .usage import Usage

__all__ = [
    "NO_RESULT",
    "AgentCall",
    "AgentNotScripted",
    "AgentScript",
    "Block",
    "BuiltScripts",
    "CallKind",
    "CallRecord",
    "Chunking",
    "ContextView",
    "Declaration",
    "DeclarationBroken",
    "Engine",
    "Exhaustion",
    "Fault",
    "FeedbackBlock",
    "FileBlock",
    "History",
    "HistoryTurn",
    "HttpFault",
    "InvalidScript",
    "NoRuleMatched",
    "Policy",
    "ReasoningBlock",
    "RenderedReply",
    "RenderedToolCall",
    "ReplayMiss",
    "Reply",
    "ReplyLike",
    "ReplyStatus",
    "ResponseFormat",
    "RuleBuilder",
    "RunState",
    "ScriptCallableError",
    "ScriptError",
    "ScriptExhausted",
    "Scripts",
    "SideEffect",
    "Signal",
    "StopReason",
    "StreamFault",
    "StreamFaultMode",
    "Task",
    "Tenant",
    "TextBlock",
    "Tool",
    "ToolCall",
    "ToolCallBlock",
    "ToolResultBlock",
    "Transcript",
    "TurnLike",
    "Usage",
    "When",
    "build_scripts",
    "load_agents_file",
]
