"""A busy city hour on loopback (issue 6): residents reporting, staff working their lists and
the command centre refreshing, all at once, against two `shiyu serve` processes.

- residents: an **open-loop** arrival schedule of `--rate` new events per second through the
  public API (each with its own phone and address, as real residents). A report's latency is
  measured from the moment it was due, not from when a busy sender got round to it, so a
  server that falls behind shows it in p95/p99 instead of hiding it (no coordinated omission);
- staff: `--staff` dispatchers and handlers in closed loops with a think time, each opening
  their to-do list, then one event of it (list + detail), with their own token;
- command centre: two screens refreshing the jurisdiction metrics every `--refresh` seconds.

    python -m bench.bench_city_hour --postgres URL       # two processes on PostgreSQL
    python -m bench.bench_city_hour                      # SQLite (one writer at a time)

Reports, per kind of traffic: requests, achieved rate, p50/p95/p99 and errors (non-2xx answers
and transport failures), plus the ping reference measured first on the same server. Target
(issue 6): 100 new events/s with 50 active staff, zero errors and p99 < 300 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.bench_events import login
from bench.load import StdlibConnection, run_load
from bench.points import random_points
from bench.server import Server, build_demo
from bench.texts import report_texts

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = PROJECT_ROOT / "var" / "bench" / "city_hour.json"
DEFAULT_PASSWORD = "Shiyu@2026"
TARGET_RATE = 100.0
TARGET_STAFF = 50
TARGET_P99_MS = 300.0
SYNTHETIC_DESCRIPTION = "居民反映，希望尽快处理"


def log(message: str) -> None:
    print(f"[bench city hour] {message}", file=sys.stderr, flush=True)


@dataclass
class Tally:
    """Latencies (seconds) and outcomes of one kind of traffic; thread-safe appends."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    exceptions: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, latency: float, status: int | None) -> None:
        with self.lock:
            if status is None:
                self.exceptions += 1
            else:
                self.latencies.append(latency)
                self.statuses[status] += 1

    def summary(self, seconds: float) -> dict[str, Any]:
        ms = np.array(self.latencies) * 1000.0
        pct = np.percentile(ms, [50, 95, 99]) if len(ms) else [float("nan")] * 3
        ok = sum(n for s, n in self.statuses.items() if 200 <= s < 300)
        return {
            "requests": len(ms) + self.exceptions,
            "per_second": round(ok / seconds, 1) if seconds else 0.0,
            "latency_ms": {
                "p50": round(float(pct[0]), 1),
                "p95": round(float(pct[1]), 1),
                "p99": round(float(pct[2]), 1),
            },
            "errors": len(ms) - ok + self.exceptions,
            "status_counts": {str(k): v for k, v in sorted(self.statuses.items())},
            "exceptions": self.exceptions,
        }


def _get(conn: StdlibConnection, path: str) -> tuple[int, bytes] | None:
    """A GET, retried once on a fresh connection: the server closes keep-alive connections
    idle for 5 s, and a screen refreshing every 5 s meets that race as browsers do (and
    browsers, like this, retry an idempotent request once)."""
    for attempt in (1, 2):
        try:
            return conn.request("GET", path, None)
        except (OSError, http.client.HTTPException):
            if attempt == 2:
                return None
    return None


def _post(conn: StdlibConnection, path: str, body: bytes) -> int | None:
    try:
        status, _ = conn.request("POST", path, body)
    except (OSError, http.client.HTTPException):
        return None
    return status


def resident_body(
    i: int, point: tuple[float, float], text: tuple[str, str], rnd: random.Random
) -> bytes:
    """A distinct resident at a distinct address (the public API limits reports per phone
    and per address, as it should)."""
    lng, lat = point
    title, description = text
    return json.dumps(
        {
            "title": title,
            "description": description,
            "lng": lng,
            "lat": lat,
            "address": f"压测路{i}号",
            "reporter_phone": f"139{rnd.randrange(10**8):08d}",
        },
        ensure_ascii=False,
    ).encode()


def residents(
    base_url: str, rate: float, seconds: float, senders: int, tally: Tally, seed: int
) -> float:
    """Report i is due at start + i / rate; `senders` threads take the due reports in turn.
    Returns the seconds from the first report's due time to the last answer (the window the
    achieved rate is measured over)."""
    total = int(rate * seconds)
    points = random_points(total + 1, seed).tolist()
    rnd = random.Random(seed)
    _, texts = report_texts(total, seed, synthetic_description=SYNTHETIC_DESCRIPTION)
    bodies = [resident_body(i, points[i], texts[i], rnd) for i in range(total)]
    start = time.perf_counter() + 0.5
    lock = threading.Lock()
    nxt = [0]

    def sender() -> None:
        conn = StdlibConnection(base_url, {"Content-Type": "application/json"})
        try:
            while True:
                with lock:
                    i = nxt[0]
                    nxt[0] += 1
                if i >= total:
                    return
                due = start + i / rate
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                status = _post(conn, "/api/v1/public/events", bodies[i])
                tally.add(time.perf_counter() - due, status)
        finally:
            conn.close()

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    return time.perf_counter() - start


def staff_member(
    base_url: str, token: str, until: float, think: float, tally: Tally, seed: int
) -> None:
    """Open the to-do list, then the first event of it; think; again."""
    rnd = random.Random(seed)
    conn = StdlibConnection(base_url, {"Authorization": f"Bearer {token}"})
    try:
        time.sleep(rnd.uniform(0, think))  # do not all start on the same tick
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            answer = _get(conn, "/api/v1/events/todo?size=20")
            tally.add(time.perf_counter() - t0, answer[0] if answer else None)
            items = json.loads(answer[1]).get("items", []) if answer and answer[0] == 200 else []
            if items:
                t0 = time.perf_counter()
                detail = _get(conn, f"/api/v1/events/{items[0]['code']}")
                tally.add(time.perf_counter() - t0, detail[0] if detail else None)
            time.sleep(rnd.uniform(0.5 * think, 1.5 * think))
    finally:
        conn.close()


