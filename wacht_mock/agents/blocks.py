"""The blocks a turn is made of, as the model sees them and as a conversation stores them.

One definition for the engine (a run's state), the service (stored turns, `GET …/messages`)
and snapshots: text, a file sent with the task, a tool call `{call_id, name, args}`, a tool
result `{call_id, content}`, reasoning (kept so that it is echoed back on the next call), and
feedback signals (a tool-role turn after the model's).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import InvalidScript


@dataclass(frozen=True, slots=True)
class TextBlock:
    text: str
    type: Literal["text"] = "text"


@dataclass(frozen=True, slots=True)
class FileBlock:
    file: str
    type: Literal["file"] = "file"


@dataclass(frozen=True, slots=True)
class ToolCallBlock:
    call_id: str
    name: str
    args: dict[str, Any]
    type: Literal["tool_call"] = "tool_call"


@dataclass(frozen=True, slots=True)
class ToolResultBlock:
    call_id: str
    content: Any
    type: Literal["tool_result"] = "tool_result"


@dataclass(frozen=True, slots=True)
class ReasoningBlock:
    text: str
    type: Literal["reasoning"] = "reasoning"


@dataclass(frozen=True, slots=True)
class Signal:
    """One feedback signal about the model's turn: what kind (`test`, `lint`, `user`…), what
    it says, and any JSON data with it."""

    kind: str
    message: str
    data: Any = None

    def __post_init__(self) -> None:
        for name in ("kind", "message"):
            if not isinstance(getattr(self, name), str):
                raise InvalidScript.at(name, f"must be a string, not {getattr(self, name)!r}")
        if not self.kind:
            raise InvalidScript.at("kind", "a feedback signal needs a kind")
        object.__setattr__(self, "data", json_copy(self.data, "data"))

    @classmethod
    def of(cls, value: Signal | Mapping[str, Any]) -> Signal:
        """A signal from itself or from a mapping `{kind, message, data}`."""
        if isinstance(value, Signal):
            return value
        if not isinstance(value, Mapping):
            raise InvalidScript.at("", f"a feedback signal is a mapping, not {value!r}")
        unknown = set(value) - {"kind", "message", "data"}
        if unknown:
            raise InvalidScript.at("", f"unknown signal key {sorted(unknown)[0]!r}")
        return cls(value.get("kind", ""), value.get("message", ""), value.get("data"))


@dataclass(frozen=True, slots=True)
class FeedbackBlock:
    signals: tuple[Signal, ...]
    type: Literal["feedback"] = "feedback"


Block = TextBlock | FileBlock | ToolCallBlock | ToolResultBlock | ReasoningBlock | FeedbackBlock
"""One block of a turn, told apart by its `type`."""


def text_of(blocks: Iterable[Block]) -> str:
    """A turn's text: its text blocks, joined."""
    return "".join(block.text for block in blocks if isinstance(block, TextBlock))


def block_json(block: Block) -> dict[str, Any]:
    """A block as JSON: its fields, `type` first; a copy (changing it changes no turn)."""
    if isinstance(block, FeedbackBlock):
        signals = [
            {"kind": s.kind, "message": s.message, "data": copy.deepcopy(s.data)}
            for s in block.signals
        ]
        return {"type": "feedback", "signals": signals}
    fields = {name: getattr(block, name) for name in block.__slots__ if name != "type"}
    return {"type": block.type, **copy.deepcopy(fields)}


def json_copy(value: Any, name: str) -> Any:
    """A copy of `value` that is JSON and nothing else (no dates, sets, NaN: what a run state
    and a conversation are served as); `InvalidScript` at `name` when it is not."""
    try:
        text = json.dumps(value, allow_nan=False, default=_refuse, ensure_ascii=False)
        return json.loads(text.encode())  # a lone surrogate cannot be UTF-8: no text holds it
    except UnicodeEncodeError:
        raise InvalidScript.at(name, "must be JSON: a text holds a lone UTF-16 surrogate") from None
    except (TypeError, ValueError) as error:
        raise InvalidScript.at(name, f"must be JSON: {error}") from None


def _refuse(value: object) -> object:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} {value!r} is not a JSON value (quote it)")


@dataclass(frozen=True)
class HistoryTurn:
    """One turn of the conversation as the model sees it: who spoke (`user`, `assistant`,
    `tool`, `system`) and its blocks, in order; `text` is its text blocks joined.

    `HistoryTurn("user", "hi")` is short for a turn of one text block; given `blocks`, the
    `text` is theirs.
    """

    role: str
    text: str = ""
    blocks: tuple[Block, ...] = ()

    def __post_init__(self) -> None:
        if self.blocks:
            object.__setattr__(self, "blocks", tuple(self.blocks))
            object.__setattr__(self, "text", text_of(self.blocks))
        elif self.text:
            object.__setattr__(self, "blocks", (TextBlock(self.text),))
