"""Tables of the 12345 hotline channel: saved column mappings per source, import jobs (the
progress of each file, committed batch by batch) and the bad rows each job found."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.db import Base
from shiyu.kit.clock import utcnow
from shiyu.kit.types import UTCDateTime


class HotlineMapping(Base):
    """How one hotline system's export reads: which file column gives which field, and how
    its category / appeal-kind / district values translate into ours."""

    __tablename__ = "hotline_mappings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    #: events get source f"hotline:{source}": the hotline's order ids are unique per source
    source: Mapped[str] = mapped_column(String(48))
    label: Mapped[str] = mapped_column(String(100), default="")
    #: field (order_id, title, ...) -> column header in the file
    columns: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: file value -> event category code (a value that already is a code passes as is)
    category_map: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    appeal_kind_map: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: file value (district name) -> jurisdiction code
    owner_map: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    time_format: Mapped[str] = mapped_column(String(40), default="%Y-%m-%d %H:%M:%S")
    #: the unit that owns rows without an owner column (首接负责); NULL: the importer's unit
    owner_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdictions.code"))
    #: text the SMS receipt to callers with a phone, as every intake does; off when the
    #: hotline system already answers its callers
    send_receipts: Mapped[bool] = mapped_column(Boolean, default=True)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class HotlineImport(Base):
    """One run over one file. Counters and `rows_done` are committed with each batch, so a
    killed run shows exactly what it acknowledged."""

    __tablename__ = "hotline_imports"
    __table_args__ = (Index("ix_hotline_imports_sha256", "file_sha256", "mapping_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mapping_name: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255), default="")
    file_sha256: Mapped[str] = mapped_column(String(64))
    #: running, done, failed, interrupted (a run that stopped without finishing)
    status: Mapped[str] = mapped_column(String(12), default="running")
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    #: an earlier run of the same file and mapping that this one took over from
    resumed_from_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_imports.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    #: the importer's jurisdiction: who may see the job
    scope_path: Mapped[str] = mapped_column(String(255), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: bumped with every committed batch; a running job whose heartbeat is old has died
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HotlineImportError(Base):
    """A bad row: its number in the file (the header is row 1), the field and why."""

    __tablename__ = "hotline_import_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("hotline_imports.id", ondelete="CASCADE"), index=True
    )
    row: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(300))
    order_id: Mapped[str | None] = mapped_column(String(128))