def command_centre(base_url: str, token: str, until: float, refresh: float, tally: Tally) -> None:
    conn = StdlibConnection(base_url, {"Authorization": f"Bearer {token}"})
    today = time.strftime("%Y-%m-%d")
    month_ago = time.strftime("%Y-%m-%d", time.localtime(time.time() - 30 * 86400))
    path = f"/api/v1/metrics/jurisdictions?from={month_ago}&to={today}&level=district"
    try:
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            answer = _get(conn, path)
            tally.add(time.perf_counter() - t0, answer[0] if answer else None)
            time.sleep(refresh)
    finally:
        conn.close()


def staff_accounts(database_url: str, n: int) -> list[str]:
    """Dispatchers of streets and communities, then department handlers: who works lists."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT u.username FROM users u JOIN user_roles r ON r.user_id = u.id "
                    "WHERE r.role_code IN ('dispatcher', 'department_handler') AND u.is_active "
                    "ORDER BY r.role_code DESC, u.id LIMIT :n"
                ),
                {"n": n},
            ).all()
    finally:
        engine.dispose()
    return [r[0] for r in rows]


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    password = os.environ.get("SHIYU_DEMO_PASSWORD", DEFAULT_PASSWORD)
    url = args.postgres or f"sqlite:///{tmp / 'city.db'}"
    env = dict(os.environ)
    env.update(
        SHIYU_DATABASE_URL=url,
        SHIYU_DEMO_PASSWORD=password,
        SHIYU_UPLOAD_DIR=str(tmp / "uploads"),
        SHIYU_DEMO_DAYS=str(args.demo_days),
    )
    env.setdefault("SHIYU_LOG_LEVEL", "WARNING")
    log(f"building the demo city ({'postgresql' if args.postgres else 'sqlite'}) ...")
    built = build_demo(env)
    names = staff_accounts(url, args.staff)
    workers = 2 if args.postgres else 1
    with Server(env, tmp / "server.log", workers=workers) as server:
        server.start()
        settled = server.wait_for_jobs()
        log(f"periodic jobs' first runs done in {settled:.1f} s")
        log(f"logging in {len(names)} staff and the command centre ...")
        tokens = [login(server.base_url, name, password) for name in names]
        leader = login(server.base_url, "admin", password)
        ping = run_load(
            server.base_url,
            lambda _i, _k: ("GET", "/api/v1/ping", None),
            concurrency=8,
            duration=3.0,
            warmup=0.5,
        ).summary()
        log(f"ping {ping['requests_per_s']}/s; the hour starts ({args.seconds} s) ...")
        tallies = {"residents": Tally(), "staff": Tally(), "command_centre": Tally()}
        until = time.perf_counter() + 0.5 + args.seconds
        threads = [
            threading.Thread(
                target=staff_member,
                args=(server.base_url, tok, until, args.think, tallies["staff"], i),
                daemon=True,
            )
            for i, tok in enumerate(tokens)
        ]
        threads += [
            threading.Thread(
                target=command_centre,
                args=(
                    server.base_url,
                    leader,
                    until,
                    args.refresh,
                    tallies["command_centre"],
                ),
                daemon=True,
            )
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        began = time.perf_counter()
        stream = residents(
            server.base_url, args.rate, args.seconds, args.senders, tallies["residents"], 7
        )
        for t in threads:
            t.join(timeout=args.seconds + 120)
    # each kind's rate over its own window: staff and screens stop starting requests at
    # `until` (their last think time or refresh wait would otherwise count as idle time)
    windows = {"residents": stream, "staff": until - began, "command_centre": until - began}
    summary = {k: t.summary(windows[k]) for k, t in tallies.items()}
    errors = sum(s["errors"] for s in summary.values())
    p99 = max(s["latency_ms"]["p99"] for s in summary.values())
    return {
        "benchmark": "a busy city hour (residents, staff, command centre)",
        "database": "postgresql" if args.postgres else "sqlite",
        "server_processes": workers,
        "demo_build_seconds": round(built, 1),
        "startup_jobs_seconds": round(settled, 1),
        "settings": {
            "rate_per_s": args.rate,
            "seconds": args.seconds,
            "staff": len(tokens),
            "think_seconds": args.think,
            "refresh_seconds": args.refresh,
            "report_text": report_texts(1, 7, synthetic_description="")[0],
        },
        "reference_ping": ping,
        **summary,
        "target": {
            "rate_per_s": TARGET_RATE,
            "staff": TARGET_STAFF,
            "p99_ms": TARGET_P99_MS,
            "met": errors == 0
            and p99 < TARGET_P99_MS
            and summary["residents"]["per_second"] >= 0.98 * args.rate
            and args.rate >= TARGET_RATE
            and len(tokens) >= TARGET_STAFF,
        },
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.bench_city_hour", description=__doc__)
    p.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database to use")
    p.add_argument("--rate", type=float, default=TARGET_RATE, help="new events per second")
    p.add_argument("--seconds", type=float, default=30.0, help="length of the measured hour")
    p.add_argument("--staff", type=int, default=TARGET_STAFF)
    p.add_argument("--think", type=float, default=2.0, help="staff think time, seconds")
    p.add_argument("--refresh", type=float, default=5.0, help="command centre refresh, seconds")
    p.add_argument("--senders", type=int, default=32, help="threads sending reports")
    p.add_argument("--demo-days", type=int, default=3)
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="shiyu-bench-city-"))
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
