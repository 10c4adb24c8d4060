"""The periodic reply-quality job: scores replies given since the last run. Scoring in a job
rather than in the `reply` transition keeps jieba off the handler's request and leaves
events/service.py alone; a lease lets one process run it at a time."""

from __future__ import annotations

import logging

from shiyu.config import Settings
from shiyu.db import Database
from shiyu.kit import leases
from shiyu.replies import service

log = logging.getLogger("shiyu.jobs")
LEASE = "replies.score_recent"


def score_recent(db: Database, settings: Settings, *, holder: str | None = None) -> int | None:
    """Replies scored, or None when another process holds the lease."""
    with leases.held(db, name=LEASE, holder=holder, seconds=600) as mine:
        if not mine:
            return None
        scored = 0
        while True:
            with db.transaction() as session:
                batch = len(service.score_recent(session, settings))
            scored += batch
            if batch == 0:
                break
    log.info("replies.score_recent", extra={"scored": scored})
    return scored
