"""The Python scripting API: how one agent answers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from threading import RLock
from typing import Any, Unpack

from wacht_mock.core.text import did_you_mean

from .building import (
    ReplyLike,
    as_policy,
    as_reply,
    as_response_format,
    as_tool,
    check_definition,
    check_plan,
)
from .call import AgentCall
from .calllog import CALL_LOG_SIZE, CallLog, CallRecord
from .declaration import NOTHING_DECLARED, Declaration, Policy, ResponseFormat, Tool
from .errors import InvalidScript, ScriptCallableError, at
from .faults import HttpFault
from .kinds import Exhaustion
from .matching import MATCHERS, When
from .plans import AgentDefinition, Choice, Fixed, Plan, ReplySequence, Rule
from .rendered import RenderedReply
from .reply import Reply, ReplyFields

SideEffect = Callable[[AgentCall], object] | BaseException | type[BaseException]
"""A callable taking the `AgentCall` and returning a `ReplyLike` (None: fall through to
the rules), or an exception (instance or class) to raise on every call."""

_FALLBACK = -1

Tenant = str | None
"""Whose calls: a deployment id from the server, or None for calls made without one."""


class _Run:
    """One tenant's run of a script: where each sequence stands, and its calls."""

    __slots__ = ("log", "positions")

    def __init__(self, call_log_size: int) -> None:
        self.positions: dict[int, int] = {}
        self.log = CallLog(call_log_size)


class _PlanMaker:
    """`reply`, `replies` and `fail`, shared by an agent and its rules."""

    _base: str

    def _take(self, plan: Plan) -> AgentScript:
        raise NotImplementedError

    def reply(self, text: ReplyLike | None = None, **fields: Unpack[ReplyFields]) -> AgentScript:
        """Answer with one reply, always: `reply("Hi {context.title}")`,
        `reply(text=..., tool_calls=[...])`, `reply(Reply(...))` or a mapping."""
        with at(f"{self._base}.reply"):
            plan = Fixed(_make_reply(text, fields))
        return self._take(plan)

    def replies(
        self, replies: Iterable[ReplyLike], *, when_exhausted: Exhaustion = "error"
    ) -> AgentScript:
        """Answer with these replies in order; then `error`, `repeat_last` or `default`."""
        with at(self._base):
            items = [_item(reply, f"sequence[{i}]") for i, reply in enumerate(replies)]
            plan = ReplySequence(items, when_exhausted)
        return self._take(plan)

    def fail(
        self, status: int, *, retry_after: int | None = None, message: str | None = None
    ) -> AgentScript:
        """Answer with an HTTP error, always (429 gets `Retry-After: 1` by default)."""
        with at(f"{self._base}.reply.fault"):
            fault = HttpFault(status, message, retry_after)
        return self._take(Fixed(Reply(fault=fault)))


