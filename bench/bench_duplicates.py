"""`python -m bench.bench_duplicates [--events 1000000] [--probes 400] [--postgres URL]`:
duplicate-candidate search latency at intake with N open events, in-process (no HTTP).

1. builds a temporary migrated database (SQLite file, or a new database on the PostgreSQL
   server given) and bulk-loads N open events with their signatures (16 band keys each, one
   row of `duplicate_signatures`; its time index is created after the load), reported 2 to
   90 days ago. The background events' keys are random 64-bit values: distinct texts give
   distinct keys, and computing 1,000,000 MinHash signatures in Python would take minutes
   without changing what a search meets. The process's band index loads those reported
   within its reach (`shiyu.duplicates.band_index`) at the first search;
2. adds 2,000 events with real text through the real intake hook
   (`duplicates.service.flag_new_event`), reported within the last 48 hours;
3. times `flag_new_event` — the whole added cost of duplicate search on the intake path:
   normalising, MinHash and band keys, the look-up, scoring the hits, storing the keys and
   the suggestions — for new events that re-post one of those 2,000 (near-duplicates, found)
   and for new unrelated ones, each in its own transaction, rolled back.

Prints one JSON object (latencies in milliseconds)."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text

from bench import bench_search
from bench.bench_search import FILLER, PLACES, PROBLEMS, THINGS, _features
from shiyu.auth.access import system_actor
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.duplicates import service
from shiyu.duplicates.band_index import pack
from shiyu.duplicates.models import DuplicateSignature
from shiyu.events.models import Event
from shiyu.jurisdiction import service as jurisdictions
from shiyu.migrate import upgrade
from shiyu.models import load_all

PLANTED = 2_000
CHUNK = 50_000
#: SQLAlchemy's storage format for DateTime on SQLite (compared as text)
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def _database(pg_url: str | None) -> tuple[str, Callable[[], None]]:
    """bench_search's temporary PostgreSQL database, or a SQLite file in a folder of our own
    that is deleted afterwards (the 1,000,000-event file takes gigabytes)."""
    if pg_url:
        return bench_search._database(pg_url)
    folder = Path(tempfile.mkdtemp(prefix="shiyu-bench-duplicates-"))

    def remove() -> None:
        shutil.rmtree(folder, ignore_errors=True)

    return f"sqlite:///{folder / 'bench.db'}", remove


def _log(message: str) -> None:
    print(f"[bench_duplicates] {message}", file=sys.stderr, flush=True)


def _text(rng: random.Random) -> tuple[str, str]:
    place, thing = rng.choice(PLACES), rng.choice(THINGS)
    title = f"{place}{thing}{rng.choice(PROBLEMS)}"
    description = (
        f"{place}{rng.randint(1, 999)}号{rng.choice(['东侧', '西侧', '门口', '对面'])}"
        f"{thing}{rng.choice(PROBLEMS)}已有{rng.randint(2, 30)}天，"
        + "，".join(rng.sample(FILLER, 3))
        + f"，联系人{rng.randint(1000, 9999)}"
    )
    return title, description


def _fmt(db: Database, stamp: datetime) -> Any:
    return stamp.replace(tzinfo=None).strftime(SQLITE_TIME) if db.is_sqlite else stamp


def _event_rows(
    db: Database, n: int, grids: list[tuple[str, str, str, str]], now: datetime, seed: int
) -> Iterator[list[tuple[Any, ...]]]:
    rng = random.Random(seed)
    batch: list[tuple[Any, ...]] = []
    for i in range(1, n + 1):
        grid, grid_path, street, street_path = grids[i % len(grids)]
        title, description = _text(rng)
        reported = now - timedelta(minutes=rng.randint(60 * 48, 90 * 24 * 60))
        batch.append(
            (i, f"SY{i:015d}", "grid_patrol", title, description, "normal", "", grid, grid_path,
             street, street_path, rng.choice(["reported", "accepted", "dispatched"]), "none",
             _fmt(db, reported), _fmt(db, now), "", "", 0, 0, 0, 0, False, 1)
        )  # fmt: skip
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


EVENT_COLUMNS = (
    "id, code, channel, title, description, urgency, address, grid_code, scope_path, owner_code, "
    "owner_path, status, light, reported_at, updated_at, reply, rating_comment, rework_count, "
    "reopen_count, return_count, escalation_count, extended, version"
)

SIGNATURE_COLUMNS = "event_id, reported_at, cell, grid_code, keys"
#: dropped while loading, built after (as `shiyu.duplicates.models.DuplicateSignature` declares)
SIGNATURE_INDEXES = {
    str(index.name): ", ".join(column.name for column in index.columns)
    for index in DuplicateSignature.__table__.indexes
}


def _load(db: Database, n: int, now: datetime, seed: int) -> dict[str, float]:
    """Bulk-load N open events and a signature of 16 random band keys each; the signatures'
    time index comes after."""
    features, pairs = _features()
    with db.transaction() as session:
        jurisdictions.import_features(session, system_actor(), features, source_fingerprint="b")
    with db.transaction() as session:
        grids = []
        for grid, street in pairs:
            g, s = jurisdictions.get_unit(session, grid), jurisdictions.get_unit(session, street)
            assert g is not None and s is not None
            grids.append((grid, g.path, street, s.path))
    nprng = np.random.default_rng(seed)
    marks = ", ".join(["?" if db.is_sqlite else "%s"] * 23)
    started = time.perf_counter()
    raw = db.write_engine.raw_connection()
    try:
        cur = raw.cursor()
        for index in SIGNATURE_INDEXES:
            cur.execute(f"DROP INDEX {index}")
        for rows in _event_rows(db, n, grids, now, seed):
            if db.is_sqlite:
                cur.execute("BEGIN")  # the engine's connections autocommit (we emit BEGIN)
            cur.executemany(f"INSERT INTO events ({EVENT_COLUMNS}) VALUES ({marks})", rows)
            keys = nprng.integers(-(2**63), 2**63 - 1, size=(len(rows), 16), dtype=np.int64)
            signature_rows = [
                # no point (cell 0), the event's grid
                (row[0], row[13], 0, row[7], pack(int(k) for k in ks))
                for row, ks in zip(rows, keys, strict=True)
            ]
            if db.is_sqlite:
                cur.executemany(
                    f"INSERT INTO duplicate_signatures ({SIGNATURE_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?)",
                    signature_rows,
                )
            else:
                with cur.copy(  # type: ignore[attr-defined]
                    f"COPY duplicate_signatures ({SIGNATURE_COLUMNS}) FROM STDIN"
                ) as copy:
                    for signature_row in signature_rows:
                        copy.write_row(signature_row)
            raw.commit()
            if rows[-1][0] % 200_000 == 0:
                _log(f"loaded {rows[-1][0]:,} events")
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        for index, columns in SIGNATURE_INDEXES.items():
            cur.execute(f"CREATE INDEX {index} ON duplicate_signatures ({columns})")
        if not db.is_sqlite:
            cur.execute("SELECT setval('events_id_seq', (SELECT max(id) FROM events))")
        cur.execute("ANALYZE")
        raw.commit()
        index_s = time.perf_counter() - started
    finally:
        raw.close()
    return {"load_s": round(load_s, 1), "index_s": round(index_s, 1)}


def _new_event(session: Any, now: datetime, title: str, description: str, grid: str) -> Event:
    event = Event(
        channel="grid_patrol",
        title=title,
        description=description,
        grid_code=grid,
        scope_path="/",
        owner_code=grid,
        owner_path="/",
        status="reported",
        light="none",
        reported_at=now,
    )
    session.add(event)
    session.flush()
    return event


def _reference_ms(rounds: int = 200) -> float:
    """A fixed CPU workload (MinHash of one 120-character text) timed in the same run: on a
    shared machine, divide the latencies by it to compare runs."""
    from shiyu.duplicates import similarity

    cleaned = similarity.clean("解放路与和平路交叉口东侧人行道井盖缺失" * 6)
    started = time.perf_counter()
    for _ in range(rounds):
        similarity.signature(cleaned)
    return round((time.perf_counter() - started) / rounds * 1000, 4)


def _pcts(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100)
    return {
        "n": len(ordered),
        "p50_ms": round(q[49] * 1000, 2),
        "p95_ms": round(q[94] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def measure(
    db: Database,
    settings: Settings,
    *,
    events: int,
    probes: int,
    seed: int = 11,
    planted_events: int = PLANTED,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    load_all()
    report: dict[str, Any] = {"database": db.engine.dialect.name, "open_events": events}
    report["populate"] = _load(db, events, now, seed)
    rng = random.Random(seed + 1)
    grid = _features()[1][0][0]
    planted: list[tuple[str, str]] = []
    started = time.perf_counter()
    with db.transaction() as session:
        for _ in range(planted_events):
            title, description = _text(rng)
            at = now - timedelta(minutes=rng.randint(1, 48 * 60))
            event = _new_event(session, at, title, description, grid)
            service.flag_new_event(session, settings, event)
            planted.append((title, description))
    report["planted_real_events"] = {
        "n": planted_events,
        "ms_each": round((time.perf_counter() - started) / planted_events * 1000, 2),
    }
    timings: dict[str, list[float]] = {"near_duplicate": [], "unrelated": []}
    cpu: list[float] = []
    report["reference_signature_ms_before"] = _reference_ms()
    found = 0
    for i in range(probes):
        kind = "near_duplicate" if i % 2 == 0 else "unrelated"
        if kind == "near_duplicate":
            title, description = rng.choice(planted)
            description = description + "，再次反映"
        else:
            title, description = _text(rng)
        with db.session() as session:
            event = _new_event(session, now, title, description, grid)
            t, c = time.perf_counter(), time.process_time()
            rows = service.flag_new_event(session, settings, event)
            timings[kind].append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            session.rollback()
        found += kind == "near_duplicate" and bool(rows)
    report["flag_new_event"] = {
        "all": _pcts(timings["near_duplicate"] + timings["unrelated"]),
        "near_duplicate": _pcts(timings["near_duplicate"]),
        "unrelated": _pcts(timings["unrelated"]),
        "near_duplicates_found": f"{found}/{len(timings['near_duplicate'])}",
        # CPU time of this process only: what the call costs without waiting for a busy CPU
        "all_cpu": _pcts(cpu),
    }
    report["reference_signature_ms_after"] = _reference_ms()
    report["load_average"] = [round(x, 2) for x in os.getloadavg()]
    with db.session(write=False) as session:
        report["signature_rows"] = session.scalar(text("SELECT count(*) FROM duplicate_signatures"))
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--probes", type=int, default=400)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    load_all()
    url, drop = _database(args.postgres)
    try:
        upgrade(url)
        settings = Settings(database_url=url, environment="test", secret_key="bench-" + "x" * 40)
        db = Database(settings)
        try:
            report = measure(db, settings, events=args.events, probes=args.probes, seed=args.seed)
        finally:
            db.dispose()
        json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
        print()
    finally:
        drop()


if __name__ == "__main__":
    main()
