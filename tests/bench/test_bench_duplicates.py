"""The duplicate-search benchmark, small: it loads what it says, and every re-posted probe
finds its original through the real intake hook."""

from __future__ import annotations

from bench import bench_duplicates
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.migrate import upgrade
from tests.conftest import make_settings


def test_loads_and_finds_the_reposts() -> None:
    url, drop = bench_duplicates._database(None)
    try:
        upgrade(url)
        settings: Settings = make_settings(url)
        db = Database(settings)
        try:
            report = bench_duplicates.measure(
                db, settings, events=3000, probes=20, planted_events=100
            )
        finally:
            db.dispose()
    finally:
        drop()
    assert report["open_events"] == 3000
    assert report["signature_rows"] == 3000 + 100
    found = report["flag_new_event"]
    assert found["near_duplicates_found"] == "10/10"
    assert found["all"]["n"] == 20
    assert 0 < found["all"]["p50_ms"] <= found["all"]["p99_ms"]
