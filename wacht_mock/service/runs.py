"""The runs the engine answered, by execution id, with what the model was given in each.

Bounded: each deployment keeps its newest `size` runs (the call logs' size); a run state holds
a shared view of its context's history, not a copy, so a long conversation costs nothing more.
A stream the client left is marked `interrupted`: what was given stays, no reply is added.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from wacht_mock.agents import AgentCall, RunState
from wacht_mock.core.errors import NotFound


@dataclass(frozen=True)
class RunRecord:
    """One run: whose, which agent, what kind of execution, how it ended, and its state."""

    execution_id: str
    deployment_id: str
    context_id: str
    agent_name: str
    kind: str
    status: str
    stop_reason: str | None
    #: The call the engine answered, whose run state this is (made when first read).
    call: AgentCall

    @property
    def run_state(self) -> RunState:
        state = self.call.run_state
        assert state is not None  # a call the engine answered has its declaration
        return state

    def to_json(self) -> dict[str, Any]:
        """The run without its state (which `run_state.to_json()` gives)."""
        return {
            "execution_id": self.execution_id,
            "deployment_id": self.deployment_id,
            "context_id": self.context_id,
            "agent_name": self.agent_name,
            "kind": self.kind,
            "status": self.status,
            "stop_reason": self.stop_reason,
        }


class RunLog:
    """Runs by execution id, the newest `size` of each deployment kept. Thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._runs: dict[str, OrderedDict[str, RunRecord]] = {}

    def add(self, record: RunRecord) -> None:
        with self._lock:
            runs = self._runs.setdefault(record.deployment_id, OrderedDict())
            runs[record.execution_id] = record
            while len(runs) > self.size:
                runs.popitem(last=False)

    def ended(self, deployment_id: str, execution_id: str, status: str) -> None:
        """A run's outcome changed after it was recorded (a stream the client left)."""
        with self._lock:
            runs = self._runs.get(deployment_id)
            record = runs.get(execution_id) if runs is not None else None
            if runs is not None and record is not None:
                runs[execution_id] = replace(record, status=status)

    def get(self, execution_id: str) -> RunRecord:
        """The run of `execution_id`, in whichever deployment; `NotFound` if none is kept."""
        with self._lock:
            for runs in self._runs.values():
                if execution_id in runs:
                    return runs[execution_id]
        raise NotFound(
            f"No run state for execution {execution_id}: it is not an execution of an agent "
            f"the mock ran (a cancel runs none), or it is older than the newest {self.size} "
            "of its deployment, or its deployment was reset"
        )

    def select(
        self, deployment_id: str | None = None, context_id: str | None = None
    ) -> list[RunRecord]:
        """The runs kept, oldest first, of one deployment and one context if given."""
        with self._lock:
            chosen = (
                [self._runs.get(deployment_id, OrderedDict())]
                if deployment_id is not None
                else list(self._runs.values())
            )
            records = [record for runs in chosen for record in runs.values()]
        if context_id is not None:
            records = [record for record in records if record.context_id == context_id]
        return sorted(records, key=lambda record: (len(record.execution_id), record.execution_id))

    def forget(self, deployment_id: str | None = None) -> None:
        with self._lock:
            if deployment_id is None:
                self._runs.clear()
            else:
                self._runs.pop(deployment_id, None)
