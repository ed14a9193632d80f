"""The cyclic garbage collector in a long-lived process modelport starts (a server, a batch worker).

Once such a process has loaded what it needs (libraries, frameworks, models), that lives as long
as the process: ``freeze_loaded`` moves it out of the collector's sight, so a full pass no longer
walks it (and forked workers do not copy its pages by counting references during one).

Then it raises the young generation's threshold to ``YOUNG_THRESHOLD``. Under load, a server's
requests in flight hold about a thousand young container objects, and Python's default (700) ran a
young pass every few requests that walked them all and freed nothing: 0.2 ms a pass, 2.6 µs a
request on a 100-tree forest at 64 connections, and half as much again for a server that logs its
predictions (``BENCHMARKS.md``, session 7). Work frees what it allocates by reference counting; the
threshold only bounds how much cyclic garbage may wait. A user's own higher threshold, or a
disabled collector, stays as it is.
"""

from __future__ import annotations

import gc

#: net allocations of container objects between two young-generation passes (Python's default: 700)
YOUNG_THRESHOLD = 50_000


def freeze_loaded() -> None:
    """Collect once, freeze what is left, and raise the young threshold (see the module's text)."""
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    if 0 < young < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, middle, old)