class AgentScript(_PlanMaker):
    """How one agent answers; get it with `Engine.agent(name)`.

    For each call, in order: the `side_effect` (a callable returning None falls
    through), the rules (first match wins), the agent's own reply or sequence,
    and then the default agent. `reply`, `replies` and `fail` set the agent's own
    plan (replacing the previous one); `when(...)` adds a rule after the others.
    Every method is safe to call while another thread has the engine respond.

    The script is shared; its run state is not: each tenant (deployment) has its own place in
    every sequence and its own call log. `calls`, `call_count` and `last` span every tenant;
    `calls_in(tenant)` and `call_count_in(tenant)` read one.
    """

    def __init__(self, name: str, lock: RLock, call_log_size: int = CALL_LOG_SIZE) -> None:
        self.name = name
        self._base = f"agents.{name}"
        self._lock = lock
        self._call_log_size = call_log_size
        self._rules: list[Rule] = []
        self._fallback: Plan | None = None
        self._side_effect: SideEffect | None = None
        self._strict = False
        self._declaration = NOTHING_DECLARED
        self._runs: dict[Tenant, _Run] = {}

    def declare(
        self,
        *,
        tools: Iterable[Tool | Mapping[str, Any]] | None = None,
        guides: Iterable[str] | None = None,
        policy: Policy | Mapping[str, Any] | None = None,
        response_format: ResponseFormat | str | Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> AgentScript:
        """Declare what the agent's runs are given: `tools` (`Tool` or `{name, description,
        input}`), `guides` (texts), a `policy`, a `response_format` (`free`, `json_object`,
        `{json_schema: {name, schema}}` or a `ResponseFormat`) and `metadata`. Each part given
        replaces that part; the replies already scripted must keep to the new declaration."""
        if isinstance(guides, str):
            raise TypeError("guides is a list of texts, not one str: guides=[...]")
        with self._lock:
            current = self._declaration
            with at(self._base):
                with at("tools"):
                    declared_tools = (
                        current.tools
                        if tools is None
                        else [_at(as_tool, tool, i) for i, tool in enumerate(tools)]
                    )
                declaration = Declaration(
                    tools=declared_tools,
                    guides=current.guides if guides is None else list(guides),
                    policy=current.policy if policy is None else as_policy(policy),
                    response_format=current.response_format
                    if response_format is None
                    else as_response_format(response_format, "response_format"),
                    metadata=current.metadata if metadata is None else metadata,
                )
            self._check(self._rules, self._fallback, declaration)
            self._declaration = declaration
        return self

    @property
    def declaration(self) -> Declaration:
        """What the agent declares (tools, guides, policy, response format, metadata)."""
        with self._lock:
            return self._declaration

    def when(self, **matchers: Any) -> RuleBuilder:
        """Start a rule: `when(message_contains="refund").reply("...")`."""
        with self._lock:
            path = f"{self._base}.rules[{len(self._rules)}]"
        with at(f"{path}.when"):
            for name in matchers:
                if name not in MATCHERS:
                    hint = did_you_mean(name, MATCHERS)
                    hint = f" ({hint})" if hint else ""
                    raise InvalidScript.at("", f"unknown matcher {name!r}{hint}")
            when = When(**matchers)
        return RuleBuilder(self, when, path)

    @property
    def side_effect(self) -> SideEffect | None:
        """A callable or an exception consulted before the rules (None: no side effect)."""
        return self._side_effect

    @side_effect.setter
    def side_effect(self, effect: SideEffect | None) -> None:
        if not (effect is None or callable(effect) or isinstance(effect, BaseException)):
            raise TypeError(f"a side effect is a callable or an exception, not {effect!r}")
        with self._lock:
            self._side_effect = effect

    @property
    def called(self) -> bool:
        """Whether the agent was called."""
        return self.call_count > 0

    @property
    def call_count(self) -> int:
        """How many times the agent was called (calls that raised included), by any tenant."""
        with self._lock:
            return sum(run.log.call_count for run in self._runs.values())

    @property
    def calls(self) -> list[CallRecord]:
        """A copy of the `(call, reply)` records of every tenant, oldest first (the newest
        `call_log_size` of them)."""
        with self._lock:
            logs = [run.log for run in self._runs.values()]
            return CallLog.merged(logs, self._call_log_size)

    @property
    def last(self) -> CallRecord | None:
        """The latest `(call, reply)` record, if any."""
        with self._lock:
            return CallLog.latest(run.log for run in self._runs.values())

    def calls_in(self, tenant: Tenant) -> list[CallRecord]:
        """A copy of one tenant's records, oldest first."""
        with self._lock:
            run = self._runs.get(tenant)
            return run.log.calls if run else []

    def call_count_in(self, tenant: Tenant) -> int:
        """How many times one tenant called the agent."""
        with self._lock:
            run = self._runs.get(tenant)
            return run.log.call_count if run else 0

    @property
    def is_scripted(self) -> bool:
        """Whether anything was scripted for this agent."""
        with self._lock:
            return bool(self._rules) or self._fallback is not None or self._side_effect is not None

    @property
    def strict(self) -> bool:
        """Whether a call nothing answers is a replay miss (a script of recorded replies)."""
        with self._lock:
            return self._strict

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules, in the order they are tried."""
        with self._lock:
            return tuple(self._rules)

    def define(self, definition: AgentDefinition) -> None:
        """Replace the whole script (not the call logs) with one read from a file; every
        tenant's sequences start over."""
        with self._lock:
            self._rules = list(definition.rules)
            self._fallback = definition.fallback
            self._side_effect = None
            self._strict = definition.strict
            self._declaration = definition.declaration
            for run in self._runs.values():
                run.positions.clear()

    def clear(self) -> None:
        """Forget the script and every tenant's run (positions and call log)."""
        with self._lock:
            self.define(AgentDefinition())
            self._runs.clear()

    def answers(self, call: AgentCall) -> bool:
        """Whether anything in the script (not the default agent) would answer `call`."""
        with self._lock:
            if self._side_effect is not None or self._fallback is not None:
                return True
            return any(rule.when.matches(call) for rule in self._rules)

    def forget(self, tenant: Tenant) -> None:
        """Forget one tenant's run: its positions and its calls (the script stays)."""
        with self._lock:
            self._runs.pop(tenant, None)

    def pick(self, call: AgentCall, number: int, tenant: Tenant = None) -> Choice | None:
        """For the engine: what answers call `number` of `tenant`, or None if nothing in the
        script does."""
        with self._lock:
            positions = self._run(tenant).positions
            return (
                self._side_effect_choice(call)
                or self._rule_choice(call, number, positions)
                or self._own_choice(number, positions)
            )

    def record(self, call: AgentCall, reply: RenderedReply | None, tenant: Tenant = None) -> None:
        """For the engine: log a call of `tenant` and its reply (None if the engine raised)."""
        with self._lock:
            self._run(tenant).log.record(call, reply)

    def add_rule(self, rule: Rule) -> AgentScript:
        """Add a rule after the others (its replies held to the declaration)."""
        with self._lock, at(f"{self._base}.rules[{len(self._rules)}]"):
            check_plan(rule.plan, self._declaration)
            self._rules.append(rule)
        return self

    def _check(
        self, rules: Iterable[Rule], fallback: Plan | None, declaration: Declaration
    ) -> None:
        definition = AgentDefinition(tuple(rules), fallback, declaration=declaration)
        check_definition(definition, self._base)

    def _take(self, plan: Plan) -> AgentScript:
        with self._lock:
            with at(self._base):
                check_plan(plan, self._declaration)
            self._fallback = plan
            for run in self._runs.values():
                run.positions.pop(_FALLBACK, None)
        return self

    def _run(self, tenant: Tenant) -> _Run:
        run = self._runs.get(tenant)
        if run is None:
            run = self._runs[tenant] = _Run(self._call_log_size)
        return run

    def _side_effect_choice(self, call: AgentCall) -> Choice | None:
        effect = self._side_effect
        if effect is None:
            return None
        if isinstance(effect, BaseException):
            raise effect
        if isinstance(effect, type) and issubclass(effect, BaseException):
            raise effect()
        reply = self._call(effect, call)
        return None if reply is None else Choice(reply, f"{self.name} side effect")

    def _call(self, effect: Callable[[AgentCall], object], call: AgentCall) -> Reply | None:
        try:
            result = effect(call)
            return None if result is None else as_reply(result)
        except Exception as error:
            raise ScriptCallableError(self.name, error) from error

    def _rule_choice(
        self, call: AgentCall, number: int, positions: dict[int, int]
    ) -> Choice | None:
        for index, rule in enumerate(self._rules):
            if rule.when.matches(call):
                where = f"{self.name} rule {index + 1} ({rule.when.describe()})"
                return self._choose(index, rule.plan, where, number, positions)
        return None

    def _own_choice(self, number: int, positions: dict[int, int]) -> Choice | None:
        if self._fallback is None:
            return None
        kind = "reply" if isinstance(self._fallback, Fixed) else "sequence"
        where = f"{self.name} {kind}"
        return self._choose(_FALLBACK, self._fallback, where, number, positions)

    def _choose(
        self, key: int, plan: Plan, where: str, number: int, positions: dict[int, int]
    ) -> Choice:
        position = positions.get(key, 0)
        positions[key] = position + 1
        return plan.choose(position, where, self.name, number)


class RuleBuilder(_PlanMaker):
    """A rule being written: finish it with `reply`, `replies` or `fail`."""

    def __init__(self, script: AgentScript, when: When, path: str) -> None:
        self._script = script
        self._when = when
        self._base = path

    def _take(self, plan: Plan) -> AgentScript:
        return self._script.add_rule(Rule(self._when, plan))


def _make_reply(text: ReplyLike | None, fields: ReplyFields) -> Reply:
    if text is None or isinstance(text, str):
        return Reply(text=text, **fields)
    if fields:
        raise TypeError("give a Reply or a mapping, or keyword fields, not both")
    return as_reply(text)


def _at(make: Callable[[Any], Tool], value: Any, index: int) -> Tool:
    with at(f"[{index}]"):
        return make(value)


def _item(reply: ReplyLike, path: str) -> Reply:
    with at(path):
        return as_reply(reply)
