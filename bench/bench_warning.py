"""Early warning: surge detection at city scale and hot-issue clustering on real messages.

1. Surge detection over one year of daily counts for 5,000 grids × 50 categories (250,000
   series × 365 days, synthetic: per-series Poisson rates drawn from a gamma distribution, so
   most series are quiet, plus injected surges). Every day after the 28-day baseline is judged
   (`countmodel.detect_all_days`, chunks of series), and, separately, one day for every series
   (`countmodel.detect`: what the periodic job does).
2. The job's SQL aggregation and roll-up (`warning.service.run_surges`) over an events table
   bulk-loaded into a migrated SQLite (or PostgreSQL) database: a synthetic tree of 5,000 grids
   and `--sql-events` events spread over the 29 days the job reads.
3. Hot issues on /work/shared/data/appeals/hot.csv (4,326 messages): tokenising, then
   clustering and ranking, timed separately.

    python -m bench.bench_warning [--sql-events 200000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = PROJECT_ROOT / "var" / "bench" / "warning.json"
HOT_CSV = PROJECT_ROOT.parent / "shared" / "data" / "appeals" / "hot.csv"
GRIDS, CATEGORIES, DAYS = 5_000, 50, 365
CHUNK = 5_000  # series per chunk: 5,000 × 365 float64 ≈ 15 MB per array
INJECTED = 200


def log(message: str) -> None:
    print(f"[bench warning] {message}", file=sys.stderr, flush=True)


def surge_detection(seed: int) -> dict[str, Any]:
    from shiyu.warning import countmodel

    rule = countmodel.SurgeRule()
    rng = np.random.default_rng(seed)
    series = GRIDS * CATEGORIES
    rates = rng.gamma(0.5, 0.4, size=series)  # mean 0.2 events a day, long right tail
    targets = set(
        zip(
            rng.integers(0, series, INJECTED).tolist(),
            rng.integers(rule.baseline_days, DAYS, INJECTED).tolist(),
            strict=True,
        )
    )
    generate = detect = 0.0
    flagged = hits = candidates = 0
    last_day = np.zeros(series, dtype=np.int64)
    history = np.zeros((series, rule.baseline_days), dtype=np.int64)
    for lo in range(0, series, CHUNK):
        hi = min(series, lo + CHUNK)
        t0 = time.perf_counter()
        counts = rng.poisson(rates[lo:hi, None], size=(hi - lo, DAYS)).astype(np.int64)
        for s, d in targets:
            if lo <= s < hi:
                counts[s - lo, d] += 10
        generate += time.perf_counter() - t0
        t0 = time.perf_counter()
        found = countmodel.detect_all_days(counts, rule)
        detect += time.perf_counter() - t0
        flagged += len(found)
        hits += sum(1 for s, d, _ in found if (s + lo, d) in targets)
        last_day[lo:hi] = counts[:, -1]
        history[lo:hi] = counts[:, -1 - rule.baseline_days : -1]
        # cells passing the first volume rule (baseline days included)
        candidates += int((counts >= rule.min_count).sum())
    t0 = time.perf_counter()
    one_day = countmodel.detect(last_day, history, rule)
    one_day_seconds = time.perf_counter() - t0
    judged = series * (DAYS - rule.baseline_days)
    return {
        "series": series,
        "days": DAYS,
        "series_days_judged": judged,
        "generate_seconds": round(generate, 2),
        "detect_all_days_seconds": round(detect, 2),
        "series_days_per_second": round(judged / detect) if detect else None,
        "cells_with_count_at_least_min_count": candidates,
        "surges_flagged": flagged,
        "injected_surges": len(targets),
        "injected_surges_flagged": hits,
        "one_day_all_series_seconds": round(one_day_seconds, 3),
        "one_day_surges": len(one_day),
        "rule": {
            "baseline_days": rule.baseline_days,
            "alpha": rule.alpha,
            "min_count": rule.min_count,
            "min_ratio": rule.min_ratio,
        },
    }


def _tree(settings: Any, db: Any) -> list[str]:
    """1 city, 10 districts, 100 streets, 1,000 communities, 5,000 grids; grid paths."""
    from sqlalchemy import insert

    from shiyu.jurisdiction.models import Jurisdiction

    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    grids: list[str] = []

    def add(code: str, level: str, parent: str | None, path: str) -> None:
        rows.append(
            {
                "code": code,
                "name": f"{level}{code[-4:]}",
                "level": level,
                "parent_code": parent,
                "path": path,
                "properties": {},
                "created_at": now,
                "updated_at": now,
            }
        )

    city = "990100000000"
    add(city, "city", None, f"/{city}/")
    for d in range(10):
        dc = f"9901{d + 1:02d}000000"
        dp = f"/{city}/{dc}/"
        add(dc, "district", city, dp)
        for s in range(10):
            sc = f"{dc[:6]}{s + 1:03d}000"
            sp = f"{dp}{sc}/"
            add(sc, "street", dc, sp)
            for c in range(10):
                cc = f"{sc[:9]}{c + 1:03d}"
                cp = f"{sp}{cc}/"
                add(cc, "community", sc, cp)
                for g in range(5):
                    gc = f"{cc}{g + 1:03d}"
                    add(gc, "grid", cc, f"{cp}{gc}/")
                    grids.append(f"{cp}{gc}/")
    with db.transaction() as session:
        session.execute(insert(Jurisdiction), rows)
    return grids


def sql_aggregation(url: str, events: int, seed: int) -> dict[str, Any]:
    from sqlalchemy import insert

    from shiyu.config import Settings
    from shiyu.db import Database
    from shiyu.events.models import Event
    from shiyu.migrate import upgrade
    from shiyu.models import load_all
    from shiyu.warning import repository, service

    load_all()
    upgrade(url)
    settings = Settings(database_url=url)
    db = Database(settings)
    try:
        grids = _tree(settings, db)
        city = grids[0].split("/")[1]
        rng = np.random.default_rng(seed)
        day = date(2025, 3, 29)
        start = service.local_midnight(day - timedelta(days=28))
        span = (service.local_midnight(day + timedelta(days=1)) - start).total_seconds()
        cats = [f"SJ0{k}0{j}" for k in range(1, 6) for j in range(1, 4)]
        # a few busy grids (Zipf-like) as in a real city
        weights = 1.0 / np.arange(1, len(grids) + 1) ** 0.8
        weights /= weights.sum()
        t0 = time.perf_counter()
        for lo in range(0, events, 20_000):
            n = min(20_000, events - lo)
            paths = rng.choice(len(grids), size=n, p=weights)
            offsets = rng.uniform(0, span, size=n)
            cat = rng.integers(0, len(cats), size=n)
            rows = [
                {
                    "channel": "hotline_12345",
                    "title": "诉求",
                    "description": "",
                    "category_code": cats[int(cat[i])],
                    "urgency": "normal",
                    "address": "",
                    "scope_path": grids[int(paths[i])],
                    "owner_code": city,
                    "owner_path": f"/{city}/",
                    "status": "reported",
                    "light": "none",
                    "reported_at": start + timedelta(seconds=float(offsets[i])),
                    "updated_at": start,
                    "version": 1,
                }
                for i in range(n)
            ]
            with db.transaction() as session:
                session.execute(insert(Event), rows)
        load_seconds = time.perf_counter() - t0
        with db.transaction(write=False) as session:
            t0 = time.perf_counter()
            grouped = repository.daily_counts(
                session, start=start, end=service.local_midnight(day + timedelta(days=1))
            )
            query_seconds = time.perf_counter() - t0
        with db.transaction() as session:
            t0 = time.perf_counter()
            report = service.run_surges(session, settings, day=day)
            job_seconds = time.perf_counter() - t0
    finally:
        db.dispose()
    return {
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "events": events,
        "grids": len(grids),
        "load_seconds": round(load_seconds, 1),
        "grouped_rows": len(grouped),
        "daily_counts_query_seconds": round(query_seconds, 2),
        "run_surges_seconds": round(job_seconds, 2),
        "series_judged": report.series,
        "surges": report.surges,
    }


def hot_issues() -> dict[str, Any]:
    from shiyu.warning import hot

    messages = hot.read_csv(HOT_CSV)
    t0 = time.perf_counter()
    words = [hot.tokens(m) for m in messages]
    tokenise = time.perf_counter() - t0
    t0 = time.perf_counter()
    issues = hot.find(messages, words=words, top=10)
    cluster = time.perf_counter() - t0
    return {
        "messages": len(messages),
        "tokenise_seconds": round(tokenise, 2),
        "cluster_and_rank_seconds": round(cluster, 2),
        "top5": [
            {
                "title": i.title,
                "messages": i.messages,
                "people": i.people,
                "likes": i.likes,
                "place": i.place,
                "score": i.score,
            }
            for i in issues[:5]
        ],
    }


def measure(*, sql_events: int, postgres: str | None, seed: int) -> dict[str, Any]:
    report: dict[str, Any] = {
        "benchmark": "early warning: surge detection and hot issues",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    log(f"surge detection over {GRIDS:,} grids × {CATEGORIES} categories × {DAYS} days ...")
    report["surge_detection"] = surge_detection(seed)
    if sql_events > 0:
        tmp = Path(tempfile.mkdtemp(prefix="shiyu-bench-warning-"))
        try:
            url = postgres or f"sqlite:///{tmp / 'warning.db'}"
            log(f"SQL aggregation over {sql_events:,} events ...")
            report["sql_aggregation"] = sql_aggregation(url, sql_events, seed)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if HOT_CSV.exists():
        log("hot issues on hot.csv ...")
        report["hot_issues"] = hot_issues()
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_warning", description=__doc__)
    p.add_argument("--sql-events", type=int, default=200_000, help="0 skips the SQL part")
    p.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database instead")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = p.parse_args(argv)
    report = measure(sql_events=args.sql_events, postgres=args.postgres, seed=args.seed)
    out = json.dumps(report, ensure_ascii=False, indent=2)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(out + "\n", encoding="utf-8")
    sys.stdout.write(out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
