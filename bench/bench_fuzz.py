"""Schemathesis against the running app's /openapi.json with every check (`python -m
bench.bench_fuzz`, or `python -m bench.run --fuzz-requests N`).

The long run: the demo city is built into a temporary SQLite database (or `--postgres URL`),
`shiyu serve` runs on loopback, and schemathesis (examples, coverage, fuzzing and stateful
phases) sends at least `--requests` requests as a city administrator. One JSON object goes to
stdout: requests sent, failures by check (and the operations behind them), warnings.

The bounded run in tests/fuzz uses the same harness (`run_schemathesis`) with a few hundred
cases, so CI stays fast.

How authentication survives the fuzzer: the fuzzing administrator gets an id far above any
id the fuzzer tries (2,100,000,000), so `PATCH /users/{id}` cannot deactivate it, and
`POST /auth/logout` (which revokes the caller's tokens) runs last, in its own pass.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select

FUZZ_USER_ID = 2_100_000_000
FUZZ_USERNAME = "fuzz_admin"
#: Revokes the caller's own tokens: fuzzed last, on its own.
SELF_REVOKING = ("auth-logout",)
DEFAULT_PASSWORD = "Shiyu@2026"
#: how long a change stream stays open under the fuzzer (`SHIYU_DASHBOARD_STREAM_SECONDS`)
FUZZ_STREAM_SECONDS = "2"


def add_fuzz_admin(database_url: str, secret_key: str, *, minutes: int = 24 * 60) -> str:
    """Create (idempotently) the fuzzing administrator at the city level; return a token."""
    from shiyu.auth import repository as auth_repo
    from shiyu.auth.models import User
    from shiyu.auth.security import create_token, hash_password
    from shiyu.config import Settings
    from shiyu.db import Database
    from shiyu.jurisdiction.models import Jurisdiction
    from shiyu.models import load_all

    load_all()
    db = Database(Settings(database_url=database_url, secret_key=secret_key))
    try:
        with db.transaction() as session:
            user = session.get(User, FUZZ_USER_ID)
            if user is None:
                city = session.scalars(
                    select(Jurisdiction).where(Jurisdiction.parent_code.is_(None))
                ).first()
                if city is None:
                    raise RuntimeError("the database has no jurisdictions to fuzz")
                user = User(
                    id=FUZZ_USER_ID,
                    username=FUZZ_USERNAME,
                    display_name="接口模糊测试",
                    password_hash=hash_password(os.urandom(16).hex()),
                    jurisdiction_code=city.code,
                    jurisdiction_path=city.path,
                    roles=list(auth_repo.roles(session, ["admin"])),
                    is_active=True,
                    token_version=0,
                )
                session.add(user)
                session.flush()
            token, _ = create_token(
                user_id=user.id,
                token_version=user.token_version,
                secret=secret_key,
                minutes=minutes,
            )
    finally:
        db.dispose()
    return token


def schemathesis_command() -> list[str]:
    beside = Path(sys.executable).parent / "schemathesis"
    return [str(beside)] if beside.is_file() else ["schemathesis"]


def _run_once(
    base_url: str,
    token: str,
    *,
    workdir: Path,
    name: str,
    max_examples: int,
    seed: int,
    phases: str,
    select_args: Iterable[str],
    timeout: float,
) -> dict[str, Any]:
    report = workdir / f"{name}.json"
    log = workdir / f"{name}.log"
    cmd = [
        *schemathesis_command(),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--phases",
        phases,
        "--workers",
        "1",  # hypothesis' lambda introspection is not thread-safe here (runtime errors)
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "60",  # a slow answer on a busy 2-core machine is not a failure of the API
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        *select_args,
    ]
    env = {**os.environ, "SCHEMATHESIS_TELEMETRY": "false"}
    with log.open("w") as out:
        done = subprocess.run(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=timeout, check=False
        )
    if not report.exists():
        raise RuntimeError(f"schemathesis wrote no report (exit {done.returncode}): {log}")
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    data["log_path"] = str(log)
    return data


def run_schemathesis(
    base_url: str,
    token: str,
    *,
    workdir: Path,
    max_examples: int,
    seed: int = 2026,
    phases: str = "examples,coverage,fuzzing,stateful",
    timeout: float = 3600,
) -> dict[str, Any]:
    """Fuzz every operation, the self-revoking ones last; return merged counts."""
    main = _run_once(
        base_url,
        token,
        workdir=workdir,
        name="main",
        max_examples=max_examples,
        seed=seed,
        phases=phases,
        select_args=[a for op in SELF_REVOKING for a in ("--exclude-operation-id", op)],
        timeout=timeout,
    )
    last = _run_once(
        base_url,
        token,
        workdir=workdir,
        name="self_revoking",
        max_examples=max(5, max_examples // 10),
        seed=seed,
        phases="examples,coverage,fuzzing",
        select_args=[a for op in SELF_REVOKING for a in ("--include-operation-id", op)],
        timeout=timeout,
    )
    return summarise([main, last])


def summarise(reports: list[dict[str, Any]]) -> dict[str, Any]:
    by_check: dict[str, dict[str, Any]] = {}
    for report in reports:
        for failure in report.get("failures", []):
            entry = by_check.setdefault(
                failure["title"], {"code": failure["code"], "count": 0, "operations": []}
            )
            entry["count"] += failure["count"]
            entry["operations"] = sorted(set(entry["operations"]) | set(failure["operations"]))
    return {
        "schemathesis_version": reports[0].get("schemathesis_version"),
        "requests": sum(r["test_cases"]["generated"] for r in reports),
        "operations_tested": sum(r["operations"]["tested"] for r in reports),
        "test_cases_with_failures": sum(r["test_cases"]["with_failures"] for r in reports),
        "failures": sum(e["count"] for e in by_check.values()),
        "failures_by_check": by_check,
        "errors": [e for r in reports for e in r.get("errors", [])],
        "warnings": {k: v for r in reports for k, v in (r.get("warnings") or {}).items() if v},
        "seconds": round(sum(r.get("running_time", 0) for r in reports), 1),
        "logs": [r["log_path"] for r in reports],
    }


def measure(
    base_url: str, database_url: str, secret_key: str, *, requests: int, seed: int, tmp: Path
) -> dict[str, Any]:
    """Fuzz a served database until at least `requests` requests were sent."""
    token = add_fuzz_admin(database_url, secret_key)
    max_examples = 25
    runs: list[dict[str, Any]] = []
    sent = 0
    while sent < requests:
        work = tmp / f"fuzz-{len(runs)}"
        work.mkdir(parents=True, exist_ok=True)
        result = run_schemathesis(
            base_url, token, workdir=work, max_examples=max_examples, seed=seed + len(runs)
        )
        runs.append(result)
        sent += result["requests"]
        max_examples *= 2
    merged = merge(runs)
    merged["runs"] = len(runs)
    return merged


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    by_check: dict[str, dict[str, Any]] = {}
    for run in runs:
        for title, entry in run["failures_by_check"].items():
            into = by_check.setdefault(title, {"code": entry["code"], "count": 0, "operations": []})
            into["count"] += entry["count"]
            into["operations"] = sorted(set(into["operations"]) | set(entry["operations"]))
    return {
        "schemathesis_version": runs[0]["schemathesis_version"],
        "requests": sum(r["requests"] for r in runs),
        "failures": sum(e["count"] for e in by_check.values()),
        "failures_by_check": by_check,
        "errors": [e for r in runs for e in r["errors"]],
        "warnings": {k: v for r in runs for k, v in r["warnings"].items()},
        "seconds": round(sum(r["seconds"] for r in runs), 1),
    }


def main(argv: list[str] | None = None) -> int:
    from bench.server import Server, build_demo

    p = argparse.ArgumentParser(prog="python -m bench.bench_fuzz", description=__doc__)
    p.add_argument("--requests", type=int, default=5000, help="at least this many requests")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--postgres", metavar="URL", help="an existing PostgreSQL database")
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="shiyu-fuzz-"))
    secret = "bench-fuzz-secret-key-0123456789abcdef"
    url = args.postgres or f"sqlite:///{tmp / 'fuzz.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIYU_")}
    env.update(
        SHIYU_DATABASE_URL=url,
        SHIYU_SECRET_KEY=secret,
        SHIYU_ENVIRONMENT="test",
        SHIYU_DEMO_DAYS="3",
        SHIYU_SWEEP_INTERVAL_SECONDS="0",
        SHIYU_LOG_LEVEL="WARNING",
        SHIYU_UPLOAD_DIR=str(tmp / "uploads"),
        SHIYU_DEMO_PASSWORD=os.environ.get("SHIYU_DEMO_PASSWORD", DEFAULT_PASSWORD),
        # the command centre's change stream stays open for its `seconds` (up to 600): the
        # fuzzer reads a stream to its end, so one case could hold the run for ten minutes
        SHIYU_DASHBOARD_STREAM_SECONDS=FUZZ_STREAM_SECONDS,
    )
    started = time.perf_counter()
    server = Server(env, tmp / "server.log")
    try:
        build_demo(env)
        server.start()
        report = measure(
            server.base_url, url, secret, requests=args.requests, seed=args.seed, tmp=tmp
        )
        report["server_errors_logged"] = server.log_tail(10_000).count('"unhandled error"')
    finally:
        server.stop()
        report_dir = Path("var/bench/fuzz")
        report_dir.mkdir(parents=True, exist_ok=True)
        for log in tmp.glob("fuzz-*/*.log"):
            shutil.copy(log, report_dir / f"{log.parent.name}-{log.name}")
        shutil.rmtree(tmp, ignore_errors=True)
    report["database"] = "postgresql" if args.postgres else "sqlite"
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
