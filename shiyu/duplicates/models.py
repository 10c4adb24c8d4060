from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.db import Base
from shiyu.kit.clock import utcnow
from shiyu.kit.types import UTCDateTime


class DuplicateBand(Base):
    """One MinHash-LSH band key of an open event's text: events sharing a key are candidate
    duplicates. `reported_at` and the place (`cell`, a square of the map around the point, 0
    without one; the grid) are copied here so that one index answers "this key, near here,
    this window" without visiting the events that share a boilerplate text elsewhere."""

    __tablename__ = "duplicate_bands"
    __table_args__ = (
        # the place-first search's: cells through the second column, the grid from the
        # entries themselves (revision 0020bandindex)
        Index(
            "ix_duplicate_bands_key_place", "key", "cell", "reported_at", "grid_code", "event_id"
        ),
    )

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cell: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    grid_code: Mapped[str | None] = mapped_column(String(32))


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
