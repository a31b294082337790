"""The engine: scripts by agent name, and the reply for each call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from os import PathLike
from threading import RLock
from typing import TYPE_CHECKING, Any
from weakref import WeakValueDictionary

from .building import build_agents
from .call import AgentCall
from .calllog import CALL_LOG_SIZE
from .declaration import NOTHING_DECLARED, Declaration
from .default_agent import default_reply
from .errors import AgentNotScripted, DeclarationBroken, InvalidScript, NoRuleMatched
from .limits import apply_policy, check
from .loader import load_agents_file
from .plans import AgentDefinition, Choice
from .rendered import RenderedReply
from .rendering import render
from .replay import ReplayMiss
from .runstate import Task
from .script import AgentScript, Tenant
from .seeding import new_faker, reseed

Scripts = tuple[Tenant, Mapping[str, Any], str]
"""An `agents:` mapping to load: for every tenant (None) or one, and where it is in its source
(a path such as `deployments.wk_test_x`, put before the paths of its problems)."""
#: Scripts built (`build_scripts`): each tenant's agents, by name.
BuiltScripts = list[tuple[Tenant, dict[str, AgentDefinition]]]

if TYPE_CHECKING:
    from faker import Faker


class Engine:
    """Picks and renders agent replies; knows nothing of HTTP or storage.

    `seed` (None: the default seed 0) and `strict` (an unscripted agent raises
    `AgentNotScripted`, a scripted one that has nothing for a call raises
    `NoRuleMatched`) may be changed at any time. Thread-safe: one lock guards the
    scripts, their positions and the call logs.

    Tenants: a call may name one (the server gives the deployment id). Each tenant has its own
    place in every sequence, its own call numbers (so its replies are what a fresh engine would
    give) and its own call log; a tenant may also have scripts of its own, which answer its
    calls instead of the shared ones. `reset(tenant)` forgets one tenant's runs and scripts.
    """

    def __init__(
        self, *, seed: int | None = None, strict: bool = False, call_log_size: int = CALL_LOG_SIZE
    ) -> None:
        self.seed = seed
        self.strict = strict
        self.call_log_size = call_log_size
        self._lock = RLock()
        self._scripts: dict[str, AgentScript] = {}
        self._own: dict[str, dict[str, AgentScript]] = {}
        #: Scripts a reset emptied, still usable by whoever holds them (and taken back if so).
        self._idle: WeakValueDictionary[str, AgentScript] = WeakValueDictionary()
        self._faker: Faker | None = None  # made on the first reply: faker loads when used

    def agent(self, name: str, tenant: Tenant = None) -> AgentScript:
        """The script of agent `name`, created empty on first use; with `tenant`, that
        tenant's own script of the agent (from then on it answers the tenant's calls)."""
        with self._lock:
            if tenant is not None:
                own = self._own.setdefault(tenant, {})
                if name not in own:
                    own[name] = AgentScript(name, self._lock, self.call_log_size)
                return own[name]
            script = self._scripts.get(name) or self._idle.pop(name, None)
            if script is None:
                script = AgentScript(name, self._lock, self.call_log_size)
            self._scripts[name] = script
            return script

    def find(self, name: str, tenant: Tenant = None) -> AgentScript | None:
        """The script that answers agent `name` (for `tenant`: its own, else the shared one),
        if it was scripted or called since the last reset (creates nothing)."""
        with self._lock:
            own = self._own.get(tenant, {}) if tenant is not None else {}
            return own.get(name) or self._scripts.get(name)

    def forget(self, name: str) -> None:
        """Clear agent `name`'s script and log, as a reset does for every agent."""
        script = self.find(name)
        if script is not None:
            script.clear()

    def respond(self, call: AgentCall, tenant: Tenant = None) -> RenderedReply:
        """The rendered reply for `call` of `tenant`, held to the agent's declaration and cut
        by its policy; the call is logged with its run state, even when this raises."""
        with self._lock:
            script = self.find(call.agent_name, tenant) or self.agent(call.agent_name)
            number = script.call_count_in(tenant) + 1
            declaration = script.declaration
            call = _given(call, declaration)
            reply: RenderedReply | None = None
            try:
                made = self._reply(script, call, number, tenant)
                if declaration.constrains_replies:
                    try:
                        check(made, declaration)
                    except InvalidScript as problems:
                        raise DeclarationBroken(script.name, made.source, problems) from None
                policy = declaration.policy
                reply = apply_policy(made, policy) if policy.limits else made
                return reply
            finally:
                script.record(call, reply, tenant)

    def given(self, call: AgentCall, tenant: Tenant = None, task: Task | None = None) -> AgentCall:
        """`call` as the engine gives it to the script: with the agent's declaration, so its
        `run_state` is what the model is given (`task`: for a run resumed without asking the
        script, after an approval or with a client's tool result). Nothing is logged."""
        with self._lock:
            script = self.find(call.agent_name, tenant)
            return _given(call, script.declaration if script else NOTHING_DECLARED, task)

    def would_miss(self, call: AgentCall, tenant: Tenant = None) -> bool:
        """Whether `call` of `tenant` is a replay miss: a strict agent that nothing in its
        script answers. Nothing is logged and no sequence moves (for capture on miss)."""
        with self._lock:
            script = self.find(call.agent_name, tenant)
            return script is not None and script.strict and not script.answers(call)

    def load(
        self, spec: Mapping[str, Any], *, source: str = "<dict>", tenant: Tenant = None
    ) -> None:
        """Script the agents of an `agents:` mapping (for every tenant, or `tenant`'s own),
        replacing their scripts.

        All or nothing: an `InvalidScript` (naming `source`) leaves every script as it was.
        """
        self.load_all([(tenant, spec, "")], source=source)

    def load_all(self, scripts: Iterable[Scripts], *, source: str = "<dict>") -> None:
        """Several `agents:` mappings of one source, each for every tenant or one: all checked
        before any is loaded."""
        self.define_all(build_scripts(scripts, source=source))

    def define_all(self, built: BuiltScripts) -> None:
        """Script agents as `build_scripts` built them. What it built is frozen, so one build
        serves again (a fixture file's, on every reset)."""
        with self._lock:
            for tenant, definitions in built:
                for name, definition in definitions.items():
                    self.agent(name, tenant).define(definition)

    def load_file(self, path: str | PathLike[str]) -> None:
        """Script the agents of a YAML or JSON fixture file."""
        self.load(load_agents_file(path), source=str(path))

    def reset(self, tenant: Tenant = None) -> None:
        """Forget every script, position and call log (handles stay usable; scripts nobody
        holds are freed). With `tenant`: forget only that tenant's runs and own scripts."""
        with self._lock:
            if tenant is not None:
                self._own.pop(tenant, None)
                for script in self._scripts.values():
                    script.forget(tenant)
                return
            for script in self._scripts.values():
                script.clear()
                self._idle[script.name] = script
            self._scripts.clear()
            self._own.clear()

    def _reply(
        self, script: AgentScript, call: AgentCall, number: int, tenant: Tenant
    ) -> RenderedReply:
        choice = script.pick(call, number, tenant) or self._unmatched(script, call)
        if self._faker is None:
            self._faker = new_faker()
        faker = reseed(self._faker, self.seed, call.agent_name, number)
        declaration = script.declaration
        if choice.reply is None:
            return default_reply(call, faker, choice.source, declaration.response_format)
        return render(choice.reply, call, faker, choice.source, declaration)

    def _unmatched(self, script: AgentScript, call: AgentCall) -> Choice:
        if script.strict:
            raise ReplayMiss(script.name, call, script.rules)
        scripted = script.is_scripted
        if self.strict:
            raise NoRuleMatched(script.name) if scripted else AgentNotScripted(script.name)
        why = "no rule matched" if scripted else "no script"
        return Choice(None, f"default agent ({why} for {script.name!r})")


def build_scripts(scripts: Iterable[Scripts], *, source: str = "<dict>") -> BuiltScripts:
    """Several `agents:` mappings of one source built, each for every tenant or one: all
    checked (an `InvalidScript` naming `source` and the place), nothing loaded."""
    built: BuiltScripts = []
    for tenant, spec, where in scripts:
        try:
            built.append((tenant, build_agents(spec, source=source)))
        except InvalidScript as error:
            raise error.under(where) if where else error from None
    return built


def _given(call: AgentCall, declaration: Declaration, task: Task | None = None) -> AgentCall:
    """A copy of `call` with the agent's declaration (and a task), made without
    `dataclasses.replace`, which would run the whole constructor again on every execution."""
    given: AgentCall = object.__new__(AgentCall)
    fields = given.__dict__
    fields.update(call.__dict__)
    fields.pop("run_state", None)  # a copy of a call whose state was already read
    fields["declaration"], fields["task"] = declaration, task
    return given
