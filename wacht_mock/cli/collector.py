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
objects are a quarter more than after the last pass that looked at everything, such a pass is
due: it runs in the first second without a request (`tick`), when it stalls nobody. Under a
load that never pauses, it runs anyway once they have doubled: memory stays bounded either way.
"""

from __future__ import annotations

import gc
from typing import Any


class CollectorPacing:
    """Full passes over everything as the frozen objects grow: by `growth`, in a quiet
    second; by `limit`, at once."""

    def __init__(self, growth: float = 1.25, limit: float = 2.0) -> None:
        if growth <= 1:
            raise ValueError(f"growth must be more than 1, got {growth}")
        if limit < growth:
            raise ValueError(f"limit must be at least growth ({growth}), got {limit}")
        self.growth, self.limit = growth, limit
        self._whole = max(gc.get_freeze_count(), 1)  # frozen after the last whole pass
        self._due = False  # a whole pass waits for a quiet second
        self._whole_pass_next = False
        self._seen: int | None = None

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

    def tick(self, served: int) -> bool:
        """Call about once a second with how many requests were served so far: a whole pass
        that is due runs now if none came since the last call. Whether it ran."""
        quiet, self._seen = served == self._seen, served
        if not (quiet and self._due):
            return False
        self._due, self._whole_pass_next = False, True
        gc.unfreeze()
        gc.collect()
        return True

    def _after(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info["generation"] != 2:
            return
        gc.freeze()  # what survived this pass: out of the next one's sight
        frozen = gc.get_freeze_count()
        if self._whole_pass_next:  # this pass looked at everything: its survivors are the heap
            self._whole_pass_next = self._due = False
            self._whole = max(frozen, 1)
        elif frozen > self._whole * self.limit:  # no quiet second came: the next pass, then
            gc.unfreeze()
            self._whole_pass_next = True
        elif frozen > self._whole * self.growth:
            self._due = True
