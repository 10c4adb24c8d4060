"""12345 hotline intake: files exported by a hotline system (CSV or XLSX) become events.

- A saved mapping per source says which column gives which field and how category, appeal kind
  and district values translate; the built-in mapping "appeals" fits the appeals data set.
- Idempotent on the hotline's own order id (`source`, `external_id`): a re-import adds nothing
  and updates the descriptive fields of rows that changed, as long as the event has not been
  dispatched. Rows without an order id get one derived from a hash of what the caller said.
- Bad rows are reported with their number in the file (the header is row 1), the field and the
  reason; the good rows are imported.
- Work is done in batches. After each batch the service calls `checkpoint`, where the caller
  commits: the job row (`hotline_imports`) commits with the batch, so a killed run has
  acknowledged exactly `rows_done` rows and a re-run finds them by their order ids.
- New rows take a bulk path (Core inserts of events and their 'report' stage, one audit record
  and one notification per batch) that stores what `events.service.create` stores, because
  one `create` per row is too slow for 100,000-row files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import BaseModel, Field, StrictBool, field_validator
from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.auth.access import Actor, define
from shiyu.auth.enums import RoleCode
from shiyu.config import Settings
from shiyu.errors import Conflict, Forbidden, InvalidInput, NotFound, ShiyuError
from shiyu.events import repository as events_repository
from shiyu.events import search
from shiyu.events import service as events
from shiyu.events.deadlines import CHINA
from shiyu.events.enums import AppealKind, Channel, Light, Status, Urgency
from shiyu.events.models import Action, Event, EventSearch
from shiyu.intake.hotline_models import HotlineImport, HotlineImportError, HotlineMapping
from shiyu.jurisdiction import service as jurisdictions
from shiyu.jurisdiction.enums import Level
from shiyu.kit.bulk import insert_rows
from shiyu.kit.clock import utcnow
from shiyu.kit.crypto import normalise_phone
from shiyu.kit.paths import within
from shiyu.kit.schemas import ORMModel
from shiyu.notifications import service as notify

HOTLINE_IMPORT = define("hotline:import", "导入12345工单", roles={RoleCode.dispatcher})

#: the bulk path writes these tables with Core statements
EVENTS = cast(Table, Event.__table__)
DOCUMENTS = cast(Table, EventSearch.__table__)
ACTIONS = cast(Table, Action.__table__)
ERRORS = cast(Table, HotlineImportError.__table__)
SOURCE_PREFIX = "hotline:"
#: the fields a mapping can fill, with their Chinese names for error messages
FIELDS: dict[str, str] = {
    "order_id": "工单编号",
    "title": "标题",
    "description": "诉求内容",
    "category": "分类",
    "reported_at": "受理时间",
    "phone": "来电号码",
    "name": "来电人",
    "address": "地址",
    "lng": "经度",
    "lat": "纬度",
    "appeal_kind": "诉求类型",
    "owner": "承办单位",
}
#: what an import may change on an event that already exists (not yet dispatched)
DESCRIPTIVE = ("title", "description", "category_code", "address")
#: the fields whose text the search tokens are made of, in `search.document_text`'s order
SEARCHED = ("title", "description", "address")
#: statuses in which the hotline may still correct what it sent
EDITABLE = frozenset({Status.reported.value, Status.accepted.value})
APPEAL_KINDS_ZH = {
    "咨询": AppealKind.consultation,
    "求助": AppealKind.help,
    "投诉": AppealKind.complaint,
    "举报": AppealKind.report,
    "建议": AppealKind.suggestion,
}
EXTRA_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y年%m月%d日 %H:%M")
MAX_TITLE, MAX_ADDRESS = events.TITLE_MAX, events.ADDRESS_MAX
MAX_DESCRIPTION, MAX_NAME, MAX_ORDER_ID = 20_000, 50, 128
#: bad rows kept on the job for later viewing (the report of the run itself lists them all)
MAX_STORED_ERRORS = 10_000

#: the built-in mapping for the appeals data set (also seeded by migration 0003hotline)
APPEALS_MAPPING: dict[str, Any] = {
    "name": "appeals",
    "source": "appeals",
    "label": "问政留言（appeals 数据集）",
    "columns": {
        "order_id": "message_id",
        "name": "user",
        "title": "subject",
        "reported_at": "time",
        "description": "detail",
        "category": "label_l1",
    },
    "category_map": {
        "城乡建设": "AP01",
        "劳动和社会保障": "AP02",
        "教育文体": "AP03",
        "商贸旅游": "AP04",
        "环境保护": "AP05",
        "卫生计生": "AP06",
        "交通运输": "AP07",
    },
    "appeal_kind_map": {},
    "owner_map": {},
    "time_format": "%Y-%m-%d %H:%M:%S",
    "owner_code": None,
    "send_receipts": True,
}


# ---------------------------------------------------------------- errors


class MappingNotFound(NotFound):
    code = "hotline.mapping_not_found"
    message = "导入映射不存在"


class MappingExists(Conflict):
    code = "hotline.mapping_exists"
    message = "同名的导入映射已存在"


class BuiltinMapping(Conflict):
    code = "hotline.builtin_mapping"
    message = "内置导入映射不能修改或删除，请另建一个"


class UnreadableFile(InvalidInput):
    code = "hotline.unreadable_file"
    message = "无法读取文件"


class FileTooLarge(ShiyuError):
    status_code = 413
    code = "hotline.file_too_large"
    message = "文件过大"


class LevelRequired(Forbidden):
    code = "hotline.level"
    message = "12345工单导入须由市级或区级综治中心办理"


class ImportNotFound(NotFound):
    code = "hotline.import_not_found"
    message = "导入记录不存在或不在您的管辖范围内"


# ---------------------------------------------------------------- schemas

_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class _MappingBody(BaseModel):
    @field_validator("columns", check_fields=False)
    @classmethod
    def _known_fields(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return value
        unknown = sorted(set(value) - FIELDS.keys())
        if unknown:
            raise ValueError(f"unknown fields {unknown}; known: {sorted(FIELDS)}")
        if not ({"title", "description"} & value.keys()):
            raise ValueError("map at least one of title, description")
        if ("lng" in value) != ("lat" in value):
            raise ValueError("lng and lat go together")
        if any(not header.strip() for header in value.values()):
            raise ValueError("column headers cannot be empty")
        return value

    @field_validator("appeal_kind_map", check_fields=False)
    @classmethod
    def _kinds(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        bad = sorted(v for v in (value or {}).values() if v not in AppealKind.__members__)
        if bad:
            raise ValueError(f"unknown appeal kinds {bad}; known: {list(AppealKind)}")
        return value


class MappingCreate(_MappingBody):
    name: str = Field(pattern=_NAME)
    source: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,47}$")
    label: str = Field(default="", max_length=100)
    columns: dict[str, str]
    category_map: dict[str, str] = Field(default_factory=dict)
    appeal_kind_map: dict[str, str] = Field(default_factory=dict)
    owner_map: dict[str, str] = Field(default_factory=dict)
    time_format: str = Field(default="%Y-%m-%d %H:%M:%S", min_length=2, max_length=40)
    owner_code: str | None = Field(default=None, pattern=r"^\d{12}$")
    send_receipts: StrictBool = True


class MappingUpdate(_MappingBody):
    """Every field optional; the name and the source stay (order ids are unique per source)."""

    label: str | None = Field(default=None, max_length=100)
    columns: dict[str, str] | None = None
    category_map: dict[str, str] | None = None
    appeal_kind_map: dict[str, str] | None = None
    owner_map: dict[str, str] | None = None
    time_format: str | None = Field(default=None, min_length=2, max_length=40)
    owner_code: str | None = Field(default=None, pattern=r"^\d{12}$")
    send_receipts: StrictBool | None = None


class MappingRead(ORMModel):
    id: int
    name: str
    source: str
    label: str
    columns: dict[str, str]
    category_map: dict[str, str]
    appeal_kind_map: dict[str, str]
    owner_map: dict[str, str]
    time_format: str
    owner_code: str | None
    send_receipts: bool
    builtin: bool
    updated_at: datetime


class RowError(BaseModel):
    row: int
    field: str
    reason: str
    order_id: str | None = None


class LockedRow(BaseModel):
    row: int
    order_id: str
    code: str
    status: str


class ImportRead(ORMModel):
    id: int
    mapping_name: str
    source: str
    filename: str
    file_sha256: str
    status: str
    rows_total: int
    rows_done: int
    created: int
    updated: int
    unchanged: int
    locked: int
    failed: int
    resumed_from_id: int | None
    actor_name: str
    message: str
    started_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None


class ImportReport(ImportRead):
    """What one run did: the counts, every bad row, and the rows that changed in the file but
    whose event is already being handled (so the import left them alone)."""

    errors: list[RowError]
    locked_rows: list[LockedRow]
    seconds: float
    rows_per_second: float


class ImportDetail(ImportRead):
    errors: list[RowError]


# ---------------------------------------------------------------- access


def check_level(actor: Actor) -> None:
    """12345 orders arrive at the city (or a district) centre, which owns them first."""
    if actor.level not in (Level.city, Level.district):
        raise LevelRequired()


def _audit(session: Session, actor: Actor, action: str, obj: str, **after: Any) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type="hotline_mapping",
        object_id=obj,
        scope_path=actor.scope_path,
        after=after or None,
    )


# ---------------------------------------------------------------- mappings


def list_mappings(session: Session, actor: Actor) -> Sequence[HotlineMapping]:
    check_level(actor)
    return session.scalars(select(HotlineMapping).order_by(HotlineMapping.name)).all()


def get_mapping(session: Session, name: str) -> HotlineMapping:
    mapping = session.scalars(select(HotlineMapping).where(HotlineMapping.name == name)).first()
    if mapping is None:
        raise MappingNotFound(details=[{"loc": ["mapping"], "msg": "unknown", "input": name}])
    return mapping


def _check_references(session: Session, actor: Actor, body: _MappingBody) -> None:
    """Category codes and units named by the mapping must exist (and be the actor's)."""
    codes = {c.code for c in events_repository.categories(session)}
    unknown = sorted(set((getattr(body, "category_map", None) or {}).values()) - codes)
    if unknown:
        raise InvalidInput(
            "分类映射中有不存在的分类",
            details=[{"loc": ["body", "category_map"], "msg": "unknown", "input": unknown}],
        )
    owners = set((getattr(body, "owner_map", None) or {}).values())
    owner_code = getattr(body, "owner_code", None)
    for code in sorted(owners | ({owner_code} if owner_code else set())):
        unit = jurisdictions.get_unit(session, code)
        if unit is None or not actor.covers(unit.path):
            loc = "owner_code" if code == owner_code else "owner_map"
            raise InvalidInput(
                "承办单位不存在或不在您的管辖范围内",
                details=[{"loc": ["body", loc], "msg": "unknown unit", "input": code}],
            )


def create_mapping(session: Session, actor: Actor, body: MappingCreate) -> HotlineMapping:
    check_level(actor)
    if session.scalar(select(HotlineMapping.id).where(HotlineMapping.name == body.name)):
        raise MappingExists(details=[{"loc": ["body", "name"], "input": body.name}])
    _check_references(session, actor, body)
    mapping = HotlineMapping(**body.model_dump(), builtin=False)
    session.add(mapping)
    session.flush()
    _audit(session, actor, "hotline.mapping_create", body.name, **body.model_dump())
    return mapping


def update_mapping(
    session: Session, actor: Actor, name: str, body: MappingUpdate
) -> HotlineMapping:
    check_level(actor)
    mapping = get_mapping(session, name)
    if mapping.builtin:
        raise BuiltinMapping()
    _check_references(session, actor, body)
    changes = body.model_dump(exclude_unset=True)
    for key, value in changes.items():
        setattr(mapping, key, value)
    session.flush()
    _audit(session, actor, "hotline.mapping_update", name, **changes)
    return mapping


def delete_mapping(session: Session, actor: Actor, name: str) -> None:
    check_level(actor)
    mapping = get_mapping(session, name)
    if mapping.builtin:
        raise BuiltinMapping()
    session.delete(mapping)
    session.flush()
    _audit(session, actor, "hotline.mapping_delete", name)


# ---------------------------------------------------------------- reading files


@dataclass
class Sheet:
    """A file's header and its data records; record i (0-based) is row i + 2 of the file."""

    header: list[str]
    rows: list[list[Any]]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _decode(data: bytes) -> str:
    """Hotline systems export UTF-8 (with or without BOM) or GB18030 (Excel's 'CSV' on a
    Chinese Windows)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise UnreadableFile("文件编码无法识别（支持 UTF-8 与 GB18030）") from exc


def _read_csv(data: bytes) -> Sheet:
    try:
        content = _decode(data)
    except UnicodeDecodeError as exc:
        raise UnreadableFile("文件编码无法识别（支持 UTF-8 与 GB18030）") from exc
    if "\x00" in content:
        raise UnreadableFile("不是文本格式的 CSV 文件")
    first_line = content.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count)
    try:
        records = list(csv.reader(io.StringIO(content, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise UnreadableFile(f"CSV 格式错误：{exc}") from exc
    if not records:
        raise UnreadableFile("文件为空")
    return Sheet([h.strip() for h in records[0]], records[1:])


def _cell(value: Any) -> Any:
    """XLSX cells come typed: keep datetimes, give numbers back as the text they show."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(data: bytes) -> Sheet:
    import openpyxl  # type: ignore[import-untyped]

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile(f"XLSX 文件无法打开：{exc}") from exc
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise UnreadableFile("文件为空")
        body = [[_cell(v) for v in row] for row in rows]
    finally:
        book.close()
    return Sheet([str(h).strip() if h is not None else "" for h in header], body)


def read_file(filename: str, data: bytes) -> Sheet:
    if not data:
        raise UnreadableFile("文件为空")
    if data.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    return _read_csv(data)


# ---------------------------------------------------------------- rows


@dataclass(slots=True)
class _Row:
    number: int
    order_id: str
    title: str
    description: str
    category_code: str | None
    appeal_kind: str | None
    reported_at: datetime | None
    phone: str | None
    name: str | None
    address: str
    lng: float | None
    lat: float | None
    owner_code: str


class _Bad(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


_PHONE_CHARS = re.compile(r"^[0-9+\-() ]+$")


@dataclass
class _Parser:
    """A mapping compiled against one file's header."""

    mapping: HotlineMapping
    index: dict[str, int]
    categories: frozenset[str]
    default_owner: str
    owner_ok: Callable[[str], bool]
    now: datetime

    def get(self, record: list[Any], name: str) -> Any:
        i = self.index.get(name)
        if i is None or i >= len(record):
            return ""
        value = record[i]
        return value.strip() if isinstance(value, str) else value

    def parse(self, number: int, record: list[Any]) -> _Row:
        g = self.get
        title, description = str(g(record, "title")), str(g(record, "description"))
        if "title" not in self.index:
            title = description[:40]
        if not title:
            raise _Bad("title", "标题为空")
        if len(title) > MAX_TITLE:
            raise _Bad("title", f"标题超过{MAX_TITLE}字")
        if len(description) > MAX_DESCRIPTION:
            raise _Bad("description", f"诉求内容超过{MAX_DESCRIPTION}字")
        raw_time = g(record, "reported_at")
        reported_at = self._time(raw_time)
        phone = self._phone(str(g(record, "phone")))
        name = str(g(record, "name")) or None
        if name is not None and len(name) > MAX_NAME:
            raise _Bad("name", f"来电人姓名超过{MAX_NAME}字")
        address = str(g(record, "address"))
        if len(address) > MAX_ADDRESS:
            raise _Bad("address", f"地址超过{MAX_ADDRESS}字")
        lng, lat = self._point(g(record, "lng"), g(record, "lat"))
        order_id = str(g(record, "order_id"))
        if len(order_id) > MAX_ORDER_ID:
            raise _Bad("order_id", f"工单编号超过{MAX_ORDER_ID}字符")
        if not order_id:
            order_id = _content_id(name, phone, raw_time, title, description)
        # stored as every other channel stores text (Simplified, half-width, no control
        # characters), after the order id: a content id stays what earlier imports derived
        title, description, address = events.stored_text(title, description, address)
        return _Row(
            number=number,
            order_id=order_id,
            title=title,
            description=description,
            category_code=self._category(str(g(record, "category"))),
            appeal_kind=self._kind(str(g(record, "appeal_kind"))),
            reported_at=reported_at,
            phone=phone,
            name=name,
            address=address,
            lng=lng,
            lat=lat,
            owner_code=self._owner(str(g(record, "owner"))),
        )

    def _time(self, raw: Any) -> datetime | None:
        if isinstance(raw, datetime):
            stamp: datetime | None = raw
        elif not raw:
            return None
        else:
            stamp = _parse_time(str(raw), self.mapping.time_format)
            if stamp is None:
                raise _Bad("reported_at", f"受理时间格式不正确（应为 {self.mapping.time_format}）")
        assert stamp is not None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=CHINA)
        if stamp > self.now + timedelta(days=1):
            raise _Bad("reported_at", "受理时间晚于当前时间")
        return stamp

    @staticmethod
    def _phone(raw: str) -> str | None:
        if not raw:
            return None
        digits = normalise_phone(raw)
        if not _PHONE_CHARS.match(raw) or not 5 <= len(digits) <= 20:
            raise _Bad("phone", "来电号码格式不正确")
        return digits

    @staticmethod
    def _point(raw_lng: Any, raw_lat: Any) -> tuple[float | None, float | None]:
        if raw_lng in ("", None) and raw_lat in ("", None):
            return None, None
        try:
            lng, lat = float(raw_lng), float(raw_lat)
        except (TypeError, ValueError):
            raise _Bad("lng", "经纬度须同时填写且为数字") from None
        if not (-180 <= lng <= 180 and -90 <= lat <= 90):
            raise _Bad("lng", "经纬度超出范围")
        return lng, lat

    def _category(self, raw: str) -> str | None:
        if not raw:
            return None
        code = self.mapping.category_map.get(raw, raw)
        if code not in self.categories:
            raise _Bad("category", f"未知的分类“{raw}”")
        return code

    def _kind(self, raw: str) -> str | None:
        if not raw:
            return None
        kind = self.mapping.appeal_kind_map.get(raw) or APPEAL_KINDS_ZH.get(raw) or raw
        if kind not in AppealKind.__members__:
            raise _Bad("appeal_kind", f"未知的诉求类型“{raw}”")
        return kind

    def _owner(self, raw: str) -> str:
        if not raw:
            return self.default_owner
        code = self.mapping.owner_map.get(raw, raw)
        if not self.owner_ok(code):
            raise _Bad("owner", f"承办单位“{raw}”不存在或不在您的管辖范围内")
        return code


def _parse_time(raw: str, fmt: str) -> datetime | None:
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        pass
    for candidate in (fmt, *EXTRA_TIME_FORMATS):
        try:
            return datetime.strptime(raw, candidate)
        except ValueError:
            continue
    return None


def _content_id(
    name: str | None, phone: str | None, raw_time: Any, title: str, description: str
) -> str:
    """An order id for rows that have none: a hash of what the caller said, when and who.
    Category and address are left out: the hotline may correct them, and a corrected row
    must update its event instead of creating a second one."""
    stamp = raw_time.isoformat() if isinstance(raw_time, datetime) else str(raw_time)
    content = "\x1f".join([name or "", phone or "", stamp, title, description])
    return "sha256:" + hashlib.sha256(content.encode()).hexdigest()[:40]


# ---------------------------------------------------------------- the run


@dataclass
class _Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    locked: int = 0


@dataclass
class _Units:
    """Unit code -> path, for owners and located grids (one lookup per code per run)."""

    session: Session
    paths: dict[str, str | None] = field(default_factory=dict)

    def path_of(self, code: str) -> str | None:
        if code not in self.paths:
            unit = jurisdictions.get_unit(self.session, code)
            self.paths[code] = unit.path if unit else None
        return self.paths[code]


@dataclass
class _Run:
    session: Session
    settings: Settings
    actor: Actor
    mapping: HotlineMapping
    job: HotlineImport
    units: _Units
    now: datetime
    errors: list[RowError] = field(default_factory=list)
    locked_rows: list[LockedRow] = field(default_factory=list)
    #: order id -> the row that first carried it in this file
    seen: dict[str, int] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return self.job.source

    def path_of(self, code: str) -> str | None:
        return self.units.path_of(code)


Checkpoint = Callable[[HotlineImport], None]


def _default_owner(session: Session, actor: Actor, mapping: HotlineMapping) -> str:
    """The mapping's unit, else the importer's centre, else the city (CLI, system actor)."""
    code = mapping.owner_code or actor.jurisdiction_code
    if not code:
        root = jurisdictions.get_root(session)
        if root is None:
            raise InvalidInput("系统尚未配置辖区", code="jurisdiction.empty")
        code = root.code
    unit = jurisdictions.get_unit(session, code)
    if unit is None or not actor.covers(unit.path):
        raise InvalidInput(
            "导入映射的承办单位不存在或不在您的管辖范围内",
            details=[{"loc": ["mapping", "owner_code"], "input": code}],
        )
    return code


def _compile(
    session: Session,
    actor: Actor,
    mapping: HotlineMapping,
    sheet: Sheet,
    units: _Units,
    now: datetime,
) -> _Parser:
    position = {h: i for i, h in reversed(list(enumerate(sheet.header)))}
    missing = [h for h in mapping.columns.values() if h not in position]
    if missing:
        raise UnreadableFile(
            f"文件缺少导入映射“{mapping.name}”所需的列：{'、'.join(missing)}",
            details=[{"loc": ["file"], "msg": "missing columns", "input": missing}],
        )
    categories = frozenset(c.code for c in events_repository.categories(session))

    def owner_ok(code: str) -> bool:
        path = units.path_of(code)
        return path is not None and actor.covers(path)

    return _Parser(
        mapping=mapping,
        index={f: position[h] for f, h in mapping.columns.items()},
        categories=categories,
        default_owner=_default_owner(session, actor, mapping),
        owner_ok=owner_ok,
        now=now,
    )


def _start_job(
    session: Session,
    actor: Actor,
    mapping: HotlineMapping,
    *,
    filename: str,
    digest: str,
    rows: int,
    scope_path: str,
    stale_seconds: float,
) -> HotlineImport:
    """A new job; earlier unfinished runs of the same file are linked (and, once their
    heartbeat is old, marked interrupted). Nothing is skipped on their account: rows they
    committed are found again by order id."""
    now = utcnow()
    earlier = session.scalars(
        select(HotlineImport)
        .where(
            HotlineImport.file_sha256 == digest,
            HotlineImport.mapping_name == mapping.name,
            HotlineImport.status == "running",
        )
        .order_by(HotlineImport.id)
    ).all()
    for job in earlier:
        if job.heartbeat_at < now - timedelta(seconds=stale_seconds):
            job.status = "interrupted"
    job = HotlineImport(
        mapping_name=mapping.name,
        source=SOURCE_PREFIX + mapping.source,
        filename=filename[:255],
        file_sha256=digest,
        status="running",
        rows_total=rows,
        resumed_from_id=earlier[-1].id if earlier else None,
        actor_id=actor.user_id,
        actor_name=actor.display_name[:64],
        scope_path=scope_path,
        started_at=now,
        heartbeat_at=now,
    )
    session.add(job)
    session.flush()
    return job


def import_file(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    mapping_name: str,
    filename: str,
    data: bytes,
    checkpoint: Checkpoint,
    batch_size: int | None = None,
) -> ImportReport:
    """Import one file. `checkpoint(job)` is called after the job row is created and after
    every batch; the caller commits there (the CLI and the API both do)."""
    check_level(actor)
    mapping = get_mapping(session, mapping_name)
    sheet = read_file(filename, data)
    started = utcnow()
    units = _Units(session)
    parser = _compile(session, actor, mapping, sheet, units, started)
    owner_path = units.path_of(parser.default_owner)
    assert owner_path is not None
    job = _start_job(
        session,
        actor,
        mapping,
        filename=filename,
        digest=sha256(data),
        rows=len(sheet.rows),
        scope_path=owner_path,
        stale_seconds=settings.hotline_stale_seconds,
    )
    checkpoint(job)
    run = _Run(session, settings, actor, mapping, job, units, started)
    size = batch_size or settings.hotline_batch_size
    for start in range(0, len(sheet.rows), size):
        _import_batch(run, parser, sheet.rows[start : start + size], first_number=start + 2)
        checkpoint(job)
    job.status, job.finished_at = "done", utcnow()
    session.flush()
    checkpoint(job)
    seconds = max((job.finished_at - started).total_seconds(), 1e-9)
    return ImportReport(
        **ImportRead.model_validate(job).model_dump(),
        errors=run.errors,
        locked_rows=run.locked_rows,
        seconds=round(seconds, 3),
        rows_per_second=round(job.rows_total / seconds, 1),
    )


def _import_batch(run: _Run, parser: _Parser, records: list[list[Any]], first_number: int) -> None:
    """Validate, write, and count one batch; the job row moves with it (same transaction)."""
    run.now = utcnow()
    good, errors = _validate(run, parser, records, first_number)
    counts = _write_rows(run, good)
    job = run.job
    job.rows_done += len(records)
    job.created += counts.created
    job.updated += counts.updated
    job.unchanged += counts.unchanged
    job.locked += counts.locked
    job.failed += len(errors)
    job.heartbeat_at = utcnow()
    _store_errors(run, errors)
    run.errors.extend(errors)
    run.session.flush()


def _validate(
    run: _Run, parser: _Parser, records: list[list[Any]], first_number: int
) -> tuple[list[_Row], list[RowError]]:
    good: list[_Row] = []
    errors: list[RowError] = []
    for offset, record in enumerate(records):
        number = first_number + offset
        if not any(v not in ("", None) for v in record):
            errors.append(RowError(row=number, field="", reason="空行"))
            continue
        try:
            row = parser.parse(number, record)
        except _Bad as bad:
            order_id = str(parser.get(record, "order_id")) or None
            errors.append(
                RowError(row=number, field=bad.field, reason=bad.reason, order_id=order_id)
            )
            continue
        first = run.seen.setdefault(row.order_id, number)
        if first != number:
            reason = f"工单编号与第{first}行重复"
            errors.append(
                RowError(row=number, field="order_id", reason=reason, order_id=row.order_id)
            )
            continue
        good.append(row)
    return good, errors


def _store_errors(run: _Run, errors: list[RowError]) -> None:
    room = MAX_STORED_ERRORS - len(run.errors)
    if room <= 0 or not errors:
        return
    run.session.execute(
        insert(ERRORS),
        [
            {
                "import_id": run.job.id,
                "row": e.row,
                "field": e.field,
                "reason": e.reason[:300],
                "order_id": e.order_id[:128] if e.order_id else None,
            }
            for e in errors[:room]
        ],
    )


def _write_rows(run: _Run, rows: list[_Row]) -> _Counts:
    """Insert the new rows and update the changed ones, inside a savepoint: a concurrent run
    of the same file on PostgreSQL may insert an order id first, and then this batch is
    simply done again (those rows are found as existing)."""
    mark = len(run.locked_rows)
    for attempt in (1, 2):
        try:
            with run.session.begin_nested():
                return _write_rows_once(run, rows)
        except IntegrityError:
            del run.locked_rows[mark:]
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _existing(run: _Run, order_ids: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(order_ids), 500):
        chunk = order_ids[start : start + 500]
        for row in run.session.execute(
            select(
                Event.id,
                Event.code,
                Event.external_id,
                Event.status,
                Event.title,
                Event.description,
                Event.category_code,
                Event.address,
                Event.owner_path,
            ).where(Event.source == run.source, Event.external_id.in_(chunk))
        ):
            found[row.external_id] = row
    return found


def _write_rows_once(run: _Run, rows: list[_Row]) -> _Counts:
    counts = _Counts()
    if not rows:
        return counts
    existing = _existing(run, [r.order_id for r in rows])
    new = [r for r in rows if r.order_id not in existing]
    updated_codes: list[str] = []
    for row in rows:
        old = existing.get(row.order_id)
        if old is None:
            continue
        outcome = _update_existing(run, row, old)
        if outcome == "updated":
            counts.updated += 1
            updated_codes.append(old.code)
        elif outcome == "locked":
            counts.locked += 1
        else:
            counts.unchanged += 1
    created = _insert_new(run, new)
    counts.created = len(created)
    if created or updated_codes:
        _audit_batch(run, rows, created, updated_codes)
    if created:
        _notify_batch(run, created)
    return counts


def _changes(run: _Run, row: _Row, old: Any) -> dict[str, Any]:
    """Only the fields this mapping reads from the file can change."""
    columns = run.mapping.columns
    wanted: dict[str, Any] = {"title": row.title, "description": row.description}
    if "category" in columns:
        wanted["category_code"] = row.category_code
    if "address" in columns:
        wanted["address"] = row.address
    return {k: v for k, v in wanted.items() if getattr(old, k) != v}


def _update_existing(run: _Run, row: _Row, old: Any) -> str:
    changes = _changes(run, row, old)
    if not changes:
        return "unchanged"
    if old.status not in EDITABLE or not run.actor.covers(old.owner_path):
        run.locked_rows.append(
            LockedRow(row=row.number, order_id=row.order_id, code=old.code, status=old.status)
        )
        return "locked"
    merged = {k: changes.get(k, getattr(old, k)) for k in DESCRIPTIVE}
    run.session.execute(
        update(EVENTS)
        .where(EVENTS.c.id == old.id)
        .values(**changes, updated_at=run.now, version=EVENTS.c.version + 1)
    )
    if changes.keys() & SEARCHED:  # a new category alone leaves the tokens as they are
        run.session.execute(
            update(DOCUMENTS)
            .where(DOCUMENTS.c.event_id == old.id)
            .values(document=search.document_text(*(merged[k] for k in SEARCHED)))
        )
    run.session.execute(
        insert(ACTIONS),
        [
            _action_row(
                run,
                old.id,
                "update",
                old.status,
                old.status,
                note="12345工单信息更新",
                data={"fields": sorted(changes), "row": row.number},
            )
        ],
    )
    return "updated"


def _locate(run: _Run, rows: list[_Row]) -> dict[int, str]:
    """Grid codes of the rows that carry a point, located in one batch call."""
    placed = [i for i, r in enumerate(rows) if r.lng is not None and r.lat is not None]
    if not placed:
        return {}
    points = [(rows[i].lng, rows[i].lat) for i in placed]
    located = jurisdictions.locate_batch(run.session, run.settings, points)  # type: ignore[arg-type]
    return {i: code for i, code in zip(placed, located.grid_codes, strict=True) if code}


def _action_row(
    run: _Run,
    event_id: int,
    action: str,
    before: str | None,
    after: str,
    *,
    note: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "action": action,
        "from_status": before,
        "to_status": after,
        "actor_id": run.actor.user_id,
        "actor_name": (run.actor.display_name or "系统")[:64],
        "at": run.now,
        "note": note,
        "data": data,
    }


@dataclass(slots=True)
class _Created:
    id: int
    code: str
    owner_code: str
    owner_path: str
    phone: str | None
    encrypted_phone: str | None


def _insert_new(run: _Run, rows: list[_Row]) -> list[_Created]:
    """What `events.service.create` stores for each row, written with Core inserts (one per
    table)."""
    if not rows:
        return []
    cipher = events.cipher_for(run.settings)
    ids = events_repository.allocate_event_ids(run.session, len(rows))
    grids = _locate(run, rows)
    event_rows: list[dict[str, Any]] = []
    created: list[_Created] = []
    for i, (row, event_id) in enumerate(zip(rows, ids, strict=True)):
        owner_path = run.path_of(row.owner_code)
        assert owner_path is not None  # checked when the row was parsed
        grid_code = grids.get(i)
        scope_path = (run.path_of(grid_code) if grid_code else None) or owner_path
        reported_at = row.reported_at or run.now
        code = events.event_code(reported_at, event_id)
        phone = cipher.encrypt(row.phone)
        event_rows.append(
            {
                "id": event_id,
                "code": code,
                "channel": Channel.hotline_12345.value,
                "source": run.source,
                "external_id": row.order_id,
                "title": row.title,
                "description": row.description,
                "category_code": row.category_code,
                "appeal_kind": row.appeal_kind,
                "urgency": Urgency.normal.value,
                "lng": row.lng,
                "lat": row.lat,
                "address": row.address,
                "grid_code": grid_code,
                "scope_path": scope_path,
                "owner_code": row.owner_code,
                "owner_path": owner_path,
                "reporter_name": cipher.encrypt(row.name),
                "reporter_phone": phone,
                "reporter_phone_hash": cipher.lookup_hash(row.phone) if row.phone else None,
                "created_by_id": run.actor.user_id,
                "status": Status.reported.value,
                "light": Light.none.value,
                "reported_at": reported_at,
                "updated_at": run.now,
                "version": 1,
            }
        )
        created.append(_Created(event_id, code, row.owner_code, owner_path, row.phone, phone))
    insert_rows(run.session, EVENTS, event_rows)
    # the same tokens `events.service.create_many` stores
    insert_rows(
        run.session,
        DOCUMENTS,
        [
            {
                "event_id": e["id"],
                "document": search.document_text(r.title, r.description, r.address),
            }
            for e, r in zip(event_rows, rows, strict=True)
        ],
    )
    channel = {"channel": Channel.hotline_12345.value}
    run.session.execute(
        insert(ACTIONS),
        [
            _action_row(run, c.id, "report", None, Status.reported, note="", data=channel)
            for c in created
        ],
    )
    if run.mapping.send_receipts:
        _send_receipts(run, created)
    return created


def _send_receipts(run: _Run, created: list[_Created]) -> None:
    """The SMS every hotline/resident intake sends: it carries the code to follow the event."""
    notify.send_outbound_many(
        run.session,
        channel="sms",
        messages=[
            notify.Outbound(
                recipient=c.phone,
                encrypted_recipient=c.encrypted_phone,
                event_id=c.id,
                body=events.intake_receipt(c.code),
            )
            for c in created
            if c.phone and c.encrypted_phone
        ],
    )


def _common_root(paths: Iterable[str]) -> str:
    parts = [p.strip("/").split("/") for p in paths]
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return "/" + "".join(f"{c}/" for c in common) if common else "/"


def _audit_batch(
    run: _Run, rows: list[_Row], created: list[_Created], updated_codes: list[str]
) -> None:
    """One record per batch instead of one per event: it names every event it touched."""
    audit.record(
        run.session,
        actor=run.actor,
        action="event.import",
        object_type="hotline_import",
        object_id=run.job.id,
        scope_path=_common_root([c.owner_path for c in created] or [run.job.scope_path]),
        after={
            "channel": Channel.hotline_12345.value,
            "source": run.source,
            "rows": [rows[0].number, rows[-1].number],
            "created": [c.code for c in created],
            "updated": updated_codes,
        },
    )


def _notify_batch(run: _Run, created: list[_Created]) -> None:
    """One message per batch and receiving centre instead of one per event."""
    per_owner: dict[str, int] = {}
    for c in created:
        per_owner[c.owner_code] = per_owner.get(c.owner_code, 0) + 1
    for owner, n in sorted(per_owner.items()):
        notify.notify_users(
            run.session,
            notify.users_at(run.session, owner, [RoleCode.dispatcher]),
            kind="event.reported",
            title=f"12345工单导入：新事件{n}件",
            body=f"导入批次 #{run.job.id}（{run.mapping.label or run.mapping.name}）",
        )


def fail_job(session: Session, job_id: int, message: str) -> None:
    """Mark a run that stopped on an unexpected error (in its own transaction)."""
    job = session.get(HotlineImport, job_id)
    if job is not None and job.status == "running":
        job.status, job.finished_at, job.message = "failed", utcnow(), message[:2000]
        session.flush()


# ---------------------------------------------------------------- past jobs


def _read(job: HotlineImport, stale_seconds: float) -> ImportRead:
    """A running job whose heartbeat is old died (killed, machine lost): show it so."""
    read = ImportRead.model_validate(job)
    if job.status == "running" and job.heartbeat_at < utcnow() - timedelta(seconds=stale_seconds):
        read.status = "interrupted"
    return read


def list_imports(
    session: Session, settings: Settings, actor: Actor, *, page: int, size: int
) -> tuple[list[ImportRead], int]:
    check_level(actor)
    stmt = select(HotlineImport).where(within(HotlineImport.scope_path, actor.scope_path))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(HotlineImport.id.desc()).offset((page - 1) * size).limit(size)
    ).all()
    return [_read(j, settings.hotline_stale_seconds) for j in rows], int(total)


def get_import(session: Session, settings: Settings, actor: Actor, job_id: int) -> dict[str, Any]:
    check_level(actor)
    job = session.scalars(
        select(HotlineImport).where(
            HotlineImport.id == job_id, within(HotlineImport.scope_path, actor.scope_path)
        )
    ).first()
    if job is None:
        raise ImportNotFound()
    errors = session.scalars(
        select(HotlineImportError)
        .where(HotlineImportError.import_id == job.id)
        .order_by(HotlineImportError.row)
    ).all()
    read = _read(job, settings.hotline_stale_seconds)
    return {
        **read.model_dump(),
        "errors": [
            RowError(row=e.row, field=e.field, reason=e.reason, order_id=e.order_id) for e in errors
        ],
    }
