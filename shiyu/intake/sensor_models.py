"""Sensor and video alarm sources (物联感知、视频智能分析): who may post alarms and how their
alarm types become event categories."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.db import Base
from shiyu.kit.clock import utcnow
from shiyu.kit.types import UTCDateTime


class SensorSource(Base):
    """One system that posts alarms (a dust-monitoring network, a video analytics platform).

    The HMAC secret is stored encrypted rather than hashed: the server has to recompute the
    signature of every request."""

    __tablename__ = "sensor_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(8))
    secret: Mapped[str] = mapped_column(String(400))  # encrypted
    #: after a rotation the old secret stays valid until `previous_secret_until`, so the
    #: sending side can be reconfigured without losing alarms
    previous_secret: Mapped[str | None] = mapped_column(String(400))  # encrypted
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the unit that receives alarms that cannot be placed in a grid; also who manages it
    owner_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"))
    owner_path: Mapped[str] = mapped_column(String(255), index=True)
    #: alarm type -> {"category_code", "urgency", "label"}
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
