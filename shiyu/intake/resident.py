"""Residents without an account (居民通): report, follow by code + phone, rate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from shiyu.auth.access import Actor
from shiyu.auth.enums import RoleCode
from shiyu.config import Settings
from shiyu.errors import Conflict
from shiyu.events import attachments, repository
from shiyu.events import service as events
from shiyu.events.enums import AttachmentKind, Channel, Status
from shiyu.events.models import Attachment, Event
from shiyu.events.schemas import ActionIn, IntakeData, ResidentRating, ResidentReport
from shiyu.group_commit import Batched, Entry
from shiyu.kit.clock import utcnow
from shiyu.kit.crypto import normalise_phone

#: what residents see of the timeline (internal steps are summarised, names never shown)
_PUBLIC_ACTIONS = {
    "report": "已受理",
    "accept": "已立案",
    "reject": "不予受理",
    "dispatch": "已交办处理",
    "rule_final": "已交办处理",
    "reply": "处理单位已反馈",
    "self_resolve": "网格员已现场处置",
    "close": "已办结",
    "rate": "已评价",
    "merge": "已与相同问题合并办理",
    "cancel": "已作废",
}


def _resident(event: Event) -> Actor:
    return Actor(
        user_id=None,
        username="resident",
        display_name="居民",
        roles=frozenset({RoleCode.resident}),
        permissions=frozenset(),
        jurisdiction_code=event.owner_code,
        scope_path=event.scope_path,
        level="resident",
    )


def report(session: Session, settings: Settings, data: ResidentReport) -> Event:
    _check_limits(session, settings, data)
    event, _ = events.create(session, settings, _intake_data(data), actor=None)
    return event


def _check_limits(
    session: Session,
    settings: Settings,
    data: ResidentReport,
    *,
    earlier_by_phone: int = 0,
    earlier_at_address: int = 0,
) -> None:
    """The per-phone and per-address limits; `earlier_*`: reports of the same batch, not
    stored yet, that count too."""
    cipher = events.cipher_for(settings)
    phone_hash = cipher.lookup_hash(normalise_phone(data.reporter_phone))
    now = utcnow()
    per_phone = repository.count_recent_by_phone(session, phone_hash, now - timedelta(days=1))
    if per_phone + earlier_by_phone >= settings.resident_reports_per_phone_per_day:
        raise events.TooManyReports("该手机号今日提交次数已达上限", headers={"Retry-After": "3600"})
    address = data.address.strip()
    if (
        address
        and repository.count_recent_by_address(session, address, now - timedelta(hours=1))
        + earlier_at_address
        >= settings.resident_reports_per_address_per_hour
    ):
        raise events.TooManyReports(
            "该地址近期提交过多，请稍后再试", headers={"Retry-After": "600"}
        )


def _intake_data(data: ResidentReport) -> IntakeData:
    return IntakeData(
        channel=Channel.resident,
        title=data.title,
        description=data.description,
        category_code=data.category_code,
        appeal_kind=data.appeal_kind,
        lng=data.lng,
        lat=data.lat,
        address=data.address.strip(),
        reporter_name=data.reporter_name,
        reporter_phone=data.reporter_phone,
    )


def report_receipt(session: Session, settings: Settings, data: ResidentReport) -> tuple[str, str]:
    """`report`'s answer: the code and status."""
    event = report(session, settings, data)
    assert event.code is not None
    return event.code, event.status


@dataclass(frozen=True)
class ResidentJob:
    """`POST /public/events` as a group-commit job (`shiyu.group_commit`)."""

    settings: Settings
    data: ResidentReport
    #: `events.prepare` of the report, computed before it queued (None: by the writer)
    prepared: events.Prepared | None = None

    @classmethod
    def of(cls, settings: Settings, data: ResidentReport) -> ResidentJob:
        return cls(settings, data, events.prepare(_intake_data(data)))


def _receipt(session: Session, job: ResidentJob) -> tuple[str, str]:
    return report_receipt(session, job.settings, job.data)


def _receipts(session: Session, entries: Sequence[Entry[ResidentJob]]) -> list[tuple[str, str]]:
    """A batch of reports: each within its limits, counting the batch's earlier reports."""
    settings = entries[0].payload.settings
    by_phone: Counter[str] = Counter()
    at_address: Counter[str] = Counter()
    for entry in entries:
        data = entry.payload.data
        phone, address = normalise_phone(data.reporter_phone), data.address.strip()
        _check_limits(
            session,
            settings,
            data,
            earlier_by_phone=by_phone[phone],
            earlier_at_address=at_address[address],
        )
        by_phone[phone] += 1
        at_address[address] += 1
    made = events.create_many(
        session,
        settings,
        [
            events.NewReport(_intake_data(e.payload.data), None, e.context, e.payload.prepared)
            for e in entries
        ],
    )
    return [(event.code or "", event.status) for event, _ in made]


RESIDENT_REPORTS: Batched[ResidentJob, tuple[str, str]] = Batched(_receipt, _receipts)


def _own_event(session: Session, settings: Settings, code: str, phone: str) -> Event:
    """The event, if this phone reported it; the same 404 otherwise (codes are guessable)."""
    event = repository.get_by_code(session, code)
    cipher = events.cipher_for(settings)
    if event is None or event.reporter_phone_hash != cipher.lookup_hash(normalise_phone(phone)):
        raise events.EventNotFound("未找到该编号和手机号对应的事件")
    if event.parent_id:
        # a merged report is followed through its main event
        parent = session.get(Event, event.parent_id)
        if parent is not None:
            return parent
    return event


def view(session: Session, settings: Settings, code: str, phone: str) -> dict[str, Any]:
    event = _own_event(session, settings, code, phone)
    timeline = [
        {"at": row.at, "label": _PUBLIC_ACTIONS[row.action]}
        for row in repository.timeline(session, event.id)
        if row.action in _PUBLIC_ACTIONS
    ]
    return {
        "code": code,
        "title": event.title,
        "status": event.status,
        "status_label": events.STATUS_LABELS[Status(event.status)],
        "reported_at": event.reported_at,
        "closed_at": event.closed_at,
        "reply": event.reply if event.status in (Status.closed, Status.rated) else "",
        "rating": event.rating,
        "can_rate": event.status == Status.closed,
        "timeline": timeline,
    }


def rate(session: Session, settings: Settings, code: str, data: ResidentRating) -> Event:
    event = _own_event(session, settings, code, data.phone)
    return events.apply_transition(
        session,
        settings,
        event,
        _resident(event),
        ActionIn(action="rate", rating=data.rating, rating_comment=data.comment),
    )


#: A resident adds photos right after reporting (the phone page uploads them one by one).
PHOTO_LIMIT = 6
PHOTO_WINDOW = timedelta(hours=1)


def add_photo(
    session: Session, settings: Settings, code: str, phone: str, *, filename: str, data: bytes
) -> Attachment:
    """A photo for one's own report, only while it waits to be accepted and within an hour."""
    event = _own_event(session, settings, code, phone)
    if event.status != Status.reported or utcnow() - event.reported_at > PHOTO_WINDOW:
        raise Conflict("事件已受理或已超过补充时限，不能再添加照片", code="public.photo_closed")
    if len(repository.attachments(session, event.id)) >= PHOTO_LIMIT:
        raise Conflict(f"每个事件最多 {PHOTO_LIMIT} 张照片", code="public.photo_limit")
    return attachments.add(
        session, settings, None, event, kind=AttachmentKind.photo, filename=filename, data=data
    )
