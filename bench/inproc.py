"""The point→grid index in this process: build from the database, `locate_many`, `locate`."""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.points import random_points

#: How often the single-point loop looks at the clock.
_CLOCK_EVERY = 500


def measure_index(
    database_url: str,
    *,
    seed: int,
    duration: float,
    batch_points: int = 100_000,
    max_builds: int = 5,
) -> dict[str, Any]:
    from shiyu.config import Settings
    from shiyu.db import Database
    from shiyu.jurisdiction import index
    from shiyu.models import load_all

    load_all()
    db = Database(Settings(database_url=database_url))
    try:
        # build: at least once, then again while the time budget lasts (at most max_builds)
        builds: list[float] = []
        idx = None
        budget_end = time.perf_counter() + duration
        while len(builds) < max_builds and (not builds or time.perf_counter() < budget_end):
            with db.transaction(write=False) as session:
                t0 = time.perf_counter()
                idx = index.build(session)
                builds.append(time.perf_counter() - t0)
        assert idx is not None
    finally:
        db.dispose()
    grids = len(idx.codes)

    # locate_many on batch_points points, repeated while the budget lasts
    coords = random_points(batch_points, seed)
    calls: list[float] = []
    codes: list[str | None] = []
    budget_end = time.perf_counter() + duration
    while not calls or time.perf_counter() < budget_end:
        t0 = time.perf_counter()
        codes = idx.locate_many(coords)
        calls.append(time.perf_counter() - t0)
    located = sum(c is not None for c in codes)
    many_total = sum(calls)

    # single locate calls, cycling over the same points
    lng = coords[:, 0].tolist()
    lat = coords[:, 1].tolist()
    n = len(lng)
    done = 0
    mismatches = 0
    t_start = time.perf_counter()
    budget_end = t_start + duration
    while True:
        for _ in range(_CLOCK_EVERY):
            j = done % n
            code = idx.locate(lng[j], lat[j])
            if done < n and code != codes[j]:
                mismatches += 1
            done += 1
        if time.perf_counter() >= budget_end:
            break
    single_seconds = time.perf_counter() - t_start

    return {
        "grids": grids,
        "build_seconds": round(builds[0], 4),
        "build_seconds_min": round(min(builds), 4),
        "builds": len(builds),
        "locate_many": {
            "points_per_call": batch_points,
            "calls": len(calls),
            "seconds_per_call_median": round(statistics.median(calls), 4),
            "seconds_per_call_min": round(min(calls), 4),
            "points_per_s": round(batch_points * len(calls) / many_total, 1),
            "located": located,
            "missing": batch_points - located,
        },
        "locate_single": {
            "calls": done,
            "seconds": round(single_seconds, 3),
            "points_per_s": round(done / single_seconds, 1),
            "us_per_call": round(1e6 * single_seconds / done, 2),
            # the first pass over the points is compared with locate_many's answers
            "compared_with_locate_many": min(done, n),
            "mismatches": mismatches,
        },
    }
