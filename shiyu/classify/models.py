from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.db import Base
from shiyu.kit.clock import utcnow
from shiyu.kit.types import UTCDateTime


class ClassifierModel(Base):
    """A model file kept in the database, so that every server process can load the active
    one without a shared disk. At most one row is active; its (id, sha256) is the version
    token each process compares with the model it holds."""

    __tablename__ = "classifier_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: sha256 of the whole file
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    #: the file's metadata header (classes, metrics, library versions ...)
    header: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
