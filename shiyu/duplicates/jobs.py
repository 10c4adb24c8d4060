"""Periodic upkeep of duplicate merging: tell 子单 reporters that their 主单 closed, and drop
the band keys of events that can no longer be a 主单. Idempotent; a lease lets one process
run it at a time."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shiyu.config import Settings
from shiyu.db import Database
from shiyu.duplicates import repository, service
from shiyu.kit import leases

log = logging.getLogger("shiyu.jobs")
LEASE = "duplicates.upkeep"


@dataclass
class UpkeepReport:
    ran: bool
    announced: int = 0
    pruned: int = 0


def upkeep(db: Database, settings: Settings, *, holder: str | None = None) -> UpkeepReport:
    with leases.held(db, name=LEASE, holder=holder, seconds=300) as mine:
        if not mine:
            return UpkeepReport(ran=False)
        report = UpkeepReport(ran=True)
        with db.transaction() as session:
            report.announced = service.announce_closed_parents(session, settings)
        with db.transaction() as session:
            report.pruned = repository.prune_closed(session)
    log.info("duplicates.upkeep", extra={"announced": report.announced, "pruned": report.pruned})
    return report
