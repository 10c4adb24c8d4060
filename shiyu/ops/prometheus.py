"""GET /metrics in the Prometheus text format (0.0.4), written by hand (no client library).

Per process (each `shiyu serve` worker counts its own requests; scrape every process, see
docs/operations.md):
- `shiyu_http_requests_total{method,route,status}` and the latency histogram
  `shiyu_http_request_duration_seconds{method,route}` by route *template* (/events/{code}, so
  the label set stays small), unmatched paths as route="<unmatched>";
- `shiyu_db_pool_*` of this process's connection pool;
- `shiyu_intake_batches_total` and `shiyu_intake_reports_total`: the reports' group commit
  (`shiyu.group_commit`), so reports per transaction under load can be read off;
- `shiyu_job_last_run_timestamp_seconds{job,outcome}`, `shiyu_job_last_duration_seconds`,
  `shiyu_job_runs_total` for the periodic jobs this process ran;
- `shiyu_gc_frozen_objects{process}`, `shiyu_gc_young_threshold{process}`,
  `shiyu_gc_collections_total{process,generation}` and
  `shiyu_gc_pause_seconds_total{process,generation}`: the garbage collector of this process
  (`process="web"`) and of its writer process (`"writer"`, as of its last answer), see
  `shiyu.kit.memory`.

From the database (the same in every process):
- `shiyu_events_open{light}`: open events by traffic light.

Access: loopback clients always; others only with `Authorization: Bearer SHIYU_METRICS_TOKEN`
(when that setting is set). The reverse proxy must not forward /metrics.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shiyu.errors import Forbidden
from shiyu.kit import memory

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class Registry:
    """Counters and histograms of one process; thread-safe (handlers run in a pool)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.buckets: dict[tuple[str, str], list[int]] = {}
        self.sums: dict[tuple[str, str], float] = defaultdict(float)
        self.counts: dict[tuple[str, str], int] = defaultdict(int)
        self.jobs: dict[str, dict[str, Any]] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route)
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            counts = self.buckets.setdefault(key, [0] * len(BUCKETS))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            self.sums[key] += seconds
            self.counts[key] += 1

    def observe_job(self, name: str, seconds: float, *, ok: bool) -> None:
        with self._lock:
            job = self.jobs.setdefault(name, {"runs": defaultdict(int)})
            outcome = "ok" if ok else "error"
            job["runs"][outcome] += 1
            job["last"] = (time.time(), outcome)
            job["duration"] = seconds

    def reset(self) -> None:
        with self._lock:
            self.__init__()  # type: ignore[misc]


REGISTRY = Registry()


class MetricsMiddleware:
    """Times every HTTP request and labels it with the route template it matched."""

    def __init__(self, app: ASGIApp, registry: Registry = REGISTRY) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.registry.observe_request(
                scope["method"], route_template(scope), status, time.perf_counter() - started
            )


def route_template(scope: Scope) -> str:
    """The full template of the matched route ("/api/v1/events/{code}"). FastAPI reports the
    route as declared in its router, without the prefixes it was included under; the prefix
    is what precedes the filled-in template in the requested path."""
    route = scope.get("route")
    template: str | None = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not template:
        return "<unmatched>"
    filled: str = template
    for name, value in (scope.get("path_params") or {}).items():
        filled = filled.replace("{" + name + "}", str(value))
    path: str = scope["path"]
    return path[: len(path) - len(filled)] + template if path.endswith(filled) else template


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return "{" + inner + "}" if inner else ""


def _header(lines: list[str], name: str, kind: str, help_text: str) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")


def _http_lines(reg: Registry, lines: list[str]) -> None:
    _header(lines, "shiyu_http_requests_total", "counter", "HTTP requests by route template.")
    for (method, route, status), n in sorted(reg.requests.items()):
        lines.append(
            f"shiyu_http_requests_total{_labels(method=method, route=route, status=status)} {n}"
        )
    name = "shiyu_http_request_duration_seconds"
    _header(lines, name, "histogram", "HTTP request latency by route template.")
    for (method, route), counts in sorted(reg.buckets.items()):
        for bound, n in zip(BUCKETS, counts, strict=True):
            labels = _labels(method=method, route=route, le=f"{bound:g}")
            lines.append(f"{name}_bucket{labels} {n}")
        total = reg.counts[(method, route)]
        lines.append(f"{name}_bucket{_labels(method=method, route=route, le='+Inf')} {total}")
        lines.append(
            f"{name}_sum{_labels(method=method, route=route)} {reg.sums[(method, route)]:.6f}"
        )
        lines.append(f"{name}_count{_labels(method=method, route=route)} {total}")


