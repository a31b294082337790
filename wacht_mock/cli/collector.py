"""How `serve` keeps the garbage collector's passes short in a long-running mock.

CPython's collector moves what survives a young pass to an older generation, and looks at it
again in each pass of that generation. Under load most survivors are the journal's and the
call logs' entries: the rings drop them again a few thousand requests later, and reference
counting frees them, not the collector. Meanwhile they fill the older generations: a pass of
the middle one took 5 to 9 ms, one of the oldest 20 to 60 ms (everything since it last ran),
every connection stalled meanwhile. And since what the rings free counts against what is new,
a young pass came only every few hundred requests, with thousands of objects to look at.

`CollectorPacing` moves what survives every pass out of the collector's sight (`gc.freeze`),
so each object is looked at once, by the young pass after it was made, and young passes come
every `YOUNG` new objects (a seventh of CPython's default), each short. Frozen objects are
still freed by reference counting; only garbage in reference cycles among them waits for a
pass over everything. Once the frozen objects are a quarter more than after the last such
pass, one is due: it runs in the first second without a request (`tick`), when it stalls
nobody. Under a load that never pauses, it runs anyway once they have doubled (as counted
every half minute): memory stays bounded either way.
"""

from __future__ import annotations

import gc
from typing import Any

#: New objects (net of those freed) between young passes; CPython's default is 700.
YOUNG = 100


class CollectorPacing:
    """Every pass's survivors frozen; passes over everything as the frozen objects grow: by
    `growth`, in a quiet second; by `limit`, under a load that never pauses (counted every
    `look_every` ticks)."""

    def __init__(self, growth: float = 1.25, limit: float = 2.0, look_every: int = 30) -> None:
        if growth <= 1:
            raise ValueError(f"growth must be more than 1, got {growth}")
        if limit < growth:
            raise ValueError(f"limit must be at least growth ({growth}), got {limit}")
        if look_every < 1:
            raise ValueError(f"look_every must be at least 1 (tick), got {look_every}")
        self.growth, self.limit, self.look_every = growth, limit, look_every
        self._whole = max(gc.get_freeze_count(), 1)  # frozen after the last whole pass
        self._frozen = self._whole  # frozen when last counted
        self._whole_pass_next = False  # set while a whole pass is on its way
        self._passes = 0  # passes seen, to know whether anything new was frozen
        self._counted_at = 0  # passes seen when the frozen objects were last counted
        self._busy = 0  # ticks in a row that saw requests
        self._seen: int | None = None
        self._thresholds = gc.get_threshold()

    def install(self) -> CollectorPacing:
        """Pace the collector from now on (once per process: `serve` does it at start)."""
        if self._after not in gc.callbacks:
            self._thresholds = gc.get_threshold()
            gc.set_threshold(YOUNG, *self._thresholds[1:])
            gc.callbacks.append(self._after)
        return self

    def uninstall(self) -> None:
        """Stop pacing; the thresholds are as they were, what is frozen is given back."""
        if self._after in gc.callbacks:
            gc.callbacks.remove(self._after)
            gc.set_threshold(*self._thresholds)
        gc.unfreeze()

    def tick(self, served: int) -> bool:
        """Call about once a second with how many requests were served so far: a whole pass
        that is due runs now if none came since the last call, or past the limit. Whether it
        ran.

        Counting the frozen objects walks them all (milliseconds, every connection stalled
        meanwhile), so they are counted in a quiet second, and under a load that never pauses
        every `look_every` ticks only.
        """
        quiet, self._seen = served == self._seen, served
        self._busy = 0 if quiet else self._busy + 1
        if self._passes != self._counted_at:  # something was frozen since the last count
            if not quiet and self._busy % self.look_every:
                return False
            self._frozen, self._counted_at = gc.get_freeze_count(), self._passes
        if self._frozen <= self._whole * (self.growth if quiet else self.limit):
            return False
        self._whole_pass_next = True
        gc.unfreeze()
        gc.collect()
        if self._whole_pass_next:  # no pass ran: one was under way (another thread's)
            self._whole_pass_next = False
            gc.freeze()
            return False  # the next tick tries again
        return True

    def _after(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop":
            return
        self._passes += 1
        if self._whole_pass_next:
            if info["generation"] == 2:  # the whole pass: its survivors are the heap
                gc.freeze()
                self._whole_pass_next = False
                self._whole = self._frozen = max(gc.get_freeze_count(), 1)
                self._counted_at = self._passes
            return  # a young pass just before it leaves the heap unfrozen for it
        gc.freeze()  # what survived this pass, young or old: out of the next ones' sight
