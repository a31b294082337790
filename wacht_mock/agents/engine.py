"""The engine: scripts by agent name, and the reply for each call."""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from threading import RLock
from typing import TYPE_CHECKING, Any

from .building import build_agents
from .call import AgentCall
from .calllog import CALL_LOG_SIZE
from .default_agent import default_reply
from .errors import AgentNotScripted, NoRuleMatched
from .loader import load_agents_file
from .plans import Choice
from .rendered import RenderedReply
from .rendering import render
from .script import AgentScript
from .seeding import new_faker, reseed

if TYPE_CHECKING:
    from faker import Faker


class Engine:
    """Picks and renders agent replies; knows nothing of HTTP or storage.

    `seed` (None: the default seed 0) and `strict` (an unscripted agent raises
    `AgentNotScripted`, a scripted one that has nothing for a call raises
    `NoRuleMatched`) may be changed at any time. Thread-safe: one lock guards the
    scripts, their positions and the call logs.
    """

    def __init__(
        self, *, seed: int | None = None, strict: bool = False, call_log_size: int = CALL_LOG_SIZE
    ) -> None:
        self.seed = seed
        self.strict = strict
        self.call_log_size = call_log_size
        self._lock = RLock()
        self._scripts: dict[str, AgentScript] = {}
        self._faker: Faker | None = None  # made on the first reply: faker loads when used

    def agent(self, name: str) -> AgentScript:
        """The script of agent `name`, created empty on first use."""
        with self._lock:
            if name not in self._scripts:
                self._scripts[name] = AgentScript(name, self._lock, self.call_log_size)
            return self._scripts[name]

    def find(self, name: str) -> AgentScript | None:
        """The script of agent `name` if it was ever scripted or called (creates nothing)."""
        with self._lock:
            return self._scripts.get(name)

    def forget(self, name: str) -> None:
        """Clear agent `name`'s script and log, as a reset does for every agent."""
        script = self.find(name)
        if script is not None:
            script.clear()

    def respond(self, call: AgentCall) -> RenderedReply:
        """The rendered reply for `call`; the call is logged, even when this raises."""
        with self._lock:
            script = self.agent(call.agent_name)
            number = script.call_count + 1
            reply: RenderedReply | None = None
            try:
                reply = self._reply(script, call, number)
                return reply
            finally:
                script.record(call, reply)

    def load(self, spec: Mapping[str, Any], *, source: str = "<dict>") -> None:
        """Script the agents of an `agents:` mapping, replacing their scripts.

        All or nothing: an `InvalidScript` (naming `source`) leaves every script as it was.
        """
        definitions = build_agents(spec, source=source)
        with self._lock:
            for name, definition in definitions.items():
                self.agent(name).define(definition)

    def load_file(self, path: str | PathLike[str]) -> None:
        """Script the agents of a YAML or JSON fixture file."""
        self.load(load_agents_file(path), source=str(path))

    def reset(self) -> None:
        """Forget every script, position and call log (handles stay usable)."""
        with self._lock:
            for script in self._scripts.values():
                script.clear()

    def _reply(self, script: AgentScript, call: AgentCall, number: int) -> RenderedReply:
        choice = script.pick(call, number) or self._unmatched(script)
        if self._faker is None:
            self._faker = new_faker()
        faker = reseed(self._faker, self.seed, call.agent_name, number)
        if choice.reply is None:
            return default_reply(call, faker, choice.source)
        return render(choice.reply, call, faker, choice.source)

    def _unmatched(self, script: AgentScript) -> Choice:
        scripted = script.is_scripted
        if self.strict:
            raise NoRuleMatched(script.name) if scripted else AgentNotScripted(script.name)
        why = "no rule matched" if scripted else "no script"
        return Choice(None, f"default agent ({why} for {script.name!r})")