def _job_lines(reg: Registry, lines: list[str]) -> None:
    _header(lines, "shiyu_job_runs_total", "counter", "Periodic job runs in this process.")
    for job, data in sorted(reg.jobs.items()):
        for outcome, n in sorted(data["runs"].items()):
            lines.append(f"shiyu_job_runs_total{_labels(job=job, outcome=outcome)} {n}")
    _header(lines, "shiyu_job_last_run_timestamp_seconds", "gauge", "When the job last ran here.")
    for job, data in sorted(reg.jobs.items()):
        at, outcome = data["last"]
        labels = _labels(job=job, outcome=outcome)
        lines.append(f"shiyu_job_last_run_timestamp_seconds{labels} {at:.3f}")
    _header(lines, "shiyu_job_last_duration_seconds", "gauge", "How long its last run took.")
    for job, data in sorted(reg.jobs.items()):
        lines.append(f"shiyu_job_last_duration_seconds{_labels(job=job)} {data['duration']:.6f}")


def _pool_lines(db: Any, lines: list[str]) -> None:
    pool = db.engine.pool
    values = {
        "size": getattr(pool, "size", lambda: 0)(),
        "checked_out": getattr(pool, "checkedout", lambda: 0)(),
        "overflow": max(getattr(pool, "overflow", lambda: 0)(), 0),
        "checked_in": getattr(pool, "checkedin", lambda: 0)(),
    }
    for key, value in values.items():
        name = f"shiyu_db_pool_{key}"
        _header(lines, name, "gauge", f"Connection pool: {key.replace('_', ' ')}.")
        lines.append(f"{name} {value}")


def _events_lines(db: Any, lines: list[str]) -> None:
    from shiyu.events.enums import OPEN_STATUSES
    from shiyu.events.models import Event

    with db.session(write=False) as session:
        rows = session.execute(
            select(Event.light, func.count())
            .where(Event.status.in_([s.value for s in OPEN_STATUSES]))
            .group_by(Event.light)
        ).all()
    _header(lines, "shiyu_events_open", "gauge", "Open events by traffic light.")
    for light, n in sorted(rows, key=lambda r: str(r[0])):
        lines.append(f"shiyu_events_open{_labels(light=str(light))} {n}")


def _intake_lines(writer: Any, lines: list[str]) -> None:
    """The group-commit writer of reports: reports per transaction = jobs / batches."""
    for name, help_text, value in (
        ("shiyu_intake_batches_total", "Transactions of the reports' group commit.", "batches"),
        ("shiyu_intake_reports_total", "Reports stored through the group commit.", "jobs"),
    ):
        _header(lines, name, "counter", help_text)
        lines.append(f"{name} {getattr(writer, value)}")


def _gc_lines(writer: Any, lines: list[str]) -> None:
    """The collector of this process and, when reports go through a writer process, of that
    one: objects frozen at start-up, and collections and the time paused in them."""
    by_process = [("web", memory.stats())]
    if isinstance(getattr(writer, "gc", None), memory.GcStats):
        by_process.append(("writer", writer.gc))
    _header(lines, "shiyu_gc_frozen_objects", "gauge", "Objects frozen out of the collector.")
    for process, stats in by_process:
        lines.append(f"shiyu_gc_frozen_objects{_labels(process=process)} {stats.frozen}")
    _header(
        lines,
        "shiyu_gc_young_threshold",
        "gauge",
        "Allocations between two young collections (SHIYU_GC_YOUNG_THRESHOLD).",
    )
    for process, stats in by_process:
        lines.append(f"shiyu_gc_young_threshold{_labels(process=process)} {stats.young_threshold}")
    for name, help_text, field in (
        ("shiyu_gc_collections_total", "Garbage collections by generation.", "collections"),
        ("shiyu_gc_pause_seconds_total", "Seconds paused in garbage collections.", "pause_seconds"),
    ):
        _header(lines, name, "counter", help_text)
        for process, stats in by_process:
            for generation, value in zip(memory.GENERATIONS, getattr(stats, field), strict=True):
                labels = _labels(process=process, generation=str(generation))
                lines.append(
                    f"{name}{labels} {value:.6f}"
                    if isinstance(value, float)
                    else f"{name}{labels} {value}"
                )


def render(db: Any, registry: Registry = REGISTRY, writer: Any = None) -> str:
    lines: list[str] = []
    with registry._lock:
        _http_lines(registry, lines)
        _job_lines(registry, lines)
    _pool_lines(db, lines)
    if writer is not None:
        _intake_lines(writer, lines)
    _gc_lines(writer, lines)
    _events_lines(db, lines)
    return "\n".join(lines) + "\n"


def _allowed(request: Request) -> bool:
    token: str = request.app.state.settings.metrics_token
    given = request.headers.get("authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    client = request.client.host if request.client else ""
    return client in LOOPBACK


router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False, response_class=PlainTextResponse)
def metrics(request: Request) -> PlainTextResponse:
    """Prometheus exposition: loopback clients, or anyone with the metrics token."""
    if not _allowed(request):
        raise Forbidden("仅限本机或持有监控令牌的采集器访问")
    state = request.app.state
    return PlainTextResponse(render(state.db, writer=state.intake_writer), media_type=CONTENT_TYPE)
