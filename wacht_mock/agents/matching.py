"""When a rule applies: matchers on the message, the context and the turn."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any, get_args, get_type_hints

from .call import AgentCall, CallKind
from .errors import InvalidScript


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


def _group(call: AgentCall) -> str | None:
    return call.context.context_group


def _turn(call: AgentCall) -> int:
    return call.turn


def _kind(call: AgentCall) -> str:
    return call.kind


def _context_id(call: AgentCall) -> str:
    return call.context.id


def _matcher(
    subject: Callable[[AgentCall], Any], test: Callable[[Any, Any], bool], says: str
) -> Any:
    """A matcher field: unset by default, with what it tests kept beside its name and type."""
    return field(default=None, metadata={"matcher": _Matcher(subject, test, says)})


@dataclass(frozen=True)
class When:
    """Matchers that must all hold. Strings match case-sensitively; `message_regex`
    is searched anywhere in the message (use `^…$` to anchor, `(?i)` to ignore
    case). Message matchers never match a `continue` call, which has no message.

    The one definition of the matchers: their names, types and tests are these fields;
    the script files' `when:` keys are read from them (`MATCHERS`)."""

    message: str | None = _matcher(_message, _equals, "message is")
    message_contains: str | None = _matcher(_message, _contains, "message contains")
    message_regex: str | None = _matcher(_message, _search, "message matches")
    context_group: str | None = _matcher(_group, _equals, "context_group is")
    title: str | None = _matcher(_title, _equals, "title is")
    title_contains: str | None = _matcher(_title, _contains, "title contains")
    system_instructions: str | None = _matcher(_instructions, _equals, "system_instructions are")
    system_instructions_contains: str | None = _matcher(
        _instructions, _contains, "system_instructions contain"
    )
    turn: int | None = _matcher(_turn, _equals, "turn is")
    kind: CallKind | None = _matcher(_kind, _equals, "kind is")
    context_id: str | None = _matcher(_context_id, _equals, "context_id is")

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
        return all(_TESTS[name].test(call, value) for name, value in self.given())

    def describe(self) -> str:
        """A short text for the journal, e.g. "message contains 'refund'"."""
        return " and ".join(_TESTS[name].describe(value) for name, value in self.given())

    def holding(self, call: AgentCall) -> Iterator[tuple[str, Any, Any, bool]]:
        """Each matcher in use: (name, expected, what the call has, whether it holds)."""
        for name, value in self.given():
            matcher = _TESTS[name]
            yield name, value, matcher.subject(call), matcher.test(call, value)


_TESTS: dict[str, _Matcher] = {spec.name: spec.metadata["matcher"] for spec in fields(When)}
#: Each matcher's name and the type of its value, as `When` declares them.
MATCHERS: dict[str, Any] = get_type_hints(When)


def _check_regex(pattern: str | None) -> None:
    if pattern is None:
        return
    try:
        re.compile(pattern)
    except re.error as error:
        raise InvalidScript.at("message_regex", f"bad regular expression: {error}") from None
