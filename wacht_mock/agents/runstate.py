"""The model-visible state of one agent run, as the engine builds it for every execution.

`RunState` has the fields of the harness's `Context`: `system` (the context's system
instructions, as they are when the run starts), `guides`, `history` (the earlier turns with
their typed blocks: a shared, read-only view), `task` (this execution), `policy`, `metadata`,
`tools` and `response_format`. `to_json()` gives it with those field names, as the control API
serves it and `contracts/run-state.schema.json` describes it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .blocks import HistoryTurn, TextBlock, block_json
from .declaration import Policy, ResponseFormat, Tool


@dataclass(frozen=True)
class Task:
    """What this execution asks: its kind, its message (None for `continue`) and files."""

    kind: str
    message: str | None
    files: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "files": list(self.files)}


@dataclass(frozen=True)
class RunState:
    """What the model is given in one run (read-only; the history is shared, not copied)."""

    system: tuple[TextBlock, ...]
    guides: tuple[TextBlock, ...]
    history: Sequence[HistoryTurn]
    task: Task
    policy: Policy
    metadata: Mapping[str, Any]
    tools: tuple[Tool, ...]
    response_format: ResponseFormat

    def to_json(self) -> dict[str, Any]:
        """The state with the harness's field names, as JSON."""
        return {
            "system": [block_json(block) for block in self.system],
            "guides": [block_json(block) for block in self.guides],
            "history": [turn_json(turn) for turn in self.history],
            "task": self.task.to_json(),
            "policy": self.policy.to_json(),
            "metadata": copy.deepcopy(dict(self.metadata)),
            "tools": [tool.to_json() for tool in self.tools],
            "response_format": self.response_format.to_json(),
        }


def turn_json(turn: HistoryTurn) -> dict[str, Any]:
    return {"role": turn.role, "blocks": [block_json(block) for block in turn.blocks]}
