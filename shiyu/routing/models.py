from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.db import Base
from shiyu.kit.clock import utcnow
from shiyu.kit.types import UTCDateTime


class ResponsibilityRule(Base):
    """One line of the responsibility list (权责清单): events of `category_code` (and its
    subcategories) located inside `area_code` (NULL: the whole city) go to `department_id`.

    `basis` says why: `territory` (属地: the unit serving the place) or `owner` (权属: the
    owner or maintainer of a component, whatever street it stands in). A rule without a
    category is the fallback (兜底) of its area, normally the district government."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str | None] = mapped_column(
        ForeignKey("event_categories.code"), index=True
    )
    area_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdictions.code"))
    area_path: Mapped[str] = mapped_column(String(255), default="/")
    #: level of the area (city when area_code is NULL): the "× level" of the list
    level: Mapped[str] = mapped_column(String(16))
    basis: Mapped[str] = mapped_column(String(12))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Suggestion(Base):
    """What the classifier and the list suggested at intake, and what the dispatcher finally
    decided (filled in once the event has been dispatched). Differences are corrections:
    exported as training rows and counted in the weekly accuracy."""

    __tablename__ = "routing_suggestions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    model_id: Mapped[int | None] = mapped_column(Integer)
    model_sha256: Mapped[str] = mapped_column(String(64), default="")
    #: the class as the model names it, and the catalogue category it maps to
    label: Mapped[str] = mapped_column(String(64))
    suggested_category: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    top: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    suggested_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    route_basis: Mapped[str | None] = mapped_column(String(12))
    rule_id: Mapped[int | None] = mapped_column(Integer)
    auto_dispatched: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    decided_category: Mapped[str | None] = mapped_column(String(32))
    decided_department_id: Mapped[int | None] = mapped_column(Integer)
    decided_by_id: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
