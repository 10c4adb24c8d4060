"""`python -m bench.bench_search [--events 50000] [--postgres URL]`: Chinese full-text search and
work-list queries on a generated database, timed in-process (SQL + ORM, no HTTP).

Builds a temporary migrated database (SQLite file, or a new database on the PostgreSQL server
given), inserts N events with jieba tokens (through the FTS5 triggers on SQLite), then times the
first page of searches and filtered lists for a city-wide and a street-level actor, the count,
a second page by cursor, and an Excel export. Prints one JSON object."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from shiyu.auth.access import Actor, system_actor
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.events import export, repository, search
from shiyu.events.models import Event, EventSearch
from shiyu.jurisdiction import service as jurisdictions
from shiyu.migrate import upgrade
from shiyu.models import load_all

CITY = "420100000000"
PLACES = ["解放路", "和平路", "中山大道", "江汉路", "幸福小区", "光谷广场", "沿江大道", "建设大道"]
THINGS = ["井盖", "路灯", "垃圾", "护栏", "广告牌", "行道树", "下水道", "公交站亭", "消防栓"]
PROBLEMS = ["缺失", "破损", "不亮", "堆积", "倾倒", "占道", "异味", "堵塞", "松动"]
FILLER = ["行人易跌落", "夜间影响通行", "居民多次反映", "请尽快处理", "存在安全隐患", "影响市容"]


def _features() -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """One city, 2 districts × 2 streets × 2 communities × 2 grids (grid code, street code)."""

    def feat(code: str, level: str, parent: str | None, geometry: Any = None) -> dict[str, Any]:
        props = {"code": code, "name": code, "level": level, "parent_code": parent}
        return {"type": "Feature", "properties": props, "geometry": geometry}

    features = [feat(CITY, "city", None)]
    grids: list[tuple[str, str]] = []
    col = 0
    for d in range(2):
        dcode = f"4201{d + 2:02d}000000"
        features.append(feat(dcode, "district", CITY))
        for s in range(2):
            scode = f"{dcode[:6]}{s + 1:03d}000"
            features.append(feat(scode, "street", dcode))
            for c in range(2):
                ccode = f"{scode[:9]}{c + 1:03d}"
                features.append(feat(ccode, "community", scode))
                for g in range(2):
                    lng, lat = 114.0 + col * 0.01, 30.0
                    ring = [[lng, lat], [lng + 0.01, lat], [lng + 0.01, lat + 0.01]]
                    ring += [[lng, lat + 0.01], [lng, lat]]
                    gcode = f"{ccode}{g + 1:03d}"
                    features.append(
                        feat(gcode, "grid", ccode, {"type": "Polygon", "coordinates": [ring]})
                    )
                    grids.append((gcode, scode))
                    col += 1
    return features, grids


def _database(pg_url: str | None) -> tuple[str, Callable[[], None]]:
    if pg_url:
        name = f"shiyu_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        return url, drop
    folder = Path(tempfile.mkdtemp(prefix="shiyu-bench-search-"))
    return f"sqlite:///{folder / 'bench.db'}", lambda: None


def _populate(db: Database, n: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    features, grids = _features()
    with db.transaction() as session:
        jurisdictions.import_features(session, system_actor(), features, source_fingerprint="b")
    with db.transaction() as session:
        units = {code: jurisdictions.get_unit(session, code) for pair in grids for code in pair}
        paths = {code: unit.path for code, unit in units.items() if unit is not None}
    start = datetime(2026, 1, 1, tzinfo=UTC)
    tokenise = insert_s = 0.0
    batch: list[dict[str, Any]] = []
    documents: list[str] = []
    for i in range(n):
        grid, street = grids[i % len(grids)]
        place, thing = rng.choice(PLACES), rng.choice(THINGS)
        title = f"{place}{thing}{rng.choice(PROBLEMS)}"
        description = f"{place}{rng.randint(1, 300)}号附近{thing}{rng.choice(PROBLEMS)}，"
        description += "，".join(rng.sample(FILLER, 2))
        address = f"{place}{rng.randint(1, 300)}号"
        t = time.perf_counter()
        tokens = search.document_text(title, description, address)
        tokenise += time.perf_counter() - t
        batch.append(
            {
                "code": f"SY{i:012d}",
                "channel": rng.choice(["grid_patrol", "resident", "hotline_12345"]),
                "title": title,
                "description": description,
                "address": address,
                "urgency": rng.choice(["normal"] * 8 + ["urgent", "emergency"]),
                "grid_code": grid,
                "scope_path": paths[grid],
                "owner_code": street,
                "owner_path": paths[street],
                "status": rng.choice(["reported", "accepted", "dispatched", "closed"]),
                "light": "none",
                "reported_at": start + timedelta(minutes=rng.randint(0, 525_600)),
                "updated_at": start,
            }
        )
        documents.append(tokens)
        if len(batch) == 2000 or i == n - 1:
            t = time.perf_counter()
            with db.transaction() as session:
                ids = session.scalars(
                    insert(Event).returning(Event.id, sort_by_parameter_order=True), batch
                ).all()
                session.execute(
                    insert(EventSearch),
                    [{"event_id": i, "document": d} for i, d in zip(ids, documents, strict=True)],
                )
            insert_s += time.perf_counter() - t
            batch, documents = [], []
    with db.transaction() as session:
        if db.is_sqlite:
            session.execute(text("ANALYZE"))
        else:
            session.connection().exec_driver_sql("ANALYZE events")
    return {"tokenise_ms_per_event": round(tokenise / n * 1000, 3), "insert_s": round(insert_s, 1)}


def _time(fn: Callable[[], object], runs: int = 7) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return round(statistics.median(samples) * 1000, 2)


def _measure(db: Database, settings: Settings, actor: Actor) -> dict[str, Any]:
    cases = {
        "q=井盖 (about 1/9 of events)": repository.ListFilter(q="井盖"),
        "q=解放路 井盖 缺失 (AND, about 1/650)": repository.ListFilter(q="解放路 井盖 缺失"),
        "q=不存在的词": repository.ListFilter(q="地铁"),
        "q=灯 (one character: a prefix term, about 1/9)": repository.ListFilter(q="灯"),
        "q=井盖 + status + urgency": repository.ListFilter(
            q="井盖", status=["dispatched"], urgency="urgent"
        ),
        "no q, status=reported": repository.ListFilter(status=["reported"]),
    }
    out: dict[str, Any] = {}
    with db.session(write=False) as session:
        stmt = repository.readable_by(actor)
        now = datetime.now(UTC)
        for label, flt in cases.items():
            for sort in (repository.ListSort.reported_at, repository.ListSort.finish_deadline):
                rows, cursor = repository.page(
                    session, stmt, flt, now=now, sort=sort, cursor=None, size=50
                )
                first = _time(
                    lambda flt=flt, sort=sort: repository.page(
                        session, stmt, flt, now=now, sort=sort, cursor=None, size=50
                    )
                )
                second = (
                    _time(
                        lambda flt=flt, sort=sort, cursor=cursor: repository.page(
                            session, stmt, flt, now=now, sort=sort, cursor=cursor, size=50
                        )
                    )
                    if cursor
                    else None
                )
                out[f"{label} | sort={sort.value}"] = {
                    "page1_ms": first,
                    "page2_ms": second,
                    "rows": len(rows),
                }
            out[f"{label} | count"] = {
                "count_ms": _time(lambda flt=flt: repository.count(session, stmt, flt, now=now)),
                "total": repository.count(session, stmt, flt, now=now),
            }
        flt = repository.ListFilter(q="井盖")
        total = repository.count(session, stmt, flt, now=now)
        t = time.perf_counter()
        export.write_xlsx(
            session, settings, actor, flt, sort=repository.ListSort.reported_at
        ).close()
        out["export q=井盖"] = {"rows": total, "seconds": round(time.perf_counter() - t, 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    load_all()
    url, drop = _database(args.postgres)
    try:
        upgrade(url)
        settings = Settings(database_url=url, environment="test", secret_key="bench-" + "x" * 40)
        db = Database(settings)
        report: dict[str, Any] = {"database": db.engine.dialect.name, "events": args.events}
        report["populate"] = _populate(db, args.events, args.seed)
        city = system_actor()
        with db.session(write=False) as session:
            unit = jurisdictions.get_unit(session, "420102001000")
            assert unit is not None
        street = replace(city, jurisdiction_code=unit.code, scope_path=unit.path, level="street")
        report["city_actor"] = _measure(db, settings, city)
        report["street_actor"] = _measure(db, settings, street)
        db.dispose()
        json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
        print()
    finally:
        drop()


if __name__ == "__main__":
    main()
