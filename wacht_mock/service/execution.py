"""One agent execution: the store and the script engine, joined.

The service looks up the context, asks the engine for the scripted reply, records the turns and
the context's new `execution_state` in the store, and hands back an `Execution` that the
routes render as JSON or as a stream. It knows nothing of HTTP beyond raising `ApiError`.

A run can pause: a scripted tool call that `requires_approval` (until an `approval_response`
allows it) or that is `client_executed` (until a `platform_function_result` brings its
result) leaves the context `waiting_for_input` with the rest of the reply held; the answer
resumes it. A scripted `ask` waits for a `user_input_response` (or a new message). `cancel`
ends a waiting run, or a stream in flight, as `interrupted`.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

from wacht_mock.agents import (
    AgentCall,
    AgentNotScripted,
    CallKind,
    ContextView,
    Engine,
    History,
    HttpFault,
    RenderedReply,
    RenderedToolCall,
    ReplayMiss,
    ScriptError,
    StreamFault,
    Task,
)
from wacht_mock.core.errors import ApiError, BadRequest, Conflict, ScriptProblem
from wacht_mock.service.models import (
    Block,
    Context,
    ExecutionState,
    ExecutionStatus,
    FeedbackBlock,
    FileBlock,
    PendingInput,
    ReasoningBlock,
    TextBlock,
    ToolCallBlock,
    ToolResultBlock,
    Turn,
    replace_context,
)
from wacht_mock.service.profiles import DialectProfile, dialect
from wacht_mock.service.requests import ExecuteRequest
from wacht_mock.service.runs import RunLog, RunRecord
from wacht_mock.service.store import Store

StreamKey = tuple[str, str]
#: The variant that answers each kind of pause.
ANSWERS = {"approval": "approval_response", "function_result": "platform_function_result"}
#: nginx's status for a client that hung up before it had the whole exchange (its request not
#: all sent, or a stream not all read); no one receives it, but the journal and the context show
#: it (and it is no server error: the mock did nothing wrong).
CLIENT_CLOSED_REQUEST = 499


@dataclass(frozen=True)
class Execution:
    """What an execute call produced: its ids, the reply, and the JSON the client gets.

    `reply` is None for a `cancel`, which ends a run without a reply.
    """

    execution_id: str
    conversation_id: str
    message_id: str
    status: ExecutionStatus
    reply: RenderedReply | None
    context: Context

    @property
    def stream_fault(self) -> StreamFault | None:
        fault = self.reply.fault if self.reply else None
        return fault if isinstance(fault, StreamFault) else None


class ExecutionService:
    """Runs `execute` requests against a store with an engine."""

    def __init__(self, store: Store, engine: Engine, profile: DialectProfile | None = None) -> None:
        self.store = store
        self.engine = engine
        #: What the model was given in each run, by execution id (as many as the call logs).
        self.runs = RunLog(engine.call_log_size)
        self.profile = profile or dialect("guide")
        self._streams: dict[StreamKey, threading.Event] = {}
        self._lock = threading.Lock()

    def execute(self, deployment_id: str, context_id: str, request: ExecuteRequest) -> Execution:
        context = self.store.get(deployment_id, context_id)
        if request.kind == "cancel":
            return self._cancel(context)
        self._check_can_execute(context, request)
        if request.kind == "approval_response":
            return self._approve(context, request)
        if request.kind == "platform_function_result":
            return self._deliver(context, request)
        history = self.store.shared_history(deployment_id, context_id)
        run = self._new_run(context, request.agent_name)
        reply = self._respond(_call(request, context, history, run), deployment_id)
        if isinstance(reply.fault, HttpFault):
            raise _http_fault(reply.fault, reply.source)
        if request.kind != "stream" and reply.fault is not None:
            reply = replace(reply, fault=None)  # a stream fault means nothing to a JSON answer
        user = _user_turn(self.store, request, run.execution_id)
        if reply.fault is not None:
            return self._logged(run, request.kind, self._finish(run, user, reply, "failed"))
        return self._logged(run, request.kind, self._run(run, user, reply))

    def _logged(self, run: _Run, kind: str, execution: Execution) -> Execution:
        """Keep what the model was given in `run` and how the execution ended."""
        reply = execution.reply
        if reply is not None and reply.call is not None:
            record = RunRecord(
                execution_id=run.execution_id,
                deployment_id=run.context.deployment_id,
                context_id=run.context.id,
                agent_name=run.agent,
                kind=kind,
                status=execution.status,
                stop_reason=reply.stop_reason,
                call=reply.call,
            )
            self.runs.add(record)
        return execution

    def _new_run(self, context: Context, agent: str, **changes: Any) -> _Run:
        """A new execution's ids (made before its turns', so ids follow the dialogue)."""
        execution_id = self.store.ids.next()
        conversation_id = context.conversation_id or self.store.ids.next()
        run_context = replace_context(context, changes) if changes else context
        return _Run(run_context, agent, execution_id, conversation_id)

    # -- a run, and where it pauses -----------------------------------------------------------

    def _run(self, run: _Run, before: tuple[Turn, ...], reply: RenderedReply) -> Execution:
        """Record the reply, or as much of it as comes before a pause."""
        execution_id = run.execution_id
        pause = _pause(reply, run.context.always_allowed)
        if pause is None:
            agent_turns = _agent_turns(self.store, reply, execution_id)
            return self._finish(run, before + agent_turns, reply, None)
        kind, waiting = pause
        blocks: list[Block] = [ReasoningBlock(reply.reasoning)] if reply.reasoning else []
        blocks += [ToolCallBlock(c.id, c.name, c.args) for c in reply.tool_calls]
        asked = _turn(self.store, execution_id, "assistant", blocks)
        names = ", ".join(sorted({c.name for c in waiting}))
        pending = PendingInput(
            message=f"Approve the tool call(s): {names}"
            if kind == "approval"
            else f"Run the tool call(s) and send their result: {names}",
            kind=kind,
            request_message_id=asked.id if kind == "approval" else None,
            execution_id=execution_id if kind == "function_result" else None,
            tool_calls=tuple(ToolCallBlock(c.id, c.name, c.args) for c in waiting),
        )
        shown = replace(reply, text="", stop_reason="tool_use", status="waiting_for_input")
        return self._record(
            run, (*before, asked), shown, pending, "waiting_for_input", held=reply, message=asked
        )

    def _finish(
        self,
        run: _Run,
        turns: tuple[Turn, ...],
        reply: RenderedReply,
        status: ExecutionStatus | None,
    ) -> Execution:
        final: ExecutionStatus = status or reply.status
        pending = PendingInput(reply.ask) if final == "waiting_for_input" and reply.ask else None
        agent_turns = [t for t in turns if t.role != "user"]
        message = agent_turns[-1] if agent_turns else None
        return self._record(run, turns, reply, pending, final, message=message)

    def _record(
        self,
        run: _Run,
        turns: tuple[Turn, ...],
        reply: RenderedReply | None,
        pending: PendingInput | None,
        final: ExecutionStatus,
        *,
        held: RenderedReply | None = None,
        message: Turn | None = None,
    ) -> Execution:
        context = run.context
        fault = reply.fault if reply else None
        state = ExecutionState(
            execution_id=run.execution_id,
            conversation_id=run.conversation_id,
            agent_name=run.agent,
            status=final,
            pending_input_request=pending,
            error_message=fault.message if isinstance(fault, StreamFault) else None,
            error_code=fault.code if isinstance(fault, StreamFault) else None,
        )
        changes: dict[str, Any] = {"held": held, "always_allowed": context.always_allowed}
        if self.profile.status_is_run_state:
            changes["status"] = final
        updated = self.store.record_execution(
            context.deployment_id, context.id, turns, state, changes
        )
        # The reply is the last agent turn; a run without one still gets a message id.
        message_id = message.id if message else self.store.ids.next()
        return Execution(run.execution_id, run.conversation_id, message_id, final, reply, updated)

    # -- answers to a paused run --------------------------------------------------------------

    def _approve(self, context: Context, request: ExecuteRequest) -> Execution:
        pending = _pending(context, "approval", "approval_response")
        if request.request_message_id != pending.request_message_id:
            raise Conflict(
                f"Execution context {context.id} waits for the approval of message "
                f"{pending.request_message_id}, not {request.request_message_id}"
            )
        approved = {a.tool_name for a in request.approvals}
        missing = sorted({c.name for c in pending.tool_calls} - approved)
        if missing:
            raise BadRequest(
                "Invalid request body: approval_response/approvals: no approval for "
                + ", ".join(repr(name) for name in missing)
            )
        always = {a.tool_name for a in request.approvals if a.mode == "allow_always"}
        held = _held(context)
        run = self._new_run(
            context, _agent_of(context), always_allowed=context.always_allowed | always
        )
        approved_calls = tuple(
            replace(c, requires_approval=c.requires_approval and c.name not in approved)
            for c in held.tool_calls
        )
        rest = replace(held, tool_calls=approved_calls)
        if _pause(rest, run.context.always_allowed) is not None:  # the client's tools remain
            return self._run(run, (), rest)
        return self._resume(run, held, {}, "approval_response")

    def _deliver(self, context: Context, request: ExecuteRequest) -> Execution:
        pending = _pending(context, "function_result", "platform_function_result")
        if request.execution_id != pending.execution_id:
            raise Conflict(
                f"Execution context {context.id} waits for the result of execution "
                f"{pending.execution_id}, not {request.execution_id}"
            )
        held = _held(context)
        run = self._new_run(context, _agent_of(context))
        results = {call.call_id: request.result for call in pending.tool_calls}
        return self._resume(run, held, results, "platform_function_result")

    def _resume(
        self, run: _Run, held: RenderedReply, delivered: dict[str, Any], kind: str
    ) -> Execution:
        """The rest of a paused run: the tool results, then the agent's answer. The model is
        given the conversation so far (its tool calls last) and the answer as its task."""
        context = run.context
        history = self.store.shared_history(context.deployment_id, context.id)
        call = _call_of(context, run, history, "continue", None, ())
        given = self.engine.given(call, context.deployment_id, Task(kind, None))
        turns = _resumed_turns(self.store, held, run.execution_id, delivered)
        answer = replace(held, tool_calls=(), reasoning=None, call=given)
        return self._logged(run, kind, self._finish(run, turns, answer, None))

    def _cancel(self, context: Context) -> Execution:
        key = (context.deployment_id, context.id)
        with self._lock:
            live = self._streams.get(key)
        state = context.execution_state
        waiting = state is not None and state.status == "waiting_for_input"
        if live is None and not waiting:
            raise Conflict(f"Execution context {context.id} has no run to cancel")
        if live is not None:
            live.set()
        run = self._new_run(context, _agent_of(context))
        return self._record(run, (), None, None, "interrupted")

    # -- streams ------------------------------------------------------------------------------

    def stream_started(self, execution: Execution) -> threading.Event:
        """A stream of `execution` is in flight; `cancel` sets the event it returns."""
        cancelled = threading.Event()
        context = execution.context
        with self._lock:
            self._streams[(context.deployment_id, context.id)] = cancelled
        if self.profile.status_is_run_state:
            self.store.update(context.deployment_id, context.id, {"status": "running"}, touch=False)
        return cancelled

    def stream_ended(self, execution: Execution, cancelled: threading.Event) -> None:
        context = execution.context
        key = (context.deployment_id, context.id)
        with self._lock:
            if self._streams.get(key) is cancelled:
                del self._streams[key]
        if cancelled.is_set() or not self.profile.status_is_run_state:
            return
        with contextlib.suppress(ApiError):  # deleted while it streamed: nothing left to mark
            final = {"status": execution.status}
            self.store.update(context.deployment_id, context.id, final, touch=False)

    def interrupted(self, execution: Execution, message: str) -> None:
        """The client of a stream left before its end: its execution is `interrupted`, as the
        client saw it (unless the context has run another execution since, or is gone)."""
        recorded = execution.context.execution_state
        if recorded is None:
            return
        state = replace(
            recorded,
            status="interrupted",
            pending_input_request=None,
            error_message=message,
            error_code=CLIENT_CLOSED_REQUEST,
        )
        context = execution.context
        self.store.replace_execution_state(context.deployment_id, context.id, state)
        self.runs.ended(context.deployment_id, execution.execution_id, "interrupted")
        if self.profile.status_is_run_state:
            with contextlib.suppress(ApiError):
                self.store.update(
                    context.deployment_id, context.id, {"status": "interrupted"}, touch=False
                )

    # -- the engine ---------------------------------------------------------------------------

    def would_miss(self, deployment_id: str, context_id: str, request: ExecuteRequest) -> bool:
        """Whether executing `request` would be a replay miss (nothing runs, nothing moves)."""

        try:
            context = self.store.get(deployment_id, context_id)
            history = self.store.shared_history(deployment_id, context_id)
        except ApiError:
            return False
        if request.kind not in ("new_message", "continue", "stream", "user_input_response"):
            return False  # an answer to a paused run asks the engine nothing
        return self.engine.would_miss(_call(request, context, history), deployment_id)

    def _respond(self, call: AgentCall, deployment_id: str) -> RenderedReply:
        try:
            return self.engine.respond(call, deployment_id)
        except (AgentNotScripted, ReplayMiss) as exc:
            raise ScriptProblem(str(exc), status=404) from None
        except ScriptError as exc:
            raise ScriptProblem(f"Agent script failed: {exc}", status=500) from exc

    def _check_can_execute(self, context: Context, request: ExecuteRequest) -> None:
        if not self.profile.status_is_run_state and context.status != "active":
            raise Conflict(
                f"Execution context {context.id} is {context.status}; only an active context "
                "can execute (set its status to active first)"
            )
        state = context.execution_state
        pending = state.pending_input_request if state else None
        if (
            pending is not None
            and pending.kind in ANSWERS
            and request.kind != ANSWERS[pending.kind]
        ):
            raise Conflict(
                f"Execution context {context.id} waits for an {ANSWERS[pending.kind]} "
                f"({pending.message}); send it, or cancel the run"
            )
        if request.kind == "user_input_response" and (
            pending is None or pending.kind != "question"
        ):
            raise Conflict(f"Execution context {context.id} has asked no question to answer")
        if request.kind == "continue" and context.conversation_id is None:
            raise Conflict(f"Execution context {context.id} has no conversation to continue yet")


@dataclass(frozen=True)
class _Run:
    """One execution under way: its context as it starts, its agent and its ids."""

    context: Context
    agent: str
    execution_id: str
    conversation_id: str


def _held(context: Context) -> RenderedReply:
    assert context.held is not None  # a run is paused only with the rest of its reply held
    return context.held


def _pending(context: Context, kind: str, variant: str) -> PendingInput:
    state = context.execution_state
    pending = state.pending_input_request if state else None
    if pending is None or pending.kind != kind or context.held is None:
        raise Conflict(f"Execution context {context.id} has nothing waiting for an {variant}")
    return pending


def _agent_of(context: Context) -> str:
    state = context.execution_state
    return state.agent_name if state else "default"


def _pause(
    reply: RenderedReply, allowed: frozenset[str]
) -> tuple[Any, tuple[RenderedToolCall, ...]] | None:
    """Why a reply's run stops before its end: the calls awaiting approval, or the client."""
    approval = tuple(c for c in reply.tool_calls if c.requires_approval and c.name not in allowed)
    if approval:
        return "approval", approval
    client = tuple(c for c in reply.tool_calls if c.client_executed)
    if client:
        return "function_result", client
    return None


