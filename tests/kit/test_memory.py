"""The collector helpers: start-up objects frozen out of its generations, pauses counted."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from shiyu.kit import memory


@pytest.fixture
def automatic_gc_off() -> Iterator[None]:
    """No automatic collection may run between a test's readings."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def test_freeze_startup_moves_live_objects_out_of_the_generations() -> None:
    try:
        frozen = memory.freeze_startup()
        # this process has imported SQLAlchemy, FastAPI, NumPy: far more than a bare interpreter
        assert frozen > 50_000
        assert memory.stats().frozen == frozen
        # frozen objects still die by reference counting (other threads of the test process)
        assert 0.9 * frozen < gc.get_freeze_count() <= frozen
        assert sum(gc.get_count()) < 1_000  # the generations start empty after it
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual


def test_freeze_later_freezes_once_more_in_its_own_thread() -> None:
    assert memory.freeze_later(0) is None  # turned off
    timer = memory.freeze_later(0.01)
    assert timer is not None and timer.daemon
    try:
        timer.join(10)
        assert not timer.is_alive()
        assert memory.stats().frozen > 50_000
        assert gc.get_freeze_count() > 0.9 * memory.stats().frozen
    finally:
        gc.unfreeze()


def test_pauses_are_counted_per_generation_once(automatic_gc_off: None) -> None:
    memory.watch_pauses()
    memory.watch_pauses()  # idempotent: one clock, each collection counted once
    before = memory.stats()
    gc.collect()
    gc.collect(0)
    after = memory.stats()
    assert after.collections[2] - before.collections[2] == 1
    assert after.collections[0] - before.collections[0] == 1
    assert after.collections[1] == before.collections[1]
    assert after.pause_seconds[2] > before.pause_seconds[2]


def test_young_threshold_is_set_and_zero_keeps_it() -> None:
    saved = gc.get_threshold()
    try:
        memory.set_young_threshold(20_000)
        assert gc.get_threshold() == (20_000, *saved[1:])
        assert memory.stats().young_threshold == 20_000
        memory.set_young_threshold(0)  # Python's own: left as it is
        assert gc.get_threshold()[0] == 20_000
    finally:
        gc.set_threshold(*saved)
