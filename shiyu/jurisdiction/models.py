from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.db import Base
from shiyu.kit.clock import utcnow
from shiyu.kit.types import UTCDateTime


class Jurisdiction(Base):
    """One node of the tree. `path` is '/code/code/.../' from the city down, so a subtree
    is `path LIKE '<root path>%'`; parents never change once created, so paths are stable."""

    __tablename__ = "jurisdictions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("jurisdictions.code", ondelete="RESTRICT"), index=True
    )
    path: Mapped[str] = mapped_column(String(255), unique=True)
    #: deferred: services look units up on every intake and rarely need the polygon, whose
    #: JSON parsing dominated those lookups; queries that draw or compare load it explicitly
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)
    min_lng: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lng: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class GeoVersion(Base):
    """A single row bumped whenever grid geometry changes; every process compares it with the
    version of its in-memory index and rebuilds the index when they differ."""

    __tablename__ = "geo_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
