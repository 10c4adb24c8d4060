"""The deadline sweep over many open events: bulk-loads N dispatched events into the demo city
(COPY on PostgreSQL, batched inserts on SQLite) with a mix of deadlines — overdue, near (in
the yellow part of their time), far — all green as dispatch left them, then times
`shiyu.events.jobs.sweep` twice: the first run turns the overdue ones red, opens and announces
their supervision and turns the near ones yellow; the second, idempotent run changes nothing
and shows the cost of scanning alone.

    python -m bench.bench_sweep --postgres URL              # 1,000,000 events (issue 3)
    python -m bench.bench_sweep --rows 100000               # SQLite, a temporary database

Target (issue 3): a sweep over 1,000,000 open events on PostgreSQL in under 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Table, insert, select, text
from sqlalchemy.orm import Session

from shiyu.config import Settings
from shiyu.db import Database

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = PROJECT_ROOT / "var" / "bench" / "sweep.json"
TARGET_SECONDS = 30.0
#: 5 working days, about a week: the default finish limit
SPAN = timedelta(days=7)
YELLOW_AT = 0.8
STATUSES = (("dispatched", 3), ("signed", 2), ("handling", 5))
CHUNK = 10_000


def log(message: str) -> None:
    print(f"[bench sweep] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Mix:
    """Shares of the events past their deadline and in the yellow part of their time."""

    overdue: float = 0.05
    near: float = 0.10


@dataclass(frozen=True)
class Place:
    grid_code: str
    grid_path: str
    owner_code: str
    owner_path: str
    department_id: int


def places(session: Session) -> list[Place]:
    """Every grid with its community (the owner) and a department serving it (the lead)."""
    from shiyu.auth.models import Department
    from shiyu.jurisdiction.models import Jurisdiction

    parent = Jurisdiction.__table__.alias("parent")
    grids = session.execute(
        select(Jurisdiction.code, Jurisdiction.path, parent.c.code, parent.c.path)
        .join(parent, parent.c.code == Jurisdiction.parent_code)
        .where(Jurisdiction.level == "grid")
        .order_by(Jurisdiction.code)
    ).all()
    deps = session.execute(
        select(Department.id, Department.area_path).order_by(Department.id)
    ).all()
    found = []
    for code, path, owner, owner_path in grids:
        serving = [(len(area), -dep_id, dep_id) for dep_id, area in deps if path.startswith(area)]
        if serving:
            found.append(Place(code, path, owner, owner_path, max(serving)[2]))
    if not found:
        raise RuntimeError("no grid with a department serving it: build the demo city first")
    return found


def _table() -> Table:
    from shiyu.events.models import Event

    table: Table = Event.__table__  # type: ignore[assignment]
    return table


def _default(column: Column[Any]) -> Any:
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        return default.arg  # type: ignore[attr-defined]
    if default.is_callable:
        return default.arg(None)  # type: ignore[attr-defined]
    return None


def event_rows(
    n: int, spots: list[Place], *, now: datetime, mix: Mix, seed: int, planned: Counter[str]
) -> Iterator[dict[str, Any]]:
    """`n` open, dispatched, green events; `planned` counts the overdue and near ones."""
    rng = random.Random(seed)
    statuses = [s for s, w in STATUSES for _ in range(w)]
    for i in range(n):
        draw = rng.random()
        if draw < mix.overdue:
            kind = "overdue"
            dispatched = now - SPAN - timedelta(minutes=rng.uniform(1, 30 * 24 * 60))
        elif draw < mix.overdue + mix.near:
            kind = "near"
            dispatched = now - SPAN * rng.uniform(YELLOW_AT + 0.01, 0.99)
        else:
            kind = "far"
            dispatched = now - SPAN * rng.uniform(0.0, YELLOW_AT - 0.01)
        planned[kind] += 1
        spot = spots[i % len(spots)]
        reported = dispatched - timedelta(minutes=rng.uniform(10, 180))
        yield {
            "code": f"SB{seed % 1000:03d}{i:010d}",
            "channel": "grid_patrol",
            "title": f"压测事件{i}",
            "grid_code": spot.grid_code,
            "scope_path": spot.grid_path,
            "owner_code": spot.owner_code,
            "owner_path": spot.owner_path,
            "lead_department_id": spot.department_id,
            "status": statuses[i % len(statuses)],
            "light": "green",
            "reported_at": reported,
            "accepted_at": reported,
            "dispatched_at": dispatched,
            "sign_deadline": dispatched + timedelta(hours=2),
            "finish_deadline": dispatched + SPAN,
            "yellow_at": dispatched + SPAN * YELLOW_AT,
            "updated_at": dispatched,
        }


def insert_events(session: Session, rows: Iterator[dict[str, Any]]) -> int:
    """COPY on PostgreSQL; batched executemany elsewhere. Columns not given get the model's
    defaults. Returns the number of rows."""
    table = _table()
    columns = [c for c in table.columns if c.name != "id"]
    defaults = {c.name: _default(c) for c in columns}
    count = 0
    if session.get_bind().dialect.name == "postgresql":
        raw = session.connection().connection.driver_connection
        names = ", ".join(c.name for c in columns)
        with raw.cursor() as cur, cur.copy(f"COPY events ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(tuple(row.get(c.name, defaults[c.name]) for c in columns))
                count += 1
        return count
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append({**defaults, **row})
        if len(batch) == CHUNK:
            session.execute(insert(table), batch)
            count, batch = count + len(batch), []
    if batch:
        session.execute(insert(table), batch)
        count += len(batch)
    return count


def _report(result: Any) -> dict[str, Any]:
    fields = asdict(result)
    fields["seconds"] = round(fields["seconds"], 3)
    fields["notified"] = len(result.notified)
    return fields


def measure(
    db: Database,
    settings: Settings,
    *,
    rows: int,
    mix: Mix = Mix(),
    seed: int = 2026,
    now: datetime | None = None,
    analyze: bool = True,
) -> dict[str, Any]:
    """Load `rows` events, then sweep twice; timings and counts."""
    from shiyu.events import jobs
    from shiyu.kit.clock import utcnow

    now = now or utcnow()
    planned: Counter[str] = Counter()
    with db.transaction() as session:
        spots = places(session)
        started = time.perf_counter()
        loaded = insert_events(
            session, event_rows(rows, spots, now=now, mix=mix, seed=seed, planned=planned)
        )
    load_seconds = time.perf_counter() - started
    analyze_seconds = 0.0
    if analyze and db.url.startswith("postgresql"):
        # a production table has statistics; a freshly loaded one has none yet
        started = time.perf_counter()
        with db.transaction() as session:
            session.execute(text("ANALYZE events"))
        analyze_seconds = time.perf_counter() - started
    with db.transaction(write=False) as session:
        open_events = session.scalar(
            text("SELECT count(*) FROM events WHERE status IN ('dispatched','signed','handling')")
        )
    first = jobs.sweep(db, settings, now=now)
    second = jobs.sweep(db, settings, now=now)
    return {
        "rows_loaded": loaded,
        "planned": dict(planned),
        "open_events": open_events,
        "load_seconds": round(load_seconds, 2),
        "analyze_seconds": round(analyze_seconds, 2),
        "first_sweep": _report(first),
        "second_sweep": _report(second),
        "target_seconds": TARGET_SECONDS,
        "met": max(first.seconds, second.seconds) < TARGET_SECONDS,
    }


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from bench.server import build_demo
    from shiyu.models import load_all

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    url = args.postgres or f"sqlite:///{tmp / 'sweep.db'}"
    env = dict(os.environ)
    # the city, its departments and accounts; no simulated life (the bench brings its own)
    env.update(SHIYU_DATABASE_URL=url, SHIYU_DEMO_DAYS="0")
    env.setdefault("SHIYU_LOG_LEVEL", "WARNING")
    log(f"building the demo city ({'postgresql' if args.postgres else 'sqlite'}) ...")
    built = build_demo(env)
    load_all()
    settings = Settings(database_url=url, demo_days=0)
    db = Database(settings)
    try:
        log(f"loading {args.rows:,} open events and sweeping twice ...")
        result = measure(
            db, settings, rows=args.rows, mix=Mix(args.overdue, args.near), seed=args.seed
        )
    finally:
        db.dispose()
    log(
        f"  loaded in {result['load_seconds']} s; first sweep "
        f"{result['first_sweep']['seconds']} s, second {result['second_sweep']['seconds']} s"
    )
    return {
        "benchmark": "deadline sweep over open events",
        "database": "postgresql" if args.postgres else "sqlite",
        "demo_build_seconds": round(built, 1),
        "load_average_at_start": load_at_start,
        "settings": {"rows": args.rows, "overdue": args.overdue, "near": args.near},
        **result,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.bench_sweep", description=__doc__)
    p.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database to fill")
    p.add_argument("--rows", type=int, help="open events (default 1,000,000; 100,000 on SQLite)")
    p.add_argument("--overdue", type=float, default=Mix.overdue, help="share past deadline")
    p.add_argument("--near", type=float, default=Mix.near, help="share in the yellow time")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = p.parse_args(argv)
    if args.rows is None:
        args.rows = 1_000_000 if args.postgres else 100_000
    if args.rows < 1 or not 0 <= args.overdue + args.near <= 1:
        p.error("--rows must be positive and --overdue + --near at most 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="shiyu-bench-sweep-"))
    try:
        report = run(args, tmp)
    except RuntimeError as exc:
        log(f"FAILED: {exc}")
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = json.dumps(report, ensure_ascii=False, indent=2)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(out + "\n", encoding="utf-8")
    sys.stdout.write(out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
