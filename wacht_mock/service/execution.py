"""One agent execution: the store and the script engine, joined.

The service looks up the context, asks the engine for the scripted reply, records the turns and
the context's new ``execution_state`` in the store, and hands back an :class:`Execution` that the
routes render as JSON or as a stream. It knows nothing of HTTP beyond raising :class:`ApiError`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

from wacht_mock.agents import (
    AgentCall,
    AgentNotScripted,
    ContextView,
    Engine,
    HistoryTurn,
    HttpFault,
    RenderedReply,
    ScriptError,
    StreamFault,
)
from wacht_mock.core.errors import ApiError, Conflict, ScriptProblem
from wacht_mock.service.models import (
    Block,
    Context,
    ExecutionState,
    FileBlock,
    ReasoningBlock,
    TextBlock,
    ToolCallBlock,
    ToolResultBlock,
    Turn,
)
from wacht_mock.service.payloads import ExecuteRequest
from wacht_mock.service.store import Store

#: nginx's status for a client that hung up before it had the whole exchange (its request not
#: all sent, or a stream not all read); no one receives it, but the journal and the context show
#: it (and it is no server error: the mock did nothing wrong).
CLIENT_CLOSED_REQUEST = 499


@dataclass(frozen=True)
class Execution:
    """What an execute call produced: its ids, the reply, and the JSON the client gets."""

    execution_id: str
    conversation_id: str
    message_id: str
    status: str
    reply: RenderedReply
    context: Context

    @property
    def stream_fault(self) -> StreamFault | None:
        fault = self.reply.fault
        return fault if isinstance(fault, StreamFault) else None


class ExecutionService:
    """Runs ``execute`` requests against a store with an engine."""

    def __init__(self, store: Store, engine: Engine) -> None:
        self.store = store
        self.engine = engine

    def execute(self, deployment_id: str, context_id: str, request: ExecuteRequest) -> Execution:
        context = self.store.get(deployment_id, context_id)
        _check_can_execute(context, request)
        history = self.store.turns(deployment_id, context_id)
        reply = self._respond(_call(request, context, history))
        if isinstance(reply.fault, HttpFault):
            raise _http_fault(reply.fault, reply.source)
        if request.kind != "stream" and reply.fault is not None:
            reply = replace(reply, fault=None)  # a stream fault means nothing to a JSON answer
        ids = self.store.ids
        execution_id = ids.next()
        conversation_id = context.conversation_id or ids.next()
        failed = reply.fault is not None
        status = "failed" if failed else reply.status
        user = _user_turn(self.store, request, execution_id)
        agent = () if failed else _agent_turns(self.store, reply, execution_id)
        message_id = agent[-1].id if agent else ids.next()  # the reply is the last agent turn
        turns = user + agent
        state = _state(execution_id, conversation_id, request.agent_name, status, reply)
        updated = self.store.record_execution(deployment_id, context_id, turns, state)
        return Execution(execution_id, conversation_id, message_id, status, reply, updated)

    def interrupted(self, deployment_id: str, execution: Execution, message: str) -> None:
        """The client of a stream left before its end: its execution failed, as the client saw
        it (unless the context has run another execution since, or is gone)."""
        recorded = execution.context.execution_state
        if recorded is None:
            return
        state = replace(
            recorded,
            status="failed",
            pending_input_request=None,
            error_message=message,
            error_code=CLIENT_CLOSED_REQUEST,
        )
        self.store.replace_execution_state(deployment_id, execution.context.id, state)

    def _respond(self, call: AgentCall) -> RenderedReply:
        try:
            return self.engine.respond(call)
        except AgentNotScripted as exc:
            raise ScriptProblem(str(exc), status=404) from None
        except ScriptError as exc:
            raise ScriptProblem(f"Agent script failed: {exc}", status=500) from exc


def _check_can_execute(context: Context, request: ExecuteRequest) -> None:
    if context.status != "active":
        raise Conflict(
            f"Execution context {context.id} is {context.status}; only an active context can "
            "execute (set its status to active first)"
        )
    if request.kind == "continue" and context.conversation_id is None:
        raise Conflict(f"Execution context {context.id} has no conversation to continue yet")


def _call(request: ExecuteRequest, context: Context, history: tuple[Turn, ...]) -> AgentCall:
    view = ContextView(
        id=context.id,
        title=context.title,
        system_instructions=context.system_instructions,
        context_group=context.context_group,
        status=context.status,
    )
    return AgentCall(
        agent_name=request.agent_name,
        kind=request.kind,
        message=request.message,
        files=request.files,
        context=view,
        history=tuple(HistoryTurn(role=turn.role, text=turn.text) for turn in history),
        turn=context.executions + 1,
    )


def _http_fault(fault: HttpFault, source: str) -> ApiError:
    headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    message = fault.message or HTTPStatus(fault.status).phrase
    error = ApiError(message, status=fault.status, headers=headers)
    error.script = source
    return error


def _user_turn(store: Store, request: ExecuteRequest, execution_id: str) -> tuple[Turn, ...]:
    if request.message is None and not request.files:
        return ()
    blocks: list[Block] = [] if request.message is None else [TextBlock(request.message)]
    blocks += [FileBlock(file) for file in request.files]
    return (_turn(store, execution_id, "user", blocks),)


def _agent_turns(store: Store, reply: RenderedReply, execution_id: str) -> tuple[Turn, ...]:
    """The agent's turn; with tool results, its tool calls, the results, then its answer.

    Turn ids are made in conversation order, so sorting a history by id keeps the dialogue."""
    reasoning: list[Block] = [ReasoningBlock(reply.reasoning)] if reply.reasoning else []
    calls: list[Block] = [ToolCallBlock(c.id, c.name, c.args) for c in reply.tool_calls]
    text: list[Block] = [TextBlock(reply.text)] if reply.text else []
    results: list[Block] = [
        ToolResultBlock(c.id, c.result) for c in reply.tool_calls if c.has_result
    ]
    if not results:
        return (_turn(store, execution_id, "assistant", reasoning + text + calls),)
    return (
        _turn(store, execution_id, "assistant", reasoning + calls),
        _turn(store, execution_id, "tool", results),
        _turn(store, execution_id, "assistant", text),
    )


def _turn(store: Store, execution_id: str, role: Any, blocks: list[Block]) -> Turn:
    return Turn(store.ids.next(), execution_id, role, store.clock.now(), tuple(blocks))


def _state(
    execution_id: str, conversation_id: str, agent: str, status: Any, reply: RenderedReply
) -> ExecutionState:
    fault = reply.fault
    return ExecutionState(
        execution_id=execution_id,
        conversation_id=conversation_id,
        agent_name=agent,
        status=status,
        pending_input_request=reply.ask if status == "waiting_for_input" else None,
        error_message=fault.message if isinstance(fault, StreamFault) else None,
        error_code=fault.code if isinstance(fault, StreamFault) else None,
    )
