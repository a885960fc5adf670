"""How the server process runs Python's cyclic garbage collector (docs/http.md, "Garbage
collection").

A started app holds some 600,000 objects that live as long as the process (routes,
dependency trees, pydantic validators, SQLAlchemy's mappers, the features' caches). With
CPython's default thresholds (700, 10, 10) every request's few hundred short-lived
containers trigger young collections, and each full collection walks all of those objects:
measured on this machine during a flash sale, 25 % of the server's time went to the
collector and single pauses reached 300 ms, which was the whole p99 of every route.

:func:`apply`, called once the app has started, collects what start-up left behind,
freezes the survivors (``gc.freeze``: moved to a permanent generation no collection walks
again; refcounting still frees them) and raises the young generation's threshold so that
a collection happens every ``YOUNG`` net allocations instead of 700. Cycles are still
found, only later; what is freed by reference counting (nearly everything a request
makes) is freed at once as before.
"""

from __future__ import annotations

import gc

# Net container allocations between young collections, and how many young (then middle)
# collections between collections of the next generation. Chosen by measurement
# (BENCHMARKS.md, "Garbage collection"): 3,000 and 50,000 were no better.
YOUNG = 10_000
MIDDLE = 20
OLD = 20


def apply() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
