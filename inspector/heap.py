"""The cycle collector, set for a process that allocates on every request.

With the default threshold (a young-generation pass every 700 net allocations) `serve`
spent about 4 % of its time collecting and the TUI about 12 %: each webhook allocates
hundreds of short-lived objects (the parsed body, the flow trace, futures), and every
pass promoted the survivors of the moment to older generations whose passes then walked
them again. Nearly all of them are freed by reference counting anyway.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000  # net allocations between passes over the young generation


def settle() -> None:
    """Collect once, move everything that exists now (code, configuration, widgets, the
    history) out of the collector's view for good (reference counting still frees it), and
    collect the young generation less often from here on."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
