"""HTTP event creation: `POST /api/v1/events` as a grid worker of the demo city, at 1, 10 and
50 concurrent clients, each level next to `GET /api/v1/ping` with the same clients (the
machine's reference, measured in the same run), on SQLite and, with `--postgres URL`, on
PostgreSQL with 1 and 2 server processes. Each level has a server of its own over the demo
city as built (`measure_levels`). Then an in-process profile of one creation: where
the time goes (token check, locating, the audit chain, notifications, the search text, the
flushes and the commit).

    python -m bench.bench_events                      # SQLite, a temporary demo database
    python -m bench.bench_events --postgres URL       # SQLite, then PostgreSQL (1 and 2 workers)

`bench.run` calls `measure_levels` after its own server stops, with a snapshot of the city it
built. Targets (issue 3): at 50 clients, creation at ≥ 25 % of the ping rate with p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.load import CLIENT_KINDS, ClientKind, run_load
from bench.points import random_points
from bench.server import Server, Snapshot, build_demo
from bench.texts import report_texts

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = PROJECT_ROOT / "var" / "bench" / "events.json"
DEFAULT_PASSWORD = "Shiyu@2026"
#: the first grid worker of the demo city (any staff account with event:create would do)
GRID_WORKER = "gw_420102001001001"
CONCURRENCY = (1, 10, 50)
TARGET_RATIO = 0.25
TARGET_P99_MS = 100.0
BODIES = 20_000

SYNTHETIC_DESCRIPTION = "网格员巡查发现，现场照片稍后补传"


def log(message: str) -> None:
    print(f"[bench events] {message}", file=sys.stderr, flush=True)


def event_bodies(n: int, seed: int) -> tuple[str, list[bytes]]:
    """Distinct reports at random points of the demo city (lng 114.0–114.6, lat 30.4–30.8),
    with real appeals' text when ../shared is there (`bench.texts`); and the text's source."""
    points = random_points(n, seed).tolist()
    source, texts = report_texts(n, seed, synthetic_description=SYNTHETIC_DESCRIPTION)
    bodies = [
        json.dumps(
            {"title": title, "description": description, "lng": lng, "lat": lat},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        for (title, description), (lng, lat) in zip(texts, points, strict=True)
    ]
    return source, bodies


def _first_repeat(bodies: list[bytes]) -> int:
    """The index of the first body whose text an earlier one had (bodies cycle their texts)."""
    seen: set[tuple[str, str]] = set()
    for i, body in enumerate(bodies):
        parsed = json.loads(body)
        text = (parsed["title"], parsed["description"])
        if text in seen:
            return i
        seen.add(text)
    return len(bodies)


def login(base_url: str, username: str, password: str) -> str:
    r = httpx.post(
        f"{base_url}/api/v1/auth/token",
        data={"username": username, "password": password},
        timeout=30.0,
    )
    if r.status_code != 200:
        raise RuntimeError(f"login as {username} failed: HTTP {r.status_code} {r.text[:300]}")
    token: str = r.json()["access_token"]
    return token


def _verdict(create: dict[str, Any], pings: list[dict[str, Any]]) -> dict[str, Any]:
    """The ratio is to the mean of the pings measured just before and just after the creation
    run: one ping alone moved by a factor of two between runs on the 2-core machine."""
    reference = statistics.fmean(ping["requests_per_s"] for ping in pings)
    ratio = create["requests_per_s"] / reference if reference else 0.0
    p99 = create["latency_ms"]["p99"]
    return {
        "reference_ping_rps": round(reference, 1),
        "ratio_to_ping": round(ratio, 4),
        "ratio_target": TARGET_RATIO,
        "p99_target_ms": TARGET_P99_MS,
        "met": ratio >= TARGET_RATIO and p99 < TARGET_P99_MS and create["errors"] == 0,
    }


def measure_creation(
    base_url: str,
    token: str,
    *,
    duration: float,
    warmup: float,
    client: ClientKind = "stdlib",
    server_pid: int | None = None,
    concurrency: tuple[int, ...] = CONCURRENCY,
    seed: int = 2026,
) -> dict[str, Any]:
    """Ping, then create, at each level of concurrency; one JSON-ready dict per level."""
    text_source, bodies = event_bodies(BODIES, seed)
    first_repeat = _first_repeat(bodies)
    counter = itertools.count()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    common: dict[str, Any] = {
        "duration": duration,
        "warmup": warmup,
        "client": client,
        "server_pid": server_pid,
    }
    out: dict[str, Any] = {}

    def ping(conc: int) -> dict[str, Any]:
        return run_load(
            base_url, lambda _i, _k: ("GET", "/api/v1/ping", None), concurrency=conc, **common
        ).summary()

    for conc in concurrency:
        before = ping(conc)

        sent: list[int] = []

        def plan(_i: int, _k: int, sent: list[int] = sent) -> tuple[str, str, bytes | None]:
            # itertools.count is atomic under the GIL: every request reports a new event
            sent.append(k := next(counter))
            return "POST", "/api/v1/events", bodies[k % BODIES]

        # creations queue behind one another: give each level time to reach its steady state
        # and to finish more than a handful of requests even when each takes seconds
        slow = {**common, "warmup": max(warmup, 2.0), "duration": max(duration, 10.0)}
        create = run_load(base_url, plan, concurrency=conc, headers=headers, **slow).summary()
        create["report_text"] = text_source
        # how many of this level's reports repeat a text sent before in this run (each is an
        # exact copy of an open event, which the duplicate search then finds)
        create["repeated_text_share"] = round(
            sum(k >= first_repeat for k in sent) / max(len(sent), 1), 3
        )
        after = ping(conc)
        level = {
            "reference_ping": before,
            "reference_ping_after": after,
            "create": create,
            **_verdict(create, [before, after]),
        }
        out[str(conc)] = level
        log(
            f"  {conc:>2} clients: ping {before['requests_per_s']:,.0f}/s before, "
            f"{after['requests_per_s']:,.0f}/s after; create "
            f"{create['requests_per_s']:,.1f}/s ({level['ratio_to_ping']:.0%}), p50 "
            f"{create['latency_ms']['p50']:.1f} ms, p99 {create['latency_ms']['p99']:.1f} ms, "
            f"errors {create['errors']}+{create['exceptions']}; "
            f"{create['repeated_text_share']:.0%} of the texts sent before"
        )
    return out


# ------------------------------------------------------------------------------ profile

#: what the profile attributes time to: label -> (module path part, function name)
PARTS: dict[str, tuple[str, str]] = {
    "token_check": ("shiyu/auth/service.py", "actor_from_token"),
    "locate_and_owner": ("shiyu/events/service.py", "_place"),
    "search_text": ("shiyu/events/search.py", "document_text"),
    "encrypt_reporter": ("shiyu/kit/crypto.py", "encrypt"),
    "audit_chain": ("shiyu/audit/service.py", "record"),
    "notifications": ("shiyu/notifications/service.py", "users_at"),
    "timeline": ("shiyu/events/service.py", "_record_report"),
    "session_flush": ("sqlalchemy/orm/session.py", "flush"),
    "commit": ("sqlalchemy/orm/session.py", "commit"),
    "to_read": ("shiyu/events/service.py", "to_read"),
}


def profile_creation(database_url: str, token: str, *, n: int, seed: int) -> dict[str, Any]:
    """`n` creations in this process, each in its own transaction as a request would do
    (token check, create, the response dict, commit), under cProfile. Parts overlap where
    one calls another (a flush inside the audit record counts in both)."""
    from shiyu.auth import service as auth_service
    from shiyu.config import Settings
    from shiyu.db import Database
    from shiyu.events import service
    from shiyu.events.enums import Channel
    from shiyu.events.schemas import IntakeData
    from shiyu.models import load_all

    load_all()
    settings = Settings(database_url=database_url)
    db = Database(settings)
    points = random_points(n + 10, seed + 7).tolist()

    def one(i: int) -> None:
        with db.transaction() as session:
            actor = auth_service.actor_from_token(
                lambda: db.session(write=False), settings, token=token
            )
            lng, lat = points[i]
            event, _ = service.create(
                session,
                settings,
                IntakeData(channel=Channel.grid_patrol, title="剖析", lng=lng, lat=lat),
                actor=actor,
            )
            service.to_read(session, settings, event, actor)

    try:
        for i in range(10):  # warm caches, the grid index, jieba
            one(n + i)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for i in range(n):
            one(i)
        profiler.disable()
        seconds = time.perf_counter() - started
    finally:
        db.dispose()
    stats = pstats.Stats(profiler)
    per = dict.fromkeys(PARTS, 0.0)
    for (path, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        for label, (where, func) in PARTS.items():
            if name == func and where in path:
                per[label] += row[3]  # cumulative seconds
    return {
        "creations": n,
        "ms_per_creation_profiled": round(1000 * seconds / n, 3),
        "parts_ms_per_creation": {k: round(1000 * v / n, 3) for k, v in per.items()},
        "note": "cProfile roughly doubles Python time; compare parts with each other",
    }


# ------------------------------------------------------------------------------ main


def measure_levels(
    label: str,
    env: dict[str, str],
    snapshot: Snapshot,
    tmp: Path,
    *,
    workers: int,
    duration: float,
    warmup: float,
    client: ClientKind = "stdlib",
    seed: int = 2026,
) -> dict[str, Any]:
    """Each level of concurrency on its own server over the database as `snapshot` holds it
    (the demo city as built): a level neither runs on the reports of the levels before it nor
    finds their texts in the duplicate search (the 50-client level used to start 10,000
    reports later, with most of the appeals' texts already sent), and all levels see the same
    city. Returns the levels and the token of the last login (for the in-process profile)."""
    levels: dict[str, Any] = {}
    settled: dict[str, float] = {}
    token = ""
    for conc in CONCURRENCY:
        snapshot.restore()
        server = Server(env, tmp / f"server-{label}-{workers}-{conc}.log", workers=workers)
        try:
            server.start()
            settled[str(conc)] = round(server.wait_for_jobs(), 1)
            token = login(server.base_url, GRID_WORKER, env["SHIYU_DEMO_PASSWORD"])
            log(
                f"{label}, {workers} worker(s), {conc} clients, on {server.base_url} "
                f"(jobs settled in {settled[str(conc)]:.1f} s)"
            )
            levels.update(
                measure_creation(
                    server.base_url,
                    token,
                    duration=duration,
                    warmup=warmup,
                    client=client,
                    server_pid=server.pid,
                    concurrency=(conc,),
                    seed=seed,
                )
            )
        finally:
            server.stop()
    return {
        "server_workers": workers,
        "startup_jobs_seconds": settled,
        "levels": levels,
        "token": token,
    }


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    password = os.environ.get("SHIYU_DEMO_PASSWORD", DEFAULT_PASSWORD)
    targets: list[tuple[str, str, list[int]]] = [("sqlite", f"sqlite:///{tmp / 'events.db'}", [1])]
    if args.postgres:
        targets.append(("postgresql", args.postgres, [1, 2]))
    report: dict[str, Any] = {
        "benchmark": "event creation over HTTP",
        "settings": {
            "seconds_per_measurement": args.duration,
            "warmup_seconds": args.warmup,
            "client": args.client,
            "concurrency": list(CONCURRENCY),
            "account": GRID_WORKER,
            "demo_days": args.demo_days,
            "each_level_starts_from": "the demo city as built (a fresh copy of its database)",
        },
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "databases": {},
    }
    for kind, url, worker_counts in targets:
        env = dict(os.environ)
        env.update(
            SHIYU_DATABASE_URL=url,
            SHIYU_DEMO_PASSWORD=password,
            SHIYU_UPLOAD_DIR=str(tmp / "uploads"),
        )
        env.setdefault("SHIYU_LOG_LEVEL", "WARNING")
        if args.demo_days is not None:
            env["SHIYU_DEMO_DAYS"] = str(args.demo_days)
        log(f"building the demo city ({kind}) ...")
        built = build_demo(env)
        snapshot = Snapshot(url, tmp / f"snapshot-{kind}")
        snapshot.take()
        try:
            runs = [
                measure_levels(
                    kind,
                    env,
                    snapshot,
                    tmp,
                    workers=w,
                    duration=args.duration,
                    warmup=args.warmup,
                    client=args.client,
                    seed=args.seed,
                )
                for w in worker_counts
            ]
        finally:
            snapshot.drop()
        token = runs[-1].pop("token")
        for r in runs:
            r.pop("token", None)
        entry: dict[str, Any] = {"demo_build_seconds": round(built, 1), "runs": runs}
        if args.profile:
            log(f"profiling {args.profile} creations in process ({kind}) ...")
            entry["profile"] = profile_creation(url, token, n=args.profile, seed=args.seed)
        report["databases"][kind] = entry
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.bench_events", description=__doc__)
    p.add_argument("--postgres", metavar="URL", help="also measure this PostgreSQL database")
    p.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    p.add_argument("--client", choices=CLIENT_KINDS, default="stdlib")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument(
        "--demo-days",
        type=int,
        default=None,
        help="days of city life the demo simulates first (default: the demo's own)",
    )
    p.add_argument(
        "--profile", type=int, default=300, help="creations to profile in process (0: none)"
    )
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = p.parse_args(argv)
    if not 0 < args.duration <= 60:
        p.error("--duration must be in (0, 60]")
    args.warmup = min(1.0, max(0.2, args.duration / 5))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="shiyu-bench-events-"))
    try:
        report = run(args, tmp)
    except RuntimeError as exc:
        log(f"FAILED: {exc}")
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = json.dumps(report, ensure_ascii=False, indent=2)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
