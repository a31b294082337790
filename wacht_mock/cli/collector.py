"""How `serve` keeps the garbage collector's full passes short in a long-running mock.

CPython starts a full collection once the objects promoted to its oldest generation since the
last full pass exceed a quarter of those that pass kept. Under load most promoted objects are
the journal's and the call logs' entries: the rings drop them again a few thousand requests
later, and reference counting frees them, not the collector. They set off full passes over
everything the mock holds (tens of thousands of contexts, 50 to 150 ms each, every
connection stalled meanwhile) at a pace its memory does not grow at.

`CollectorPacing` moves what survives each full pass out of the collector's sight
(`gc.freeze`), so the next pass looks only at what came since. Frozen objects are still freed
by reference counting; only garbage in reference cycles among them waits. Once the frozen
objects are a quarter more than after the last pass that looked at everything, they are given
back (`gc.unfreeze`) and the next full pass looks at everything again: CPython's own rule,
paced by what the mock holds rather than by what comes and goes.
"""

from __future__ import annotations

import gc
from typing import Any


class CollectorPacing:
    """Full passes over everything only as the frozen objects grow by `growth`."""

    def __init__(self, growth: float = 1.25) -> None:
        if growth <= 1:
            raise ValueError(f"growth must be more than 1, got {growth}")
        self.growth = growth
        self._whole = max(gc.get_freeze_count(), 1)  # frozen after the last whole pass
        self._whole_pass_next = False

    def install(self) -> CollectorPacing:
        """Pace the collector from now on (once per process: `serve` does it at start)."""
        if self._after not in gc.callbacks:
            gc.callbacks.append(self._after)
        return self

    def uninstall(self) -> None:
        """Stop pacing; what is frozen is given back."""
        if self._after in gc.callbacks:
            gc.callbacks.remove(self._after)
        gc.unfreeze()

    def _after(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info["generation"] != 2:
            return
        gc.freeze()  # what survived this pass: out of the next one's sight
        frozen = gc.get_freeze_count()
        if self._whole_pass_next:  # this pass looked at everything: its survivors are the heap
            self._whole_pass_next = False
            self._whole = max(frozen, 1)
        elif frozen > self._whole * self.growth:
            gc.unfreeze()  # the next full pass looks at everything (and frees cycles among it)
            self._whole_pass_next = True
