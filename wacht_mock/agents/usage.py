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
        if self.input_tokens < 0:
            raise InvalidScript.at("input_tokens", "must be 0 or more")
        if self.output_tokens < 0:
            raise InvalidScript.at("output_tokens", "must be 0 or more")


def estimate_usage(
    call: AgentCall, text: str, reasoning: str | None, tool_args: Iterable[Mapping[str, Any]]
) -> Usage:
    """Usage from word counts, for a reply that does not give it."""
    read = count_words(call.context.system_instructions) + count_words(call.message)
    if call.declaration:
        read += _words(call.declaration.guides)
    read += _history_words(call.history)
    written = count_words(text) + count_words(reasoning)
    written += _words(json.dumps(args) for args in tool_args)
    return Usage(read, written)


def _history_words(history: Sequence[HistoryTurn]) -> int:
    """Kept by the conversation as it grows (a `History`), or counted here."""
    if isinstance(history, History):
        return history.words
    return sum(count_words(turn.text) for turn in history)


def _words(texts: Iterable[str]) -> int:
    return sum(map(count_words, texts))
