from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from shiyu.config import Settings
from shiyu.db import Database
from shiyu.ops.prometheus import REGISTRY

log = logging.getLogger("shiyu.jobs")


class Scheduler:
    """A daemon thread calling each job every `interval` seconds; a failing job is logged and
    tried again next time (jobs are idempotent)."""

    def __init__(self) -> None:
        self._jobs: list[tuple[str, float, Callable[[], object]]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, name: str, interval: float, job: Callable[[], object]) -> None:
        self._jobs.append((name, interval, job))

    def start(self) -> None:
        if not self._jobs:
            return
        self._thread = threading.Thread(target=self._run, name="shiyu-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        import time

        due = {name: 0.0 for name, _, _ in self._jobs}
        while not self._stop.is_set():
            now = time.monotonic()
            for name, interval, job in self._jobs:
                if now >= due[name]:
                    ok = False
                    try:
                        job()
                        ok = True
                    except Exception:
                        log.exception("job failed", extra={"job": name})
                    REGISTRY.observe_job(name, time.monotonic() - now, ok=ok)  # GET /metrics
                    due[name] = time.monotonic() + interval
            self._stop.wait(1.0)


def build(db: Database, settings: Settings) -> Scheduler:
    from shiyu.events import jobs as event_jobs

    scheduler = Scheduler()
    if settings.sweep_interval_seconds > 0:
        scheduler.add(
            "events.sweep",
            settings.sweep_interval_seconds,
            lambda: event_jobs.sweep(db, settings),
        )
    if settings.duplicate_job_interval_seconds > 0:
        from shiyu.duplicates import jobs as duplicate_jobs

        scheduler.add(
            "duplicates.upkeep",
            settings.duplicate_job_interval_seconds,
            lambda: duplicate_jobs.upkeep(db, settings),
        )
    if settings.enrich_interval_seconds > 0:
        from shiyu.intake import enrich

        scheduler.add(
            "intake.enrich",
            settings.enrich_interval_seconds,
            lambda: enrich.enrich(db, settings),
        )
    if settings.reply_quality_interval_seconds > 0:
        from shiyu.replies import jobs as reply_jobs

        scheduler.add(
            "replies.score_recent",
            settings.reply_quality_interval_seconds,
            lambda: reply_jobs.score_recent(db, settings),
        )
    if settings.warning_interval_seconds > 0:
        from shiyu.warning import jobs as warning_jobs

        scheduler.add(
            "warning.surges",
            settings.warning_interval_seconds,
            lambda: warning_jobs.run(db, settings),
        )
    return scheduler
