"""The engine's exception family: every error it raises is a `ScriptError`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class ScriptError(Exception):
    """Base class of every error raised by the agent-reply engine."""


class InvalidScript(ScriptError):
    """A script definition is wrong.

    `problems` holds `(path, message)` pairs; the path is where the problem is in the
    script, written like `agents.support-bot.rules[1].when`.
    """

    def __init__(self, problems: Iterable[tuple[str, str]], *, source: str | None = None) -> None:
        self.problems = tuple(problems)
        self.source = source
        super().__init__("\n".join(self._lines()))

    @classmethod
    def at(cls, path: str, message: str) -> InvalidScript:
        """One problem at one path."""
        return cls([(path, message)])

    @property
    def path(self) -> str:
        """The path of the first problem."""
        return self.problems[0][0]

    @property
    def problem(self) -> str:
        """The message of the first problem."""
        return self.problems[0][1]

    def under(self, prefix: str) -> InvalidScript:
        """The same problems, their paths put under `prefix`."""
        moved = [(join_path(prefix, path), message) for path, message in self.problems]
        return InvalidScript(moved, source=self.source)

    def from_source(self, source: str) -> InvalidScript:
        """The same problems, said to come from `source` (a file name)."""
        return InvalidScript(self.problems, source=source)

    def _lines(self) -> Iterator[str]:
        head = f"{self.source}: " if self.source else ""
        for path, message in self.problems:
            yield f"{head}{path}: {message}" if path else f"{head}{message}"


class ScriptExhausted(ScriptError):
    """A sequence with `when_exhausted: error` has no reply left."""

    def __init__(self, agent_name: str, length: int, call_number: int, where: str) -> None:
        self.agent_name = agent_name
        self.length = length
        self.call_number = call_number
        super().__init__(
            f"agent {agent_name!r} ran out of replies: {where} has {length} "
            f"{'reply' if length == 1 else 'replies'} and this is call {call_number}"
        )


class AgentNotScripted(ScriptError):
    """Strict mode: an agent without a script was called (the API's 404 message)."""

    def __init__(self, agent_name: str) -> None:
        self.agent_name = agent_name
        super().__init__(f"Agent {agent_name} not found")


class NoRuleMatched(ScriptError):
    """Strict mode: no rule of a scripted agent matched and it has no fallback reply."""

    def __init__(self, agent_name: str) -> None:
        self.agent_name = agent_name
        super().__init__(
            f"agent {agent_name!r}: no rule matched and there is no fallback reply (strict mode)"
        )


class ScriptCallableError(ScriptError):
    """A script's callable raised, or returned something that is not a reply."""

    def __init__(self, agent_name: str, origin: Exception) -> None:
        self.agent_name = agent_name
        self.origin = origin
        super().__init__(f"the side effect of agent {agent_name!r} failed: {origin!r}")


class DeclarationBroken(ScriptError):
    """A rendered reply breaks its agent's declaration (an undeclared tool, arguments its
    schema refuses, a terminal reply outside the response format)."""

    def __init__(self, agent_name: str, source: str, problems: InvalidScript) -> None:
        self.agent_name = agent_name
        self.problems = problems.problems
        said = "; ".join(f"{path}: {message}" for path, message in self.problems)
        super().__init__(f"the reply of {source} breaks the agent's declaration: {said}")


def join_path(prefix: str, path: str) -> str:
    """`agents.bot` + `rules[0]` -> `agents.bot.rules[0]`; indexes attach without a dot."""
    if not prefix or not path:
        return prefix or path
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


@contextmanager
def at(path: str) -> Iterator[None]:
    """Put the path of any `InvalidScript` raised inside the block under `path`."""
    try:
        yield
    except InvalidScript as error:
        raise error.under(path) from None
