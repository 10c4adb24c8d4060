"""Excel export of a filtered event list (the same filters and order as the list).

The workbook is written with openpyxl's write-only mode into a temporary file, so memory stays
flat however many rows there are; the route then streams that file. Reporters' names and phones
are masked exactly as in the API (service.to_read), and text cells that a spreadsheet would read
as a formula are defused."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from typing import IO, Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from shiyu.auth import service as auth_service
from shiyu.auth.access import Actor
from shiyu.config import Settings
from shiyu.errors import InvalidInput
from shiyu.events import repository, service
from shiyu.events.deadlines import CHINA
from shiyu.events.enums import AppealKind, Channel, Light, Rating, Status, Urgency
from shiyu.events.models import Event
from shiyu.jurisdiction import service as jurisdictions
from shiyu.kit.clock import utcnow

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CHANNEL_LABELS = {
    Channel.grid_patrol: "网格巡查",
    Channel.resident: "群众上报",
    Channel.hotline_12345: "12345热线",
    Channel.sensor: "物联感知",
    Channel.video: "视频监控",
    Channel.open311: "Open311",
    Channel.department: "部门上报",
}
URGENCY_LABELS = {Urgency.normal: "一般", Urgency.urgent: "紧急", Urgency.emergency: "特急"}
LIGHT_LABELS = {Light.none: "", Light.green: "绿灯", Light.yellow: "黄灯", Light.red: "红灯"}
APPEAL_LABELS = {
    AppealKind.consultation: "咨询",
    AppealKind.help: "求助",
    AppealKind.complaint: "投诉",
    AppealKind.report: "举报",
    AppealKind.suggestion: "建议",
}
RATING_LABELS = {
    Rating.satisfied: "满意",
    Rating.basically_satisfied: "基本满意",
    Rating.dissatisfied: "不满意",
}
#: a spreadsheet treats a cell starting with one of these as a formula (CSV/formula injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportTooLarge(InvalidInput):
    code = "event.export_too_large"
    message = "符合条件的事件过多，请缩小筛选范围后再导出"


class _Names:
    """Names for codes and ids, looked up once per export."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.categories = {c.code: c.name for c in repository.categories(session)}
        self.departments = {d.id: d.name for d in auth_service.list_departments(session, actor)}
        self._units: dict[str, str] = {}

    def unit(self, code: str | None) -> str:
        if not code:
            return ""
        if code not in self._units:
            unit = jurisdictions.get_unit(self.session, code)
            self._units[code] = unit.name if unit else code
        return self._units[code]

    def department(self, dep_id: int | None) -> str:
        if dep_id is None:
            return ""
        return self.departments.get(dep_id, f"部门#{dep_id}")


def _text(value: str | None) -> str:
    """Control characters are not allowed in XLSX; a leading formula character gets an
    apostrophe so the cell stays text in every spreadsheet program."""
    text: str = ILLEGAL_CHARACTERS_RE.sub("", value or "")
    return "'" + text if text.startswith(_FORMULA_START) else text


def _local(stamp: datetime | None) -> datetime | None:
    # Excel has no time zones: show China time, as people read it
    return stamp.astimezone(CHINA).replace(tzinfo=None) if stamp else None


def _label(labels: dict[Any, str], value: str | None) -> str:
    return labels.get(value, value or "") if value is not None else ""


Column = tuple[str, float, Callable[[dict[str, Any], Event, _Names], Any]]

COLUMNS: list[Column] = [
    ("编号", 20, lambda r, e, n: r["code"]),
    ("标题", 30, lambda r, e, n: _text(r["title"])),
    ("描述", 50, lambda r, e, n: _text(r["description"])),
    ("分类", 14, lambda r, e, n: n.categories.get(e.category_code or "", e.category_code or "")),
    ("诉求类型", 8, lambda r, e, n: _label(APPEAL_LABELS, e.appeal_kind)),
    ("渠道", 10, lambda r, e, n: _label(CHANNEL_LABELS, e.channel)),
    ("紧急程度", 8, lambda r, e, n: _label(URGENCY_LABELS, e.urgency)),
    ("状态", 12, lambda r, e, n: service.STATUS_LABELS.get(Status(e.status), e.status)),
    ("网格", 14, lambda r, e, n: n.unit(e.grid_code)),
    ("地址", 30, lambda r, e, n: _text(r["address"])),
    ("上报时间", 18, lambda r, e, n: _local(e.reported_at)),
    ("办理期限", 18, lambda r, e, n: _local(e.finish_deadline)),
    ("亮灯", 6, lambda r, e, n: _label(LIGHT_LABELS, e.light)),
    ("责任单位", 16, lambda r, e, n: n.unit(e.owner_code)),
    ("主办单位", 16, lambda r, e, n: n.department(e.lead_department_id)),
    ("答复", 40, lambda r, e, n: _text(r["reply"])),
    ("办结时间", 18, lambda r, e, n: _local(e.replied_at)),
    ("结案时间", 18, lambda r, e, n: _local(e.closed_at)),
    ("满意度", 8, lambda r, e, n: _label(RATING_LABELS, e.rating)),
    ("上报人", 10, lambda r, e, n: _text(r["reporter_name"])),
    ("联系电话", 16, lambda r, e, n: _text(r["reporter_phone"])),
]
HEADERS = [title for title, _, _ in COLUMNS]
_DATE_FORMAT = "yyyy-mm-dd hh:mm"


def write_xlsx(
    session: Session,
    settings: Settings,
    actor: Actor,
    flt: repository.ListFilter,
    *,
    sort: repository.ListSort,
) -> IO[bytes]:
    """The events the actor may see that match `flt`, as an XLSX in a temporary file
    (positioned at the start; closing it deletes it). More than `export_max_rows`: 422."""
    stmt = repository.readable_by(actor)
    now = utcnow()
    limit = settings.export_max_rows
    total = repository.count(session, stmt, flt, now=now)
    if total > limit:
        raise ExportTooLarge(
            f"符合条件的事件有{total}件，超过单次导出上限{limit}件，请缩小筛选范围",
            details=[{"loc": ["query"], "msg": "too many rows", "total": total, "limit": limit}],
        )
    names = _Names(session, actor)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("事件")
    for index, (_, width, _) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(HEADERS)
    for event in repository.iterate(session, stmt, flt, now=now, sort=sort, limit=limit):
        read = service.to_read(session, settings, event, actor)
        sheet.append([_cell(sheet, get(read, event, names)) for _, _, get in COLUMNS])
    # handed to the response, which closes (and so deletes) it once streamed
    out = tempfile.TemporaryFile(prefix="shiyu-export-", suffix=".xlsx")  # noqa: SIM115
    try:
        book.save(out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def _cell(sheet: Any, value: Any) -> Any:
    if not isinstance(value, datetime):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = _DATE_FORMAT
    return cell


def filename(now: datetime | None = None) -> str:
    stamp = (now or utcnow()).astimezone(CHINA)
    return f"事件导出-{stamp:%Y%m%d-%H%M}.xlsx"
