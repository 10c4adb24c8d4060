from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.db import Base
from shiyu.kit.clock import utcnow
from shiyu.kit.types import UTCDateTime


class DuplicateSignature(Base):
    """An open event's MinHash-LSH band keys (16 signed 64-bit integers, little-endian), with
    its time and place: the durable form of the duplicate search's index. One row per event,
    appended in `seq` order; each process searches an index of them in memory
    (`shiyu.duplicates.band_index`), which reads the rows other processes commit by `seq`.
    Until revision 0022bandmemory each key was a row of `duplicate_bands` under an index
    leading with the key: 16 random index entries a report, most of SQLite's write-ahead log
    and a fifth of the intake's rate."""

    __tablename__ = "duplicate_signatures"
    # SQLite: never reuse a seq of a deleted row, which a reader past it would not read again
    __table_args__ = ({"sqlite_autoincrement": True},)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    cell: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    grid_code: Mapped[str | None] = mapped_column(String(32))
    keys: Mapped[bytes] = mapped_column(LargeBinary)


class DuplicateCandidate(Base):
    """A suggestion that `event` (the newer) repeats `candidate` (an open event): its score
    and place facts, and the dispatcher's decision (suggested, rejected or merged)."""

    __tablename__ = "duplicate_candidates"
    __table_args__ = (UniqueConstraint("event_id", "candidate_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    same_grid: Mapped[bool | None] = mapped_column(Boolean)
    distance_m: Mapped[float | None] = mapped_column(Float)
    hours_apart: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default="suggested")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(500), default="")


class MergeNotice(Base):
    """A merged 子单 whose reporter was told that the 主单 closed (sent once)."""

    __tablename__ = "duplicate_merge_notices"

    child_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    parent_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sms_sent: Mapped[bool] = mapped_column(Boolean, default=False)
