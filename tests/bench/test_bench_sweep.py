"""The sweep benchmark, small: it loads what it says and the sweep finds exactly that — the
overdue events turn red and get one supervision each, the near ones turn yellow, and a second
run changes nothing."""

from __future__ import annotations

from bench import bench_sweep
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.kit.clock import utcnow
from tests.factories.world import World


def test_counts_and_idempotence(db: Database, settings: Settings, world: World) -> None:
    result = bench_sweep.measure(db, settings, rows=2000, now=utcnow(), analyze=False)

    planned, first, second = result["planned"], result["first_sweep"], result["second_sweep"]
    assert result["rows_loaded"] == 2000
    assert sum(planned.values()) == 2000
    # the world's own two events were dispatched just now: green, untouched
    assert result["open_events"] == 2002
    assert first["ran"] and second["ran"]
    assert first["turned_red"] == planned["overdue"] > 50
    assert first["turned_yellow"] == planned["near"] > 100
    assert first["turned_green"] == 0
    assert first["supervisions"] == planned["overdue"]
    assert first["escalations"] == first["resolved"] == 0
    for key in ("turned_red", "turned_yellow", "turned_green", "supervisions", "escalations"):
        assert second[key] == 0, key
