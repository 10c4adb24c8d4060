from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.db import Base
from shiyu.kit.clock import utcnow
from shiyu.kit.types import UTCDateTime


class EarlyWarning(Base):
    """One surge of one unit × category on one local day: unique, so the job can run again
    (or in two processes) without a second warning or a second notification."""

    __tablename__ = "warnings"
    __table_args__ = (
        UniqueConstraint("kind", "unit_code", "category_code", "day"),
        Index("ix_warnings_day_status", "day", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"))
    #: the unit's path: scoping is a prefix test like every other domain's
    unit_path: Mapped[str] = mapped_column(String(255), index=True)
    unit_level: Mapped[str] = mapped_column(String(16))
    #: a first-level category code, or "*" for all categories together
    category_code: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer)
    baseline_mean: Mapped[float] = mapped_column(Float)
    baseline_var: Mapped[float] = mapped_column(Float)
    baseline_days: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(16))
    p_value: Mapped[float] = mapped_column(Float)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")
    notified: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ack_note: Mapped[str] = mapped_column(Text, default="")
