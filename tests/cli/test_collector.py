"""`serve`'s pacing of the garbage collector, in a process of its own (it changes the
collector's state for the whole process, as `serve` does for its own)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from wacht_mock.cli.collector import CollectorPacing

SCRIPT = """
import gc, json, weakref
from wacht_mock.cli.collector import YOUNG, CollectorPacing

class Node:
    pass

gc.collect()
gc.freeze()  # what serve has loaded at its start
before = gc.get_threshold()
pacing = CollectorPacing(look_every=2).install()
start = gc.get_freeze_count()
seen = {"young_passes_come_sooner": gc.get_threshold() == (YOUNG, *before[1:])}

held = [{"n": [i]} for i in range(start // 20)]  # what the mock comes to hold: +10%
gc.collect(0)
seen["frozen_after_a_young_pass"] = gc.get_freeze_count() - start >= 2 * len(held)
seen["held_still_visible"] = any(o is held[0] for o in gc.get_objects())
pacing.tick(served=0)
seen["nothing_due_at_a_tenth_more"] = pacing.tick(served=0) is False  # quiet: counted

node = Node()
node.me = node  # a cycle, alive when a pass freezes it
gone = weakref.ref(node)
gc.collect(0)
del node  # garbage now, in a cycle among frozen objects: it waits
gc.collect()
seen["cycle_waits"] = gone() is not None

more = [{"n": [i]} for i in range(gc.get_freeze_count() // 4)]  # frozen: +50%
gc.collect(0)  # grown by more than a quarter: a whole pass is due
seen["busy_second"] = pacing.tick(served=1)  # busy: counted every other tick, not now
seen["another_busy_second"] = pacing.tick(served=2)  # counted: past growth, not the limit
seen["cycle_waits_while_busy"] = gone() is not None
seen["quiet_second"] = pacing.tick(served=2)  # no request since: the whole pass runs now
seen["cycle_freed"] = gone() is None
seen["frozen_again"] = gc.get_freeze_count() >= len(held) + len(more)
seen["nothing_due_after"] = pacing.tick(served=2) is False

most = [{"n": [i]} for i in range(gc.get_freeze_count())]  # doubled, and never a quiet second
gc.collect(0)
node = Node()
node.me = node
gone = weakref.ref(node)
gc.collect(0)
del node
seen["not_counted_yet"] = pacing.tick(served=3)  # busy: counted every other second
seen["whole_pass_at_the_limit"] = pacing.tick(served=4)
seen["cycle_freed_at_the_limit"] = gone() is None

grown = [{"n": [i]} for i in range(gc.get_freeze_count() // 2)]  # +50%: due when quiet
gc.collect(0)
ticked = []
def during_a_pass(phase, info):  # serve's tick, while the event loop's thread runs a pass
    if phase == "start" and not ticked:
        ticked.append(pacing.tick(served=4))
gc.callbacks.insert(0, during_a_pass)
gc.collect(0)
gc.callbacks.remove(during_a_pass)
seen["no_whole_pass_during_another"] = ticked == [False]
seen["frozen_after_it"] = not any(o is grown[0] for o in gc.get_objects())
seen["whole_pass_at_the_next_quiet_second"] = pacing.tick(served=4)
pacing.uninstall()
seen["uninstalled"] = (
    gc.get_freeze_count() == 0
    and pacing._after not in gc.callbacks
    and gc.get_threshold() == before
)
print(json.dumps(seen))
"""


def test_whole_passes_wait_for_a_quiet_second_or_a_doubled_heap() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen == {
        "young_passes_come_sooner": True,
        "frozen_after_a_young_pass": True,
        "held_still_visible": False,
        "nothing_due_at_a_tenth_more": True,
        "cycle_waits": True,
        "busy_second": False,
        "another_busy_second": False,
        "cycle_waits_while_busy": True,
        "quiet_second": True,
        "cycle_freed": True,
        "frozen_again": True,
        "nothing_due_after": True,
        "not_counted_yet": False,
        "whole_pass_at_the_limit": True,
        "cycle_freed_at_the_limit": True,
        "no_whole_pass_during_another": True,
        "frozen_after_it": True,
        "whole_pass_at_the_next_quiet_second": True,
        "uninstalled": True,
    }


def test_a_growth_of_one_or_less_a_limit_below_it_or_no_count_is_refused() -> None:
    with pytest.raises(ValueError, match="growth must be more than 1"):
        CollectorPacing(growth=1.0)
    with pytest.raises(ValueError, match="limit must be at least growth"):
        CollectorPacing(growth=1.5, limit=1.2)
    with pytest.raises(ValueError, match="look_every must be at least 1"):
        CollectorPacing(look_every=0)


SIGNAL_IN_A_PASS = """
import gc, os, signal, time
from wacht_mock.cli.serve import stop_on_signals

def default():
    try:
        return stopped()
    except KeyboardInterrupt:
        return "interrupt escaped"

def stopped():
    def during_a_pass(phase, info):  # Ctrl-C arrives while a collector callback runs
        if phase == "stop":
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
            sum(range(1000))  # the handler runs here, inside the callback
    gc.callbacks.append(during_a_pass)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(during_a_pass)
    return "went on"

print(default())  # Python's own handler: the KeyboardInterrupt is lost in the callback
stopping = stop_on_signals()
print(stopped(), stopping.is_set())
"""


def test_ctrl_c_during_a_collector_pass_still_stops_serve() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_IN_A_PASS],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Python's own handler raised the KeyboardInterrupt inside the callback, where it was
    # lost (reported on stderr, or not at all); serve's handler sets its stop event.
    assert done.stdout.splitlines() == ["went on", "went on True"]
