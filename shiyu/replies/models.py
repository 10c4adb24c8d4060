from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.db import Base
from shiyu.kit.clock import utcnow
from shiyu.kit.types import UTCDateTime


class ReplyScore(Base):
    """The quality score of one reply of an event (a reworked event is scored again: one row
    per `replied_at`)."""

    __tablename__ = "reply_scores"
    __table_args__ = (UniqueConstraint("event_id", "replied_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    replied_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    score: Mapped[float] = mapped_column(Float)
    relevance: Mapped[float] = mapped_column(Float)
    completeness: Mapped[float] = mapped_column(Float)
    timeliness: Mapped[float] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
