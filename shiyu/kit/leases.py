"""Database leases: a periodic job runs in one process at a time, whichever process holds
the lease; a crashed holder's lease simply expires."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import String, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from shiyu.db import Base, Database
from shiyu.kit.clock import utcnow
from shiyu.kit.types import UTCDateTime


class JobLease(Base):
    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def acquire(session: Session, *, name: str, holder: str, seconds: float) -> bool:
    """Take or renew the lease in the caller's transaction; True if we hold it."""
    now = utcnow()
    until = now + timedelta(seconds=seconds)
    result = session.execute(
        update(JobLease)
        .where(JobLease.name == name)
        .where((JobLease.expires_at < now) | (JobLease.holder == holder))
        .values(holder=holder, expires_at=until)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        return True
    try:
        with session.begin_nested():
            session.add(JobLease(name=name, holder=holder, expires_at=until))
    except IntegrityError:
        return False
    return True


def release(session: Session, *, name: str, holder: str) -> None:
    session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder)
        .values(expires_at=utcnow())
    )


def holder_id() -> str:
    """This process, as a lease holder."""
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def held(db: Database, *, name: str, seconds: float, holder: str | None = None) -> Iterator[bool]:
    """The lease for the body of a `with` (False: another process holds it, skip this run),
    each step in a short transaction of its own, released at the end whatever happens.
    `holder`: this process (`holder_id`) unless given."""
    holder = holder or holder_id()
    with db.transaction() as session:
        mine = acquire(session, name=name, holder=holder, seconds=seconds)
    if not mine:
        yield False
        return
    try:
        yield True
    finally:
        with db.transaction() as session:
            release(session, name=name, holder=holder)
