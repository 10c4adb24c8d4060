"""What intake adds to every report, added later to the reports of a 12345 import.

`events.service.create_many` gives each report its duplicate-search keys and suggestions and
a routing suggestion in the intake transaction. A 12345 import stores thousands of rows a
second without them (its bulk path, `intake.hotline`); this periodic job catches up in short
transactions (one batch each, so writers are never held back for long), under a lease so that
one process runs it at a time. Routing gives suggestions only here, no automatic dispatch: an
import may be a backlog of old calls, and dispatching it is a dispatcher's decision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shiyu.config import Settings
from shiyu.db import Database
from shiyu.duplicates import service as duplicates
from shiyu.events.jobs import holder_id
from shiyu.kit import leases
from shiyu.routing import service as routing

log = logging.getLogger("shiyu.jobs")
LEASE = "intake.enrich"
#: events per transaction, and transactions per run (the next run goes on)
BATCH = 500
MAX_BATCHES = 40


@dataclass
class EnrichReport:
    ran: bool
    indexed: int = 0
    suggested: int = 0


def enrich(
    db: Database,
    settings: Settings,
    *,
    holder: str | None = None,
    batch: int = BATCH,
    max_batches: int = MAX_BATCHES,
) -> EnrichReport:
    holder = holder or holder_id()
    with db.transaction() as session:
        if not leases.acquire(session, name=LEASE, holder=holder, seconds=300):
            return EnrichReport(ran=False)
    report = EnrichReport(ran=True)
    try:
        report.indexed = _index(db, settings, batch, max_batches)
        report.suggested = _suggest(db, settings, batch, max_batches)
    finally:
        with db.transaction() as session:
            leases.release(session, name=LEASE, holder=holder)
    if report.indexed or report.suggested:
        log.info("intake.enrich", extra={"indexed": report.indexed, "suggested": report.suggested})
    return report


def _index(db: Database, settings: Settings, batch: int, max_batches: int) -> int:
    if not settings.duplicate_enabled:
        return 0
    done, after = 0, 0
    for _ in range(max_batches):
        with db.transaction() as session:
            indexed, after = duplicates.index_batch(session, settings, after_id=after, limit=batch)
        done += indexed
        if indexed < batch:
            break
    return done


def _suggest(db: Database, settings: Settings, batch: int, max_batches: int) -> int:
    done, after = 0, 0
    for _ in range(max_batches):
        with db.transaction() as session:
            suggested, after = routing.suggest_missing(
                session, settings, after_id=after, limit=batch
            )
        done += suggested
        if suggested < batch:  # none left, or no model to suggest with
            break
    return done
