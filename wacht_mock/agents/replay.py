"""Replaying recorded replies: a call that no recording answers is a miss, and says why.

A recorded agent (`strict: true` in its script) answers only the requests it recorded, each a
rule matched on the message, the execution kind and the context. For any other call the miss
names the agent, the message, and the closest recording with a diff of what differs.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from .call import AgentCall
from .errors import ScriptError
from .plans import Rule


class ReplayMiss(ScriptError):
    """No recorded reply of a strict agent matches the call."""

    def __init__(self, agent_name: str, call: AgentCall, rules: Sequence[Rule]) -> None:
        self.agent_name = agent_name
        self.call = call
        self.closest = closest(call, rules)
        what = call.kind if call.message is None else f"{call.kind} {call.message!r}"
        head = (
            f"Replay miss: agent {agent_name!r} has no recording of {what} "
            f"in context {call.context.id} ({_count(len(rules))})"
        )
        if self.closest is None:
            super().__init__(head)
            return
        index, rule = self.closest
        super().__init__(
            f"{head}; the closest is rule {index + 1} ({rule.when.describe()}):\n"
            + diff(rule, call)
        )


def closest(call: AgentCall, rules: Sequence[Rule]) -> tuple[int, Rule] | None:
    """The rule with the most matchers holding (then the most similar message), if any."""
    if not rules:
        return None
    scored = [(_score(rule, call), -index, index) for index, rule in enumerate(rules)]
    _, _, best = max(scored)
    return best, rules[best]


def diff(rule: Rule, call: AgentCall) -> str:
    """`-` what the recording expects, `+` what the call has, for each of its matchers."""
    recorded, requested = [], []
    for name, expected, actual, _ in rule.when.holding(call):
        recorded.append(f"{name}: {expected!r}")
        requested.append(f"{name}: {actual!r}")
    lines = difflib.unified_diff(recorded, requested, "recorded", "request", n=len(recorded))
    return "\n".join(line.rstrip("\n") for line in lines)


def _score(rule: Rule, call: AgentCall) -> tuple[int, float]:
    holding = 0
    similarity = 0.0
    for name, expected, actual, holds in rule.when.holding(call):
        holding += holds
        if name.startswith("message") and isinstance(actual, str):
            similarity = difflib.SequenceMatcher(None, str(expected), actual).ratio()
    return holding, similarity


def _count(number: int) -> str:
    return f"{number} recording" + ("" if number == 1 else "s")
