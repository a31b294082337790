"""Token usage: given by the script, or estimated as word counts.

Input: the words of the context's system instructions, the agent's guides, the history and the
message.
Output: the words of the text, the reasoning and the tool calls' JSON arguments.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .blocks import HistoryTurn
from .call import AgentCall, History, count_words
from .errors import InvalidScript


@dataclass(frozen=True)
class Usage:
    """Tokens read and written by one agent turn."""

    input_tokens: int
    output_tokens: int

    def __post_init__(self) -> None:
        for name in ("input_tokens", "output_tokens"):
            if getattr(self, name) < 0:
                raise InvalidScript.at(name, "must be 0 or more")


def estimate_usage(
    call: AgentCall, text: str, reasoning: str | None, tool_args: Iterable[Mapping[str, Any]]
) -> Usage:
    """Usage from word counts, for a reply that does not give it."""
    guides = call.declaration.guides if call.declaration else ()
    read = _words(call.context.system_instructions, call.message, *guides)
    read += _history_words(call.history)
    arguments = (json.dumps(args) for args in tool_args)
    return Usage(read, _words(text, reasoning, *arguments))


def _history_words(history: Sequence[HistoryTurn]) -> int:
    """Kept by the conversation as it grows (a `History`), or counted here."""
    if isinstance(history, History):
        return history.words
    return sum(count_words(turn.text) for turn in history)


def _words(*texts: str | None) -> int:
    return sum(count_words(text) for text in texts)
