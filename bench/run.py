"""`python -m bench.run` (`make bench`): the demo city served and measured on this machine.

1. builds the demo city into a temporary SQLite database (or `--postgres URL`) with `shiyu demo`;
2. measures the in-process index (STRtree build, `locate_many`, single `locate`) — before the
   server starts, so that the server does not compete with it for the CPU;
3. starts `shiyu serve` on a free loopback port, logs in as admin and measures, each for a
   bounded time after a short warm-up, with N keep-alive clients in a closed loop:
   GET /api/v1/ping (the machine's reference), GET /api/v1/locate one point per request and
   POST /api/v1/locate/batch with 10,000 points per request;
4. stops the server (always);
5. measures event creation (`bench_events.measure_levels`): each level of concurrency on a
   server of its own over the city as built (a snapshot taken after step 1);
6. deletes the temporary directory.

One JSON object goes to stdout and to var/bench/latest.json; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from bench import (
    bench_classify,
    bench_duplicates,
    bench_events,
    bench_fuzz,
    bench_sweep,
    bench_warning,
)
from bench.inproc import measure_index
from bench.load import CLIENT_KINDS, run_load
from bench.points import CITY_BBOX, random_points
from bench.server import Server, Snapshot, build_demo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = PROJECT_ROOT / "var" / "bench" / "latest.json"
DEFAULT_PASSWORD = "Shiyu@2026"  # the documented demo password (SHIYU_DEMO_PASSWORD)
DEFAULT_SECRET_KEY_FOR_FUZZ = "change-me-development-only"  # shiyu.config's development default
BATCH_SIZE = 10_000
BATCH_BODIES = 4
SINGLE_POINTS = 100_000
IN_PROCESS_POINTS = 100_000

_started = time.perf_counter()


def log(message: str) -> None:
    print(f"[bench {time.perf_counter() - _started:6.1f}s] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.run", description="Benchmark Shiyu on this machine."
    )
    p.add_argument("--quick", action="store_true", help="~1 s per measurement instead of ~5 s")
    p.add_argument("--duration", type=float, help="seconds per measurement (overrides --quick)")
    p.add_argument("--concurrency", type=int, default=8, help="clients for ping and locate")
    p.add_argument(
        "--batch-concurrency", type=int, default=1, help="clients for the 10,000-point batches"
    )
    p.add_argument(
        "--client",
        choices=CLIENT_KINDS,
        default="stdlib",
        help="HTTP client of the load threads (httpx costs the client far more CPU, raw the least)",
    )
    p.add_argument("--seed", type=int, default=2026, help="seed of the random points")
    p.add_argument("--workers", type=int, default=1, help="server processes")
    p.add_argument(
        "--postgres",
        metavar="URL",
        help="an existing PostgreSQL database (postgresql+psycopg://...) instead of SQLite; "
        "`shiyu demo` builds (idempotently) into it",
    )
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON")
    p.add_argument(
        "--sweep-rows",
        type=int,
        default=0,
        help="also load this many open events and time the deadline sweep (bench.bench_sweep; "
        "1000000 with --postgres for the issue's target)",
    )
    p.add_argument(
        "--classify",
        action="store_true",
        help="also time the appeal classifier (bench.bench_classify: training on dev.csv and "
        "10,000 messages, single-core prediction; needs ../shared/data/appeals/dev.csv)",
    )
    p.add_argument(
        "--duplicate-events",
        type=int,
        default=0,
        help="also load this many open events and time the duplicate-candidate search at "
        "intake (bench.bench_duplicates; 1000000 for the issue's target)",
    )
    p.add_argument(
        "--warning",
        action="store_true",
        help="also measure early warning: surge detection over 5,000 grids × 50 categories × "
        "365 days, its SQL aggregation and hot issues on hot.csv (bench.bench_warning)",
    )
    p.add_argument(
        "--fuzz-requests",
        type=int,
        default=0,
        help="also fuzz the served demo city with schemathesis (every check) for at least this "
        "many requests, last (bench.bench_fuzz; 5000 for the issue's long run)",
    )
    args = p.parse_args(argv)
    if args.duration is None:
        args.duration = 1.0 if args.quick else 5.0
    args.warmup = min(1.0, max(0.2, args.duration / 5))
    for name in ("duration", "concurrency", "batch_concurrency", "workers"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    if args.duration > 60:
        p.error("--duration is at most 60 seconds")
    return args


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()]
        if hasattr(os, "getloadavg")
        else None,
        "versions": {
            d: _version(d)
            for d in ("shiyu", "fastapi", "uvicorn", "sqlalchemy", "shapely", "numpy", "httpx")
        },
    }


def redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    rendered: str = make_url(url).render_as_string(hide_password=True)
    return rendered


def child_env(database_url: str, password: str) -> dict[str, str]:
    env = dict(os.environ)
    env["SHIYU_DATABASE_URL"] = database_url
    env["SHIYU_DEMO_PASSWORD"] = password
    env.setdefault("SHIYU_LOG_LEVEL", "WARNING")
    return env


def login(base_url: str, password: str) -> str:
    r = httpx.post(
        f"{base_url}/api/v1/auth/token",
        data={"username": "admin", "password": password},
        timeout=30.0,
    )
    if r.status_code != 200:
        raise RuntimeError(f"admin login failed: HTTP {r.status_code} {r.text[:300]}")
    token: str = r.json()["access_token"]
    return token


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def measure_http(server: Server, token: str, args: argparse.Namespace) -> dict[str, Any]:
    base = server.base_url
    auth = {"Authorization": f"Bearer {token}"}
    common: dict[str, Any] = {
        "duration": args.duration,
        "warmup": args.warmup,
        "client": args.client,
        "server_pid": server.pid,
    }
    out: dict[str, Any] = {}
    conc = args.concurrency

    log(f"reference: GET /api/v1/ping, {conc} {args.client} clients, {args.duration:g} s")
    ping = run_load(base, lambda _i, _k: ("GET", "/api/v1/ping", None), concurrency=conc, **common)
    out["reference_ping"] = ping.summary()
    ping_rps = out["reference_ping"]["requests_per_s"]
    log(f"  {ping_rps:,.0f} req/s, p50 {out['reference_ping']['latency_ms']['p50']:.2f} ms")

    # the server builds its index on the first locate: time that once, outside the loop
    t0 = time.perf_counter()
    first = httpx.get(
        f"{base}/api/v1/locate", params={"lng": 114.3, "lat": 30.6}, headers=auth, timeout=60.0
    )
    first_locate = time.perf_counter() - t0
    if first.status_code != 200:
        raise RuntimeError(f"first locate failed: HTTP {first.status_code} {first.text[:300]}")

    pts = random_points(SINGLE_POINTS, args.seed + 1).tolist()
    paths = [f"/api/v1/locate?lng={x!r}&lat={y!r}" for x, y in pts]

    def plan_one(i: int, k: int) -> tuple[str, str, bytes | None]:
        return "GET", paths[(i + k * conc) % SINGLE_POINTS], None

    log(f"locate: GET /api/v1/locate one point per request, {conc} clients")
    single = run_load(base, plan_one, concurrency=conc, headers=auth, **common)
    s = single.summary()
    s["first_request_seconds"] = round(first_locate, 4)  # includes the server's index build
    s["points_per_s"] = s["requests_per_s"]
    s["ratio_to_reference"] = _ratio(s["requests_per_s"], ping_rps)
    out["locate_single"] = s
    log(
        f"  {s['requests_per_s']:,.0f} req/s ({s['ratio_to_reference']} of ping), "
        f"p50 {s['latency_ms']['p50']:.2f} ms"
    )

    bpts = random_points(BATCH_SIZE * BATCH_BODIES, args.seed + 2).tolist()
    bodies = [
        json.dumps(
            {
                "points": [
                    {"lng": x, "lat": y} for x, y in bpts[b * BATCH_SIZE : (b + 1) * BATCH_SIZE]
                ]
            },
            separators=(",", ":"),
        ).encode()
        for b in range(BATCH_BODIES)
    ]
    bconc = args.batch_concurrency
    counted = {"located": 0, "missing": 0}
    lock = threading.Lock()

    def plan_batch(i: int, k: int) -> tuple[str, str, bytes | None]:
        return "POST", "/api/v1/locate/batch", bodies[(i + k * bconc) % BATCH_BODIES]

    def check_batch(body: bytes) -> None:
        data = json.loads(body)
        with lock:
            counted["located"] += int(data["located"])
            counted["missing"] += int(data["missing"])

    log(f"locate batch: POST /api/v1/locate/batch, {BATCH_SIZE:,} points, {bconc} client(s)")
    batch = run_load(
        base,
        plan_batch,
        concurrency=bconc,
        headers={**auth, "Content-Type": "application/json"},
        check=check_batch,
        **common,
    )
    b = batch.summary()
    b["points_per_request"] = BATCH_SIZE
    b["request_bytes"] = len(bodies[0])
    b["points_per_s"] = round(batch.ok * BATCH_SIZE / batch.seconds, 1) if batch.seconds else 0.0
    b["located"] = counted["located"]
    b["missing"] = counted["missing"]
    b["ratio_to_reference"] = _ratio(b["points_per_s"], ping_rps)
    out["locate_batch"] = b
    log(f"  {b['points_per_s']:,.0f} points/s, p50 {b['latency_ms']['p50']:.0f} ms")
    return out


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    password = os.environ.get("SHIYU_DEMO_PASSWORD", DEFAULT_PASSWORD)
    database_url = args.postgres or f"sqlite:///{tmp / 'bench.db'}"
    env = child_env(database_url, password)
    report: dict[str, Any] = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "default",
        "settings": {
            "seconds_per_measurement": args.duration,
            "warmup_seconds": args.warmup,
            "concurrency": args.concurrency,
            "client": args.client,
            "batch_concurrency": args.batch_concurrency,
            "server_workers": args.workers,
            "seed": args.seed,
            "bbox": list(CITY_BBOX),
            "geo_index_check_seconds": float(env.get("SHIYU_GEO_INDEX_CHECK_SECONDS", "1.0")),
        },
        "machine": machine_info(),
        "database": {
            "kind": "postgresql" if args.postgres else "sqlite",
            "url": redact(database_url) if args.postgres else "sqlite:///<tempdir>/bench.db",
        },
        "notes": {
            "ratio_to_reference": "requests/s (or points/s) divided by the requests/s of "
            "GET /api/v1/ping with the same clients",
            "errors": "answers that are not 2xx; exceptions are transport failures; "
            "bad_bodies are 2xx answers whose JSON could not be read",
            "client": "stdlib = http.client, one keep-alive connection per thread",
            "cpu_percent": "percent of one core during the measured window; the client (this "
            "process) and the server share the machine; other_cpu_percent is everything else "
            "(other jobs, the kernel, PostgreSQL with --postgres)",
        },
    }

    log(f"building the demo city ({report['database']['kind']}) ...")
    report["demo_build_seconds"] = round(build_demo(env), 3)
    log(f"  demo built in {report['demo_build_seconds']:.1f} s")
    # event creation starts each level from the city as built (`bench_events.measure_levels`)
    snapshot = Snapshot(database_url, tmp / "snapshot")
    snapshot.take()
    try:
        return _measure(args, tmp, env, report, snapshot)
    finally:
        snapshot.drop()


def _measure(
    args: argparse.Namespace,
    tmp: Path,
    env: dict[str, str],
    report: dict[str, Any],
    snapshot: Snapshot,
) -> dict[str, Any]:
    database_url = env["SHIYU_DATABASE_URL"]
    password = env["SHIYU_DEMO_PASSWORD"]

    log("in-process index: build, locate_many, locate ...")
    inproc = measure_index(
        database_url, seed=args.seed, duration=args.duration, batch_points=IN_PROCESS_POINTS
    )
    log(
        f"  build {inproc['build_seconds']:.2f} s, locate_many "
        f"{inproc['locate_many']['points_per_s']:,.0f} points/s, locate "
        f"{inproc['locate_single']['points_per_s']:,.0f} points/s"
    )

    log(f"starting `shiyu serve` ({args.workers} worker(s)) ...")
    server = Server(env, tmp / "server.log", workers=args.workers)
    try:
        server.start()
        server.wait_for_jobs()
        log(f"  serving on {server.base_url} (pid {server.pid})")
        token = login(server.base_url, password)
        http = measure_http(server, token, args)
        fuzz = None
        if args.fuzz_requests > 0:  # last: fuzzing writes odd records into the demo city
            log(f"schemathesis, every check, at least {args.fuzz_requests} requests ...")
            secret = env.get("SHIYU_SECRET_KEY", DEFAULT_SECRET_KEY_FOR_FUZZ)
            fuzz = bench_fuzz.measure(
                server.base_url,
                database_url,
                secret,
                requests=args.fuzz_requests,
                seed=args.seed,
                tmp=tmp,
            )
            log(f"  {fuzz['requests']} requests, {fuzz['failures']} failures")
        if server.proc is not None and server.proc.poll() is not None:
            raise RuntimeError(f"the server died during the run:\n{server.log_tail()}")
    except BaseException:
        tail = server.log_tail()
        if tail:
            log(f"server log (last lines):\n{tail}")
        raise
    finally:
        code = server.stop()
        report["server_exit_code"] = code
        log(f"server stopped (exit code {code})")

    log("event creation: POST /api/v1/events at 1, 10 and 50 clients, each next to ping")
    creation = bench_events.measure_levels(
        report["database"]["kind"],
        env,
        snapshot,
        tmp,
        workers=args.workers,
        duration=args.duration,
        warmup=args.warmup,
        client=args.client,
        seed=args.seed,
    )
    creation.pop("token")
    ping_rps = http["reference_ping"]["requests_per_s"]
    inproc["locate_many"]["ratio_to_reference"] = _ratio(
        inproc["locate_many"]["points_per_s"], ping_rps
    )
    inproc["locate_single"]["ratio_to_reference"] = _ratio(
        inproc["locate_single"]["points_per_s"], ping_rps
    )
    http["locate_batch"]["ratio_to_in_process"] = _ratio(
        http["locate_batch"]["points_per_s"], inproc["locate_many"]["points_per_s"]
    )
    http["locate_single"]["ratio_to_in_process"] = _ratio(
        http["locate_single"]["points_per_s"], inproc["locate_single"]["points_per_s"]
    )
    report["measurements"] = {**http, "index_in_process": inproc, "event_creation": creation}
    if fuzz is not None:
        report["measurements"]["fuzz"] = fuzz
    if args.sweep_rows > 0:
        log(f"deadline sweep over {args.sweep_rows:,} loaded open events ...")
        report["measurements"]["sweep"] = _measure_sweep(database_url, args.sweep_rows)
    if args.classify:
        log("appeal classifier: training and single-core prediction ...")
        report["measurements"]["classifier"] = bench_classify.measure(bench_classify.DEFAULT_DATA)
    if args.duplicate_events > 0:
        log(f"duplicate search with {args.duplicate_events:,} open events ...")
        report["measurements"]["duplicates"] = _measure_duplicates(args.duplicate_events)
    if args.warning:
        log("early warning (surges, SQL aggregation, hot issues) ...")
        report["measurements"]["warning"] = bench_warning.measure(
            sql_events=200_000, postgres=None, seed=args.seed
        )
    report["errors"] = {
        name: {k: http[name][k] for k in ("errors", "exceptions", "bad_bodies")}
        for name in ("reference_ping", "locate_single", "locate_batch")
    }
    report["machine"]["load_average_at_end"] = (
        [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    )
    return report


def _measure_sweep(database_url: str, rows: int) -> dict[str, Any]:
    from shiyu.config import Settings
    from shiyu.db import Database

    settings = Settings(database_url=database_url)
    db = Database(settings)
    try:
        return bench_sweep.measure(db, settings, rows=rows)
    finally:
        db.dispose()


def _measure_duplicates(events: int) -> dict[str, Any]:
    """In its own temporary database: the band table is bulk-loaded (see bench_duplicates)."""
    from shiyu.config import Settings
    from shiyu.db import Database
    from shiyu.migrate import upgrade

    url, drop = bench_duplicates._database(None)
    try:
        upgrade(url)
        settings = Settings(database_url=url, environment="test", secret_key="bench-" + "x" * 40)
        db = Database(settings)
        try:
            return bench_duplicates.measure(db, settings, events=events, probes=400)
        finally:
            db.dispose()
    finally:
        drop()


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # turn SIGTERM into an exception so that the `finally` blocks stop the server
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    tmp = Path(tempfile.mkdtemp(prefix="shiyu-bench-"))
    try:
        report = run(args, tmp)
    except RuntimeError as exc:  # our own failures: say what went wrong, without a traceback
        log(f"FAILED: {exc}")
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report["total_seconds"] = round(time.perf_counter() - _started, 2)
    text = json.dumps(report, ensure_ascii=False, indent=2)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n", encoding="utf-8")
    log(f"done in {report['total_seconds']:.1f} s; written to {args.output}")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
