"""What a script answers with: one fixed reply, or a sequence of replies."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .declaration import NOTHING_DECLARED, Declaration
from .errors import InvalidScript, ScriptExhausted
from .kinds import Exhaustion
from .matching import When
from .reply import Reply

EXHAUSTIONS: tuple[Exhaustion, ...] = ("error", "repeat_last", "default")


@dataclass(frozen=True)
class Choice:
    """The reply picked for a call (None: let the default agent answer) and where from."""

    reply: Reply | None
    source: str


@dataclass(frozen=True)
class Fixed:
    """The same reply every time."""

    reply: Reply

    def choose(self, position: int, where: str, agent_name: str, call_number: int) -> Choice:
        """The reply, whatever the position."""
        return Choice(self.reply, where)


@dataclass(frozen=True)
class ReplySequence:
    """Replies in order; `when_exhausted` says what comes after the last one."""

    replies: Sequence[Reply]
    when_exhausted: Exhaustion = "error"

    def __post_init__(self) -> None:
        object.__setattr__(self, "replies", tuple(self.replies))
        if not self.replies:
            raise InvalidScript.at("sequence", "a sequence needs at least one reply")
        if self.when_exhausted not in EXHAUSTIONS:
            raise InvalidScript.at("when_exhausted", f"must be one of {', '.join(EXHAUSTIONS)}")

    def choose(self, position: int, where: str, agent_name: str, call_number: int) -> Choice:
        """The reply at `position` (0-based), or what `when_exhausted` says."""
        size = len(self.replies)
        if position < size:
            return Choice(self.replies[position], f"{where}, reply {position + 1} of {size}")
        if self.when_exhausted == "repeat_last":
            return Choice(self.replies[-1], f"{where}, reply {size} of {size} (repeated)")
        if self.when_exhausted == "default":
            return Choice(None, f"{where}, sequence exhausted: default agent")
        raise ScriptExhausted(agent_name, size, call_number, where)


Plan = Fixed | ReplySequence


@dataclass(frozen=True)
class Rule:
    """A plan that applies when its matchers hold."""

    when: When
    plan: Plan


@dataclass(frozen=True)
class AgentDefinition:
    """A whole agent script as written in a file: rules, then a fallback plan.

    `strict`: a call nothing answers is a replay miss (recorded replies), not the default agent.
    `declaration`: the agent's tools, guides, policy, response format and metadata.
    """

    rules: tuple[Rule, ...] = ()
    fallback: Plan | None = None
    strict: bool = False
    declaration: Declaration = NOTHING_DECLARED


def scripted_replies(plan: Plan) -> Iterator[tuple[str, Reply]]:
    """The replies a plan holds, each with its path in the plan."""
    if isinstance(plan, Fixed):
        yield "reply", plan.reply
    else:
        for index, reply in enumerate(plan.replies):
            yield f"sequence[{index}]", reply
