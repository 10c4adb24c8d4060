"""The surge job: judges yesterday (now complete) and today (so far) for every watched unit ×
category. A database lease lets one process run it at a time, and even without the lease the
warnings are inserted ON CONFLICT DO NOTHING, so nothing is stored or announced twice."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import date, timedelta

from shiyu.config import Settings
from shiyu.db import Database
from shiyu.kit import leases
from shiyu.kit.clock import utcnow
from shiyu.warning import service
from shiyu.warning.schemas import SurgeRunReport

log = logging.getLogger("shiyu.jobs")
LEASE = "warning.surges"


def run(
    db: Database,
    settings: Settings,
    *,
    days: list[date] | None = None,
    holder: str | None = None,
    use_lease: bool = True,
) -> SurgeRunReport:
    started = utcnow()
    if days is None:
        today = service.local_today(started)
        days = [today - timedelta(days=1), today]
    lease = (
        leases.held(db, name=LEASE, holder=holder, seconds=1800) if use_lease else nullcontext(True)
    )
    with lease as mine:
        if not mine:
            return SurgeRunReport(ran=False)
        total = SurgeRunReport(ran=True, days=days)
        for day in days:
            # compute while reading; then one short write per day: a day's warnings and their
            # notifications commit together
            with db.transaction(write=False) as session:
                one, rows = service.detect_surges(session, settings, day=day)
            with db.transaction() as session:
                created, notified = service.store_surges(session, settings, rows)
            total.series += one.series
            total.surges += one.surges
            total.created += created
            total.notified += notified
    total.seconds = round((utcnow() - started).total_seconds(), 3)
    log.info("warning.surges", extra={"duration_ms": round(total.seconds * 1000, 1)})
    return total
