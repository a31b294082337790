"""When a rule applies: matchers on the message, the context and the turn."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any, TypedDict, get_args

from .call import AgentCall, CallKind
from .errors import InvalidScript


class Matchers(TypedDict, total=False):
    """The keyword arguments of `When`."""

    message: str
    message_contains: str
    message_regex: str
    context_group: str
    title: str
    title_contains: str
    system_instructions: str
    system_instructions_contains: str
    turn: int
    kind: CallKind
    context_id: str


@dataclass(frozen=True)
class When:
    """Matchers that must all hold. Strings match case-sensitively; `message_regex`
    is searched anywhere in the message (use `^…$` to anchor, `(?i)` to ignore
    case). Message matchers never match a `continue` call, which has no message."""

    message: str | None = None
    message_contains: str | None = None
    message_regex: str | None = None
    context_group: str | None = None
    title: str | None = None
    title_contains: str | None = None
    system_instructions: str | None = None
    system_instructions_contains: str | None = None
    turn: int | None = None
    kind: CallKind | None = None
    context_id: str | None = None

    def __post_init__(self) -> None:
        if not any(True for _ in self.given()):
            raise InvalidScript.at("", "a rule needs at least one matcher")
        _check_regex(self.message_regex)
        if self.turn is not None and self.turn < 1:
            raise InvalidScript.at("turn", "turns are numbered from 1")
        if self.kind is not None and self.kind not in get_args(CallKind):
            raise InvalidScript.at("kind", f"must be one of {', '.join(get_args(CallKind))}")

    def given(self) -> Iterator[tuple[str, Any]]:
        """The matchers in use, as (name, expected value)."""
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value is not None:
                yield spec.name, value

    def matches(self, call: AgentCall) -> bool:
        """Whether every matcher holds for the call."""
        return all(_MATCHERS[name].test(call, value) for name, value in self.given())

    def describe(self) -> str:
        """A short text for the journal, e.g. "message contains 'refund'"."""
        return " and ".join(_MATCHERS[name].describe(value) for name, value in self.given())

    def holding(self, call: AgentCall) -> Iterator[tuple[str, Any, Any, bool]]:
        """Each matcher in use: (name, expected, what the call has, whether it holds)."""
        for name, value in self.given():
            matcher = _MATCHERS[name]
            yield name, value, matcher.subject(call), matcher.test(call, value)


@dataclass(frozen=True)
class _Matcher:
    subject: Callable[[AgentCall], Any]
    predicate: Callable[[Any, Any], bool]
    wording: str

    def test(self, call: AgentCall, expected: Any) -> bool:
        subject = self.subject(call)
        return subject is not None and self.predicate(subject, expected)

    def describe(self, expected: Any) -> str:
        return f"{self.wording} {expected!r}"


def _equals(subject: Any, expected: Any) -> bool:
    return bool(subject == expected)


def _contains(subject: str, expected: str) -> bool:
    return expected in subject


def _search(subject: str, expected: str) -> bool:
    return re.search(expected, subject) is not None


def _message(call: AgentCall) -> str | None:
    return call.message


def _title(call: AgentCall) -> str:
    return call.context.title


def _instructions(call: AgentCall) -> str | None:
    return call.context.system_instructions


_MATCHERS: dict[str, _Matcher] = {
    "message": _Matcher(_message, _equals, "message is"),
    "message_contains": _Matcher(_message, _contains, "message contains"),
    "message_regex": _Matcher(_message, _search, "message matches"),
    "context_group": _Matcher(lambda call: call.context.context_group, _equals, "context_group is"),
    "title": _Matcher(_title, _equals, "title is"),
    "title_contains": _Matcher(_title, _contains, "title contains"),
    "system_instructions": _Matcher(_instructions, _equals, "system_instructions are"),
    "system_instructions_contains": _Matcher(
        _instructions, _contains, "system_instructions contain"
    ),
    "turn": _Matcher(lambda call: call.turn, _equals, "turn is"),
    "kind": _Matcher(lambda call: call.kind, _equals, "kind is"),
    "context_id": _Matcher(lambda call: call.context.id, _equals, "context_id is"),
}


def _check_regex(pattern: str | None) -> None:
    if pattern is None:
        return
    try:
        re.compile(pattern)
    except re.error as error:
        raise InvalidScript.at("message_regex", f"bad regular expression: {error}") from None
