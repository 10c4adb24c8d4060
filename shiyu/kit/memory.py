"""The cyclic garbage collector in a long-running process: start-up objects out of its reach,
and its pauses counted for the metrics.

A Shiyu process holds about 250,000 objects once its modules are imported and its app is
built (FastAPI, Pydantic, SQLAlchemy, NumPy, scikit-learn, the routes and models). None of
them is ever garbage, yet every full collection walks all of them: 140-200 ms on the
reference machine, every second or two under load, during which the process answers nothing.
At 50 clients creating events those pauses were the slowest 5 % of the requests. Freezing what
start-up built moves it out of the collector's generations (it is still freed by reference
counting if it is ever dropped), and a full collection then walks what came after.

Serving builds more that lives as long: compiled statements, caches of units, users and
routes, the classifier's model — some 50,000 objects, whose full collections still paused a
process for 16-48 ms under load. `freeze_later` freezes once more when the first traffic has
built them. Garbage caught in a reference cycle at that moment is frozen with the rest and
never collected: a one-time loss of a few requests' worth at most.
"""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass
from typing import Any

GENERATIONS = (0, 1, 2)


@dataclass(frozen=True)
class GcStats:
    """One process's collector: objects `freeze_startup` froze, collections and seconds
    paused per generation since `watch_pauses` was called, and its young generation's
    threshold (`set_young_threshold`)."""

    frozen: int
    collections: tuple[int, ...]
    pause_seconds: tuple[float, ...]
    young_threshold: int = 700


class _PauseClock:
    """Times every collection through `gc.callbacks`. No lock: the collector runs one
    collection at a time, and a lock taken in `stats` could be wanted again by a collection
    that an allocation under it started."""

    def __init__(self) -> None:
        self._started = 0.0
        self.frozen = 0
        self.collections = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info["generation"]
        self.collections[generation] += 1
        self.seconds[generation] += time.perf_counter() - self._started

    def stats(self) -> GcStats:
        return GcStats(
            self.frozen, tuple(self.collections), tuple(self.seconds), gc.get_threshold()[0]
        )


_CLOCK = _PauseClock()


def freeze_startup() -> int:
    """Collect once, then freeze every object alive now; returns how many are frozen (in all,
    with any frozen before). Call it once a process has imported and built what it keeps for
    its lifetime."""
    gc.collect()
    gc.freeze()
    # counted here, once: `gc.get_freeze_count` walks the whole frozen list (~1 ms)
    _CLOCK.frozen = gc.get_freeze_count()
    return _CLOCK.frozen


def freeze_later(seconds: float) -> threading.Timer | None:
    """`freeze_startup` once more, `seconds` from now, in a thread of its own (None: 0 or
    less turns it off). The timer is returned for the tests and for shutting it down."""
    if seconds <= 0:
        return None
    timer = threading.Timer(seconds, freeze_startup)
    timer.name = "gc-freeze-later"
    timer.daemon = True
    timer.start()
    return timer


def set_young_threshold(allocations: int) -> None:
    """Collect the young generation after this many container allocations (net of frees)
    instead of Python's 700 (0 keeps it). Most of a request's objects are freed by reference
    counting before any collection; at 700 a busy process collected many times a second,
    each time moving the objects of the requests in flight to an older generation, and
    collected those generations in turn. Cyclic garbage waits longer: at most this many
    objects of it."""
    if allocations > 0:
        gc.set_threshold(allocations, *gc.get_threshold()[1:])


def watch_pauses() -> None:
    """Count this process's collections and their pauses from now on (idempotent)."""
    if _CLOCK not in gc.callbacks:
        gc.callbacks.append(_CLOCK)


def stats() -> GcStats:
    """This process's collector as `watch_pauses` saw it (zero pauses if it was not called)."""
    return _CLOCK.stats()
