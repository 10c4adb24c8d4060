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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shiyu.classify import service as classifier
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.duplicates import service as duplicates
from shiyu.events import repository as events_repository
from shiyu.kit import leases
from shiyu.routing import service as routing

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger("shiyu.jobs")
LEASE = "intake.enrich"
#: events per transaction, and transactions per run (the next run goes on)
BATCH = 500
MAX_BATCHES = 40
#: a run starts this many ids below where the last complete pass of this process ended: the
#: rows of an import whose transaction was still open then have lower ids than rows seen
MARGIN = 5_000

#: per process and step: the highest event id a complete pass looked at (a process that
#: never ran looks at every event once; afterwards a run reads only the newest ids)
_passed: dict[str, int] = {"index": 0, "suggest": 0}


def forget() -> None:
    """Look at every event again on the next run (tests: their databases start over)."""
    _passed.update(dict.fromkeys(_passed, 0))


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
    with leases.held(db, name=LEASE, holder=holder, seconds=300) as mine:
        if not mine:
            return EnrichReport(ran=False)
        report = EnrichReport(ran=True)
        report.indexed = _index(db, settings, batch, max_batches)
        report.suggested = _suggest(db, settings, batch, max_batches)
    if report.indexed or report.suggested:
        log.info("intake.enrich", extra={"indexed": report.indexed, "suggested": report.suggested})
    return report


def _index(db: Database, settings: Settings, batch: int, max_batches: int) -> int:
    if not settings.duplicate_enabled:
        return 0

    def step(session: Session, after: int) -> tuple[int, int]:
        return duplicates.index_batch(session, settings, after_id=after, limit=batch)

    return _passes(db, "index", step, batch, max_batches)


def _suggest(db: Database, settings: Settings, batch: int, max_batches: int) -> int:
    with db.transaction(write=False) as session:
        if classifier.active(session, settings) is None:
            return 0  # nothing to suggest with: the events wait for a model, pass unfinished

    def step(session: Session, after: int) -> tuple[int, int]:
        return routing.suggest_missing(session, settings, after_id=after, limit=batch)

    return _passes(db, "suggest", step, batch, max_batches)


def _passes(
    db: Database,
    name: str,
    step: Callable[[Session, int], tuple[int, int]],
    batch: int,
    max_batches: int,
) -> int:
    """`step` (how many it did, the last id it looked at) in one transaction each, from a
    little below where this process's last complete pass ended, until a step finds fewer than
    `batch` or `max_batches` ran (the next run goes on from the start again)."""
    after = max(0, _passed[name] - MARGIN)
    with db.transaction(write=False) as session:
        top = events_repository.max_event_id(session)
    done = 0
    for _ in range(max_batches):
        with db.transaction() as session:
            did, after = step(session, after)
        done += did
        if did < batch:
            _passed[name] = max(_passed[name], top)
            break
    return done