def _resumed_turns(
    store: Store, held: RenderedReply, execution_id: str, delivered: dict[str, Any]
) -> tuple[Turn, ...]:
    """The tool results (scripted, or delivered by the client) and the agent's answer."""
    results: list[Block] = [
        ToolResultBlock(c.id, delivered.get(c.id, c.result))
        for c in held.tool_calls
        if c.has_result or c.id in delivered
    ]
    turns = [_turn(store, execution_id, "tool", results)] if results else []
    if held.text:
        turns.append(_turn(store, execution_id, "assistant", [TextBlock(held.text)]))
    return (*turns, *_feedback_turn(store, held, execution_id))


def _call(
    request: ExecuteRequest, context: Context, history: History, run: _Run | None = None
) -> AgentCall:
    kind = request.kind
    assert kind in ("new_message", "continue", "stream", "user_input_response")
    return _call_of(context, run, history, kind, request.message, request.files, request.agent_name)


def _call_of(
    context: Context,
    run: _Run | None,
    history: History,
    kind: CallKind,
    message: str | None,
    files: tuple[str, ...],
    agent_name: str | None = None,
) -> AgentCall:
    """What the engine is told of an execution of `context` (`run` gives its ids)."""
    view = ContextView(
        id=context.id,
        title=context.title,
        system_instructions=context.system_instructions,
        context_group=context.context_group,
        status=context.status,
    )
    return AgentCall(
        agent_name=agent_name or (run.agent if run else _agent_of(context)),
        kind=kind,
        message=message,
        files=files,
        context=view,
        history=history,
        turn=context.executions + 1,
        deployment_id=context.deployment_id,
        conversation_id=run.conversation_id if run else context.conversation_id,
        execution_id=run.execution_id if run else None,
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
        turns = [_turn(store, execution_id, "assistant", reasoning + text + calls)]
    else:
        turns = [
            _turn(store, execution_id, "assistant", reasoning + calls),
            _turn(store, execution_id, "tool", results),
            _turn(store, execution_id, "assistant", text),
        ]
    return (*turns, *_feedback_turn(store, reply, execution_id))


def _feedback_turn(store: Store, reply: RenderedReply, execution_id: str) -> tuple[Turn, ...]:
    """The reply's feedback signals, as a tool-role turn after the agent's (`push_feedback`)."""
    if not reply.feedback:
        return ()
    return (_turn(store, execution_id, "tool", [FeedbackBlock(reply.feedback)]),)


def _turn(store: Store, execution_id: str, role: Any, blocks: list[Block]) -> Turn:
    return Turn(store.ids.next(), execution_id, role, store.clock.now(), tuple(blocks))
