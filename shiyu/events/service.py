"""Intake, reading and the lifecycle of events."""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, Table, insert, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.auth import service as auth_service
from shiyu.auth.access import Actor
from shiyu.auth.enums import RoleCode
from shiyu.config import Settings
from shiyu.duplicates import similarity
from shiyu.errors import Conflict, Forbidden, InvalidInput, NotFound, ShiyuError
from shiyu.events import deadlines, repository, search
from shiyu.events.enums import (
    CLOCK_STATUSES,
    OPEN_STATUSES,
    AssignmentRole,
    Channel,
    Light,
    Rating,
    Status,
)
from shiyu.events.models import (
    Action,
    Assignment,
    CalendarDay,
    Category,
    DeadlineRule,
    Event,
    EventSearch,
    Extension,
    Whistle,
    WhistleCall,
)
from shiyu.events.schemas import ActionIn, EventRead, IntakeData
from shiyu.events.transitions import TABLE, Transition, allowed_actions
from shiyu.group_commit import Batched, Entry
from shiyu.jurisdiction import service as jurisdictions
from shiyu.jurisdiction.enums import Level
from shiyu.kit import bulk, text
from shiyu.kit.clock import utcnow
from shiyu.kit.crypto import Cipher, mask_name, mask_phone, normalise_phone
from shiyu.kit.watch import WatchedCache
from shiyu.notifications import service as notify
from shiyu.privacy import views as personal_data_views

_R = TypeVar("_R")
_SEARCH = cast(Table, EventSearch.__table__)
_ACTIONS = cast(Table, Action.__table__)
_ASSIGNMENTS = cast(Table, Assignment.__table__)

STATUS_LABELS = {
    Status.reported: "已受理",
    Status.accepted: "已立案",
    Status.rejected: "不予受理",
    Status.dispatched: "已派遣",
    Status.returned: "已退单",
    Status.signed: "已签收",
    Status.handling: "处置中",
    Status.replied: "已办结待核查",
    Status.self_resolved: "已自行处置待核查",
    Status.verified: "已核查",
    Status.closed: "已结案",
    Status.rated: "已回访",
    Status.suspended: "挂账",
    Status.cancelled: "已作废",
    Status.merged: "已合并",
}


class EventNotFound(NotFound):
    code = "event.not_found"
    message = "事件不存在或不在您的管辖范围内"


class TransitionNotAllowed(Conflict):
    code = "event.transition_not_allowed"
    message = "当前状态不允许此操作"


class UnknownAction(InvalidInput):
    code = "event.unknown_action"
    message = "未知的操作"


class GuardFailed(Conflict):
    code = "event.guard_failed"
    message = "不满足办理条件"


class TooManyReports(ShiyuError):
    status_code = 429
    code = "event.too_many_reports"
    message = "提交过于频繁，请稍后再试"


def cipher_for(settings: Settings) -> Cipher:
    return Cipher(settings.encryption_keys, settings.secret_key)


def _field_error(field: str, msg: str) -> InvalidInput:
    return InvalidInput(msg, details=[{"loc": ["body", field], "msg": msg, "type": "missing"}])


# ---------------------------------------------------------------- intake


#: the classifier's top classes for a text (label, probability), with the token of the model
#: that gave them (`classify.service.LoadedModel.token`)
Predicted = tuple[str, tuple[tuple[str, float], ...]]


@dataclass(frozen=True)
class Prepared:
    """What storing a report computes from its text alone: normalised fields, search tokens
    and duplicate-search band keys; and the classifier's prediction, when the sender made it
    (`routing.service.predict_ahead`). The API computes it before the report queues for the
    writer, so a writer process (`shiyu.writer_process`) spends its time on the database."""

    title: str
    description: str
    address: str
    search_text: str
    band_keys: tuple[int, ...]
    predicted: Predicted | None = None


def event_code(reported_at: datetime, event_id: int) -> str:
    """一案一码: SY, the local date of the report, the id (every channel numbers events so)."""
    return f"SY{reported_at.astimezone(deadlines.CHINA):%Y%m%d}{event_id:07d}"


#: the lengths of `Event.title` and `Event.address`
TITLE_MAX, ADDRESS_MAX = 200, 300


def stored_text(title: str, description: str, address: str) -> tuple[str, str, str]:
    """A report's title, description and address as every channel stores them: Simplified,
    half-width, no control characters, cut to their columns (a title that normalises to
    nothing keeps what was typed)."""
    return (
        text.normalise(title)[:TITLE_MAX] or title.strip()[:TITLE_MAX],
        text.normalise(description),
        text.normalise(address)[:ADDRESS_MAX],
    )


def prepare(data: IntakeData) -> Prepared:
    title, description, address = stored_text(data.title, data.description, data.address)
    return Prepared(
        title=title,
        description=description,
        address=address,
        # the stored text's tokens, as a migration re-tokenising the events makes them (the
        # text is normalised already: twice more cost a tenth of a report's time in the API)
        search_text=search.document_text(title, description, address, normalised=True),
        band_keys=tuple(similarity.keys_for(similarity.clean(title, description, normalised=True))),
    )


def _place(
    session: Session, settings: Settings, data: IntakeData, located: str | None
) -> tuple[str | None, str, str]:
    """(grid code, scope path, owner code). The owner (首接负责) is the community centre of
    the grid, unless the intake names the receiving unit; without a place, the city.
    `located`: the grid of the report's point (`_located`)."""
    grid_code = data.grid_code or located
    grid = jurisdictions.unit_info(session, grid_code) if grid_code else None
    if grid_code and grid is None:
        raise InvalidInput(
            "网格不存在", details=[{"loc": ["body", "grid_code"], "msg": "unknown grid"}]
        )
    owner_code = data.owner_code or (grid.parent_code if grid else None)
    if owner_code is None:
        root = jurisdictions.get_root(session)
        if root is None:
            raise InvalidInput("系统尚未配置辖区", code="jurisdiction.empty")
        owner_code = root.code
    owner = jurisdictions.unit_info(session, owner_code)
    if owner is None:
        raise InvalidInput("受理单位不存在")
    return grid_code, (grid.path if grid else owner.path), owner.code


def _located(
    session: Session, settings: Settings, reports: Sequence[NewReport]
) -> list[str | None]:
    """The grid of each report's point, when it has one and names no grid: one look-up of
    the grid index for the whole batch."""
    wanted: list[int] = []
    points: list[tuple[float, float]] = []
    for i, report in enumerate(reports):
        data = report.data
        if data.grid_code is None and data.lng is not None and data.lat is not None:
            wanted.append(i)
            points.append((data.lng, data.lat))
    located: list[str | None] = [None] * len(reports)
    if wanted:
        codes = jurisdictions.locate_grid_codes(session, settings, points)
        for i, code in zip(wanted, codes, strict=True):
            located[i] = code
    return located


def intake_receipt(code: str) -> str:
    """The SMS every resident, hotline and Open311 intake sends: the code to follow it by."""
    return f"【市域治理】您反映的问题已受理，编号{code}，可凭编号和手机号查询进度。"


@dataclass(frozen=True)
class NewReport:
    """One report for `create_many`. `context`: the request it came from (its id goes into
    the audit record); None runs in the caller's."""

    data: IntakeData
    actor: Actor | None
    context: contextvars.Context | None = None
    #: `prepare(data)`, when the caller computed it already
    prepared: Prepared | None = None

    def run(self, fn: Callable[..., _R], *args: Any) -> _R:
        return fn(*args) if self.context is None else self.context.run(fn, *args)


def create(
    session: Session,
    settings: Settings,
    data: IntakeData,
    *,
    actor: Actor | None,
) -> tuple[Event, bool]:
    """Every channel ends here (`create_many` for one report)."""
    [created] = create_many(session, settings, [NewReport(data, actor)])
    return created


def create_many(
    session: Session, settings: Settings, reports: Sequence[NewReport]
) -> list[tuple[Event, bool]]:
    """Store reports, in order, as one report after another would be stored, with a flush,
    a classifier run, a duplicate search and one insert per table for all of them (the
    group commit hands its whole batch here). Idempotent on (source, external_id): a record
    sent twice returns the first event and `False`. A report that fails fails them all (the
    caller retries them one by one)."""
    out: list[tuple[Event, bool] | None] = [None] * len(reports)
    fresh: list[tuple[int, Event, str | None]] = []
    band_keys: list[tuple[int, ...]] = []
    documents: list[str] = []
    predicted: list[Predicted | None] = []
    first_of: dict[tuple[str, str], int] = {}
    repeats: list[tuple[int, int]] = []
    located = _located(session, settings, reports)
    for i, report in enumerate(reports):
        source, external_id = report.data.source, report.data.external_id
        if source and external_id:
            key = (source, external_id)
            if key in first_of:  # the same record twice in this batch
                repeats.append((i, first_of[key]))
                continue
            existing = repository.get_by_external(session, source, external_id)
            if existing is not None:
                out[i] = (existing, False)
                continue
            first_of[key] = i
        prepared = report.prepared or prepare(report.data)
        event, phone = report.run(
            _new_event, session, settings, report.data, report.actor, prepared, located[i]
        )
        fresh.append((i, event, phone))
        band_keys.append(prepared.band_keys)
        documents.append(prepared.search_text)
        predicted.append(prepared.predicted)
        out[i] = (event, True)
    events = [event for _, event, _ in fresh]
    # the ids first, so the codes (which hold them) go in with the rows: no UPDATE
    ids = repository.allocate_event_ids(session, len(events)) if events else []
    for event, event_id in zip(events, ids, strict=True):
        event.id = event_id
        event.code = event_code(event.reported_at, event_id)
    session.add_all(events)
    writes = Writes()
    # the report's audit record and first timeline entry before any transition's
    writes.add(
        _ACTIONS,
        [reports[i].run(_record_report, session, event, reports[i].actor) for i, event, _ in fresh],
    )
    from shiyu.routing import service as routing  # late: routing calls back into this module

    # suggestions, and automatic dispatch when the model is confident: in memory, so each
    # event's row goes in once, as it ends up
    routing.plan_intake(session, settings, events, writes, ahead=predicted)
    write_batch(session, writes)
    # one multi-row statement (`kit.bulk`): FTS5 writes an index segment per statement
    bulk.insert_rows(
        session,
        _SEARCH,
        [{"event_id": e.id, "document": d} for e, d in zip(events, documents, strict=True)],
    )
    _announce(session, [(event, phone) for _, event, phone in fresh])
    from shiyu.duplicates import service as duplicates  # late: it builds on this module

    duplicates.flag_new_events(session, settings, events, band_keys=band_keys)
    for i, j in repeats:
        first = out[j]
        assert first is not None
        out[i] = (first[0], False)
    return [created for created in out if created is not None]


def _new_event(
    session: Session,
    settings: Settings,
    data: IntakeData,
    actor: Actor | None,
    ready: Prepared,
    located: str | None,
) -> tuple[Event, str | None]:
    """The event of a report, validated and placed, not yet added; and the reporter's phone
    in clear (for the receipt)."""
    if data.category_code and repository.category(session, data.category_code) is None:
        raise InvalidInput(
            "事件分类不存在",
            code="event.unknown_category",
            details=[{"loc": ["body", "category_code"], "msg": "unknown category"}],
        )
    grid_code, scope_path, owner_code = _place(session, settings, data, located)
    owner = jurisdictions.unit_info(session, owner_code)
    assert owner is not None
    cipher = cipher_for(settings)
    phone = normalise_phone(data.reporter_phone) if data.reporter_phone else None
    event = Event(
        channel=data.channel.value,
        source=data.source,
        external_id=data.external_id,
        title=ready.title,
        description=ready.description,
        category_code=data.category_code,
        appeal_kind=data.appeal_kind.value if data.appeal_kind else None,
        urgency=data.urgency.value,
        lng=data.lng,
        lat=data.lat,
        address=ready.address,
        grid_code=grid_code,
        scope_path=scope_path,
        owner_code=owner.code,
        owner_path=owner.path,
        reporter_name=cipher.encrypt(data.reporter_name),
        reporter_phone=cipher.encrypt(phone),
        reporter_phone_hash=cipher.lookup_hash(phone) if phone else None,
        created_by_id=actor.user_id if actor else None,
        status=Status.reported.value,
        light=Light.none.value,
        reported_at=data.reported_at or utcnow(),
    )
    return event, phone


def _record_report(session: Session, event: Event, actor: Actor | None) -> dict[str, Any]:
    """The report's audit record (added to the session); its first timeline entry (returned:
    `create_many` inserts a batch's entries in one statement, not one ORM object each)."""
    audit.record(
        session,
        actor=actor,
        action="event.report",
        object_type="event",
        object_id=event.code or "",
        scope_path=event.scope_path,
        after={
            "channel": event.channel,
            "title": event.title,
            "owner": event.owner_code,
            "grid": event.grid_code,
        },
    )
    return _action_values(
        event,
        "report",
        None,
        Status.reported,
        actor,
        note="",
        data={"channel": event.channel},
        at=event.reported_at,
    )


#: channels whose reporter gets the code by SMS
_RECEIPT_CHANNELS = frozenset({Channel.resident, Channel.hotline_12345, Channel.open311})


def _announce(session: Session, new: Sequence[tuple[Event, str | None]]) -> None:
    """Tell each receiving centre's dispatchers; send residents their code."""
    notify.notify_many(
        session,
        kind="event.reported",
        messages=[
            (
                notify.users_at(session, event.owner_code, [RoleCode.dispatcher]),
                f"新事件：{event.title}",
                event.id,
            )
            for event, _ in new
        ],
    )
    notify.send_outbound_many(
        session,
        channel="sms",
        messages=[
            notify.Outbound(
                phone, event.reporter_phone or "", intake_receipt(event.code or ""), event.id
            )
            for event, phone in new
            if phone and Channel(event.channel) in _RECEIPT_CHANNELS
        ],
    )


def create_once(
    session: Session,
    settings: Settings,
    data: IntakeData,
    *,
    actor: Actor | None,
) -> tuple[Event, bool]:
    """`create` for records that carry (source, external_id) and may arrive twice at the same
    moment (a retried request, a redelivered alarm): `create`'s check can be passed by both,
    and the loser of the unique insert then returns the winner's event. The savepoint keeps
    the caller's transaction usable after the lost race."""
    if not (data.source and data.external_id):
        return create(session, settings, data, actor=actor)  # nothing to race for
    try:
        with session.begin_nested():
            return create(session, settings, data, actor=actor)
    except IntegrityError:
        existing = repository.get_by_external(session, data.source, data.external_id)
        if existing is None:
            raise
        return existing, False


def create_and_read(
    session: Session, settings: Settings, data: IntakeData, *, actor: Actor
) -> tuple[dict[str, Any], bool]:
    """The report and its answer, computed in the caller's transaction."""
    event, created = create_once(session, settings, data, actor=actor)
    return _answer(session, settings, event, actor, created)


def _answer(
    session: Session, settings: Settings, event: Event, actor: Actor, created: bool
) -> tuple[dict[str, Any], bool]:
    """The answer to a report; the unmasked reporter shown to the reporter is audited in the
    same transaction."""
    read = to_read(session, settings, event, actor)
    log = personal_data_views.pending()
    if log is not None:
        personal_data_views.flush(session, log)
    return read, created


@dataclass(frozen=True)
class StaffReport:
    """`POST /events` as a group-commit job (`shiyu.group_commit`)."""

    settings: Settings
    data: IntakeData
    actor: Actor
    prepared: Prepared | None = None


def _staff_report(session: Session, job: StaffReport) -> tuple[dict[str, Any], bool]:
    return create_and_read(session, job.settings, job.data, actor=job.actor)


def _staff_reports(
    session: Session, entries: Sequence[Entry[StaffReport]]
) -> list[tuple[dict[str, Any], bool]]:
    settings = entries[0].payload.settings
    reports = [
        NewReport(e.payload.data, e.payload.actor, e.context, e.payload.prepared) for e in entries
    ]
    made = create_many(session, settings, reports)
    return [
        report.run(_answer, session, settings, event, e.payload.actor, created)
        for report, e, (event, created) in zip(reports, entries, made, strict=True)
    ]


STAFF_REPORTS: Batched[StaffReport, tuple[dict[str, Any], bool]] = Batched(
    _staff_report, _staff_reports
)


# ---------------------------------------------------------------- reading


REPORTER_FIELDS = ["reporter_name", "reporter_phone"]


def _sees_reporter(actor: Actor | None, event: Event) -> bool:
    if actor is None:
        return False
    if RoleCode.dispatcher in actor.roles:
        return True
    return RoleCode.department_handler in actor.roles and (
        actor.department_id is not None and actor.department_id == event.lead_department_id
    )


@functools.cache
def _read_fields() -> tuple[str, ...]:
    """The fields of `EventRead` an event has as they are (its columns and properties)."""
    return tuple(c for c in EventRead.model_fields if hasattr(Event, c))


def to_read(
    session: Session, settings: Settings, event: Event, actor: Actor | None
) -> dict[str, Any]:
    cipher = cipher_for(settings)
    name = cipher.decrypt(event.reporter_name)
    phone = cipher.decrypt(event.reporter_phone)
    if not _sees_reporter(actor, event):
        name, phone = mask_name(name), mask_phone(phone)
    elif name or phone:  # shown unmasked: audited once per request (shiyu.privacy.views)
        personal_data_views.note(
            actor, "event", event.code or str(event.id), event.scope_path, REPORTER_FIELDS
        )
    parent = repository.codes_of(session, [event.parent_id]) if event.parent_id else {}
    return {
        **{c: getattr(event, c) for c in _read_fields()},
        "reporter_name": name,
        "reporter_phone": phone,
        "parent_code": parent.get(event.parent_id) if event.parent_id else None,
        "allowed_actions": allowed_actions(event.status, actor.roles) if actor else [],
    }


def get_event(session: Session, actor: Actor, code: str) -> Event:
    event = repository.get_readable(session, actor, code)
    if event is None:
        raise EventNotFound()
    return event


def detail(session: Session, settings: Settings, actor: Actor, code: str) -> dict[str, Any]:
    event = get_event(session, actor, code)
    return {
        **to_read(session, settings, event, actor),
        "timeline": repository.timeline(session, event.id),
        "attachments": repository.attachments(session, event.id),
        "assignments": repository.assignments(session, event.id),
        "children_codes": repository.children_codes(session, event.id),
        "suggestion": _suggestion(session, event.id),
    }


def _suggestion(session: Session, event_id: int) -> Any:
    from shiyu.routing import service as routing  # late, as in create()

    return routing.suggestion_view(session, event_id)


def list_events(
    session: Session,
    actor: Actor,
    flt: repository.ListFilter,
    *,
    sort: repository.ListSort = repository.ListSort.reported_at,
    cursor: str | None,
    size: int,
    with_total: bool,
) -> tuple[Sequence[Event], str | None, int | None]:
    stmt = repository.readable_by(actor)
    now = utcnow()
    rows, next_cursor = repository.page(
        session, stmt, flt, now=now, sort=sort, cursor=cursor, size=size
    )
    total = repository.count(session, stmt, flt, now=now) if with_total else None
    return rows, next_cursor, total


# ---------------------------------------------------------------- lifecycle


@dataclass
class Ctx:
    session: Session
    settings: Settings
    event: Event
    actor: Actor
    data: ActionIn
    now: datetime
    #: extra facts for the timeline and the audit record
    facts: dict[str, Any]
    #: where the transition leaves its rows (the caller's batch, or its own: `Writes`)
    writes: Writes
    #: a status that overrides the table's target (e.g. 重办 after a dissatisfied rating)
    target: Status | None = None


@dataclass
class Writes:
    """Rows that refer to events, left to be inserted together by `write_batch` once the
    events are flushed: a batch of reports stores its events with their final state (each
    already dispatched when the model is confident: no second version of the row) and then
    their timeline, assignments and suggestions, one statement per table (on SQLite the ORM
    would insert such rows one statement each, to learn their ids). Every transition leaves
    its rows in one (`apply_transition`); with `batch=writes` several transitions share it."""

    #: per table, in the order each was first given rows
    rows: dict[Table, list[dict[str, Any]]] = field(default_factory=dict)
    #: per notification kind: (users, title, event id)
    notices: dict[str, list[tuple[list[int], str, int]]] = field(default_factory=dict)

    def add(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        self.rows.setdefault(table, []).extend(rows)

    def notify(self, kind: str, messages: Sequence[tuple[list[int], str, int]]) -> None:
        self.notices.setdefault(kind, []).extend(messages)


def write_batch(session: Session, writes: Writes) -> None:
    """Flush the events, then insert the rows left for them."""
    session.flush()
    for table, rows in writes.rows.items():
        if rows:
            session.connection().execute(insert(table), rows)
    for kind, messages in writes.notices.items():
        notify.notify_many(session, kind=kind, messages=messages)


Effect = Callable[[Ctx], None]


#: every dispatch computes deadlines (an automatic one with each confident report): the
#: calendar and the limits per category and urgency are cached per process
_calendars: WatchedCache[str, deadlines.WorkCalendar] = WatchedCache(
    "work-calendar", (CalendarDay,), ttl=60.0
)
_limit_rules: WatchedCache[tuple[str | None, str], deadlines.Limits] = WatchedCache(
    "deadline-limits", (DeadlineRule, Category), ttl=60.0
)


def _calendar(session: Session) -> deadlines.WorkCalendar:
    def load() -> deadlines.WorkCalendar:
        days = repository.calendar_days(session)
        return deadlines.WorkCalendar(
            holidays=frozenset(d.day for d in days if not d.is_workday),
            workdays=frozenset(d.day for d in days if d.is_workday),
        )

    return _calendars.get_or_load(session, "calendar", load)


def _limits(session: Session, event: Event) -> deadlines.Limits:
    def load() -> deadlines.Limits:
        rule = repository.deadline_rule(session, event.category_code, event.urgency)
        if rule is None:
            return deadlines.Limits(sign_hours=2, finish_working_days=5, finish_hours=None)
        return deadlines.Limits(rule.sign_hours, rule.finish_working_days, rule.finish_hours)

    return _limit_rules.get_or_load(session, (event.category_code, event.urgency), load)


def _start_clock(ctx: Ctx) -> None:
    """The clock starts at dispatch (and again on 重办)."""
    event = ctx.event
    event.dispatched_at = ctx.now
    event.sign_deadline, event.finish_deadline = deadlines.deadlines(
        ctx.now, _limits(ctx.session, event), _calendar(ctx.session)
    )
    event.signed_at = event.replied_at = event.verified_at = event.closed_at = None
    event.signed_on_time = event.finished_on_time = None


def refresh_light(event: Event, now: datetime, settings: Settings) -> None:
    if event.dispatched_at and event.finish_deadline:
        span = event.finish_deadline - event.dispatched_at
        event.yellow_at = event.dispatched_at + span * settings.yellow_at
    else:
        event.yellow_at = None
    if event.status in CLOCK_STATUSES:
        event.light = deadlines.light(
            now, event.dispatched_at, event.finish_deadline, yellow_at=settings.yellow_at
        ).value
    else:
        event.light = Light.none.value


def _require(ctx: Ctx, value: object, field: str, msg: str) -> None:
    if value in (None, "", []):
        raise _field_error(field, msg)


def _in_centre_scope(ctx: Ctx) -> None:
    """Dispatchers act on events owned by their unit or below (首接负责; after escalation
    the lower unit may no longer act)."""
    if not ctx.actor.covers(ctx.event.owner_path):
        raise Forbidden("该事件已由上级或其他单位负责", code="event.not_owner")


def _on_site(ctx: Ctx) -> None:
    if RoleCode.dispatcher in ctx.actor.roles and ctx.actor.covers(ctx.event.owner_path):
        return
    if RoleCode.grid_worker in ctx.actor.roles and ctx.actor.covers(ctx.event.scope_path):
        return
    raise Forbidden("不在您的网格或辖区内", code="event.not_on_site")


def _lead_handler(ctx: Ctx) -> None:
    if ctx.actor.department_id is None or ctx.actor.department_id != ctx.event.lead_department_id:
        raise Forbidden("只有主办单位可以执行此操作", code="event.not_lead")


def _department(ctx: Ctx, dep_id: int, field: str) -> int:
    try:
        return auth_service.get_department(ctx.session, ctx.actor, dep_id).id
    except NotFound as exc:
        raise InvalidInput(
            "部门不存在或不在可派遣范围内",
            code="event.unknown_department",
            details=[{"loc": ["body", field], "msg": "unknown department", "input": dep_id}],
        ) from exc


def _set_assignments(ctx: Ctx, lead_id: int, assist_ids: list[int]) -> None:
    session, event = ctx.session, ctx.event
    # an event gets its first assignments here, with its lead unit (never unset again): one
    # without a lead has none to read (a batch of new events dispatched saves a query each)
    current = (
        {a.department_id: a for a in repository.assignments(session, event.id)}
        if event.lead_department_id is not None
        else {}
    )
    for old in current.values():
        old.active = False
    fresh: list[dict[str, Any]] = []
    for dep_id, role in [(lead_id, AssignmentRole.lead)] + [
        (d, AssignmentRole.assist) for d in assist_ids if d != lead_id
    ]:
        row = current.get(dep_id)
        if row is None:  # a new row: no ORM object (nothing reads it back here)
            fresh.append(_assignment_values(event.id, dep_id, role, ctx.now))
            continue
        row.role, row.active, row.dispatched_at = role.value, True, ctx.now
        row.signed_at = row.replied_at = None
        row.reply = ""
    event.lead_department_id = lead_id
    messages = [
        (notify.users_of_department(session, dep_id), f"待签收：{event.title}", event.id)
        for dep_id in sorted({lead_id, *assist_ids})
    ]
    ctx.writes.add(_ASSIGNMENTS, fresh)
    ctx.writes.notify("event.dispatched", messages)


def _assignment_values(
    event_id: int, department_id: int, role: AssignmentRole, now: datetime
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "department_id": department_id,
        "role": role.value,
        "dispatched_at": now,
        "signed_at": None,
        "replied_at": None,
        "reply": "",
        "active": True,
    }


def _lead_assignment(ctx: Ctx) -> Assignment | None:
    for row in repository.assignments(ctx.session, ctx.event.id):
        if row.active and row.role == AssignmentRole.lead:
            return row
    return None


# --- effects, one per action that needs more than a status change


def _accept(ctx: Ctx) -> None:
    _in_centre_scope(ctx)
    ctx.event.accepted_at = ctx.now


def _reject(ctx: Ctx) -> None:
    _in_centre_scope(ctx)
    ctx.event.closed_at = ctx.now


def _merge(ctx: Ctx) -> None:
    _in_centre_scope(ctx)
    _require(ctx, ctx.data.parent_code, "parent_code", "须指定主单编号")
    parent = repository.get_readable(ctx.session, ctx.actor, ctx.data.parent_code or "")
    if parent is None:
        raise InvalidInput(
            "主单不存在",
            code="event.unknown_parent",
            details=[{"loc": ["body", "parent_code"], "msg": "unknown event"}],
        )
    if parent.id == ctx.event.id or parent.status not in OPEN_STATUSES or parent.parent_id:
        raise GuardFailed("主单须为另一件未办结且未被合并的事件")
    ctx.event.parent_id = parent.id
    ctx.facts["parent_code"] = parent.code


def _dispatch(ctx: Ctx) -> None:
    _in_centre_scope(ctx)
    _require(ctx, ctx.data.lead_department_id, "lead_department_id", "须指定主办单位")
    lead = _department(ctx, ctx.data.lead_department_id or 0, "lead_department_id")
    assists = [_department(ctx, d, "assist_department_ids") for d in ctx.data.assist_department_ids]
    if ctx.event.accepted_at is None:
        ctx.event.accepted_at = ctx.now
    _set_assignments(ctx, lead, assists)
    _start_clock(ctx)
    ctx.facts.update(lead_department_id=lead, assist_department_ids=assists)


def _rule_final(ctx: Ctx) -> None:
    _in_centre_scope(ctx)
    lead = ctx.data.lead_department_id or ctx.event.lead_department_id
    _require(ctx, lead, "lead_department_id", "须指定主办单位")
    lead = _department(ctx, lead or 0, "lead_department_id")
    _set_assignments(ctx, lead, ctx.data.assist_department_ids)
    _start_clock(ctx)
    ctx.facts.update(lead_department_id=lead, final=True)


def _return(ctx: Ctx) -> None:
    _lead_handler(ctx)
    last = _last_dispatch(ctx)
    if last is not None and last.data.get("final"):
        raise GuardFailed("该事件已由中心审定派遣，不能再次退单", code="event.ruled_final")
    ctx.event.return_count += 1
    ctx.event.sign_deadline = ctx.event.finish_deadline = None
    notify.notify_users(
        ctx.session,
        notify.users_at(ctx.session, ctx.event.owner_code, [RoleCode.dispatcher]),
        kind="event.returned",
        title=f"退单：{ctx.event.title}",
        body=ctx.data.reason,
        event_id=ctx.event.id,
    )


def _last_dispatch(ctx: Ctx) -> Action | None:
    for row in reversed(repository.timeline(ctx.session, ctx.event.id)):
        if row.action in ("dispatch", "rule_final", "rate"):
            return row
    return None


def _sign(ctx: Ctx) -> None:
    _lead_handler(ctx)
    event = ctx.event
    event.signed_at = ctx.now
    event.signed_on_time = event.sign_deadline is None or ctx.now <= event.sign_deadline
    lead = _lead_assignment(ctx)
    if lead:
        lead.signed_at = ctx.now


def _start(ctx: Ctx) -> None:
    _lead_handler(ctx)


def _assist_reply(ctx: Ctx) -> None:
    _require(ctx, ctx.data.reply, "reply", "须填写反馈内容")
    for row in repository.assignments(ctx.session, ctx.event.id):
        if (
            row.active
            and row.role == AssignmentRole.assist
            and row.department_id == ctx.actor.department_id
        ):
            row.replied_at, row.reply = ctx.now, ctx.data.reply
            return
    raise Forbidden("只有协办单位可以提交协办反馈", code="event.not_assisting")


def _reply(ctx: Ctx) -> None:
    _lead_handler(ctx)
    _require(ctx, ctx.data.reply, "reply", "须填写办理结果")
    event = ctx.event
    event.reply, event.replied_at = ctx.data.reply, ctx.now
    event.finished_on_time = event.finish_deadline is None or ctx.now <= event.finish_deadline
    lead = _lead_assignment(ctx)
    if lead:
        lead.replied_at, lead.reply = ctx.now, ctx.data.reply
    notify.notify_users(
        ctx.session,
        notify.users_at(ctx.session, event.owner_code, [RoleCode.dispatcher]),
        kind="event.replied",
        title=f"待核查：{event.title}",
        event_id=event.id,
    )


def _verify(ctx: Ctx) -> None:
    _on_site(ctx)
    ctx.event.verified_at = ctx.now


def _rework(ctx: Ctx) -> None:
    _on_site(ctx)
    ctx.event.rework_count += 1
    ctx.event.replied_at = None


def _self_resolve(ctx: Ctx) -> None:
    if not ctx.actor.covers(ctx.event.scope_path):
        raise Forbidden("只能处置本网格内的事件", code="event.not_on_site")
    kinds = repository.attachment_kinds(ctx.session, ctx.event.id)
    if not {"before", "after"} <= kinds:
        raise GuardFailed("自行处置须上传处置前、处置后照片", code="event.photos_required")
    ctx.event.accepted_at = ctx.event.accepted_at or ctx.now
    ctx.event.replied_at = ctx.now
    ctx.event.reply = ctx.data.reply or ctx.data.reason or "网格员现场自行处置"


def _reject_self_resolution(ctx: Ctx) -> None:
    _in_centre_scope(ctx)
    ctx.event.replied_at = None


def _close(ctx: Ctx) -> None:
    _in_centre_scope(ctx)
    event = ctx.event
    event.closed_at = ctx.now
    phone = cipher_for(ctx.settings).decrypt(event.reporter_phone)
    if phone:
        notify.send_outbound(
            ctx.session,
            cipher_for(ctx.settings),
            channel="sms",
            recipient=phone,
            event_id=event.id,
            body=f"【市域治理】您反映的问题（编号{event.code}）已办结：{event.reply[:200]}",
        )


def _rate(ctx: Ctx) -> None:
    if RoleCode.dispatcher in ctx.actor.roles and ctx.actor.user_id is not None:
        _in_centre_scope(ctx)
    _require(ctx, ctx.data.rating, "rating", "须选择满意度")
    event = ctx.event
    event.rating = ctx.data.rating.value if ctx.data.rating else None
    event.rating_comment = ctx.data.rating_comment
    event.rated_at = ctx.now
    # a resident rating on the page has reached them; a callback says whether it did
    event.callback_contacted = True if ctx.data.contacted is None else ctx.data.contacted
    event.callback_resolved = (
        ctx.data.resolved
        if ctx.data.resolved is not None
        else ctx.data.rating is not Rating.dissatisfied
    )
    if ctx.data.rating is Rating.dissatisfied and event.lead_department_id is not None:
        # 重办: back to the same lead unit with a new clock
        event.reopen_count += 1
        ctx.target = Status.dispatched
        _set_assignments(ctx, event.lead_department_id, [])
        _start_clock(ctx)
        ctx.facts["reopened"] = True


def _suspend(ctx: Ctx) -> None:
    _in_centre_scope(ctx)
    ctx.event.sign_deadline = ctx.event.finish_deadline = None


def _resume(ctx: Ctx) -> None:
    _in_centre_scope(ctx)


def _cancel(ctx: Ctx) -> None:
    _in_centre_scope(ctx)
    ctx.event.closed_at = ctx.now


def _escalate(ctx: Ctx) -> None:
    _on_site(ctx)
    event = ctx.event
    owner = jurisdictions.get_unit(ctx.session, event.owner_code)
    assert owner is not None
    if owner.parent_code is None:
        raise GuardFailed("已是市级，无法继续上报", code="event.top_level")
    parent = jurisdictions.get_unit(ctx.session, owner.parent_code)
    assert parent is not None
    event.owner_code, event.owner_path = parent.code, parent.path
    event.escalation_count += 1
    ctx.facts.update(from_owner=owner.code, to_owner=parent.code)
    notify.notify_users(
        ctx.session,
        notify.users_at(ctx.session, parent.code, [RoleCode.dispatcher]),
        kind="event.escalated",
        title=f"下级上报：{event.title}",
        body=ctx.data.reason,
        event_id=event.id,
    )


def _request_extension(ctx: Ctx) -> None:
    _lead_handler(ctx)
    _require(ctx, ctx.data.working_days, "working_days", "须填写延期工作日数")
    if ctx.event.finish_deadline is not None and ctx.now >= ctx.event.finish_deadline:
        raise GuardFailed("延期须在办理期限届满前申请", code="event.extension_too_late")
    if repository.pending_extension(ctx.session, ctx.event.id):
        raise GuardFailed("已有待审批的延期申请", code="event.extension_pending")
    ctx.session.add(
        Extension(
            event_id=ctx.event.id,
            working_days=ctx.data.working_days or 1,
            reason=ctx.data.reason,
            requested_by_id=ctx.actor.user_id,
            requested_at=ctx.now,
        )
    )
    ctx.facts["working_days"] = ctx.data.working_days


def _decide_extension(ctx: Ctx) -> None:
    _in_centre_scope(ctx)
    _require(ctx, ctx.data.approve, "approve", "须选择批准或不批准")
    ext = repository.pending_extension(ctx.session, ctx.event.id)
    if ext is None:
        raise GuardFailed("没有待审批的延期申请", code="event.no_extension")
    ext.status = "approved" if ctx.data.approve else "refused"
    ext.decided_by_id, ext.decided_at = ctx.actor.user_id, ctx.now
    if ctx.data.approve and ctx.event.finish_deadline is not None:
        ctx.event.finish_deadline = _calendar(ctx.session).add_working_days(
            ctx.event.finish_deadline, ext.working_days
        )
        ctx.event.extended = True
    ctx.facts.update(approved=bool(ctx.data.approve), working_days=ext.working_days)


def _whistle(ctx: Ctx) -> None:
    """吹哨: only a street (township) centre summons departments."""
    _in_centre_scope(ctx)
    if ctx.actor.level != Level.street:
        raise Forbidden("吹哨须由街道（乡镇）综治中心发起", code="event.whistle_street_only")
    _require(ctx, ctx.data.whistle_type, "whistle_type", "须选择哨类型")
    _require(ctx, ctx.data.department_ids, "department_ids", "须选择报到部门")
    deps = [_department(ctx, d, "department_ids") for d in ctx.data.department_ids]
    whistle = Whistle(
        event_id=ctx.event.id,
        street_code=ctx.actor.jurisdiction_code,
        type=ctx.data.whistle_type.value if ctx.data.whistle_type else "daily",
        reason=ctx.data.reason,
        issued_by_id=ctx.actor.user_id,
        issued_at=ctx.now,
    )
    ctx.session.add(whistle)
    ctx.session.flush()
    limit = timedelta(minutes=ctx.settings.checkin_minutes)
    for dep_id in sorted(set(deps)):
        ctx.session.add(
            WhistleCall(
                whistle_id=whistle.id, department_id=dep_id, checkin_deadline=ctx.now + limit
            )
        )
        notify.notify_users(
            ctx.session,
            notify.users_of_department(ctx.session, dep_id),
            kind="event.whistle",
            title=f"吹哨报到（{ctx.settings.checkin_minutes}分钟内）：{ctx.event.title}",
            event_id=ctx.event.id,
        )
    ctx.facts.update(whistle_type=whistle.type, department_ids=sorted(set(deps)))


def _checkin(ctx: Ctx) -> None:
    if ctx.actor.department_id is None:
        raise Forbidden("只有被召集的部门可以报到", code="event.not_summoned")
    calls = [
        c
        for c in repository.open_calls(ctx.session, ctx.event.id, ctx.actor.department_id)
        if c.checked_in_at is None
    ]
    if not calls:
        raise GuardFailed("没有待报到的吹哨", code="event.no_whistle")
    for call in calls:
        call.checked_in_at, call.checked_in_by_id = ctx.now, ctx.actor.user_id
        ctx.facts["on_time"] = ctx.now <= call.checkin_deadline


def _rate_checkin(ctx: Ctx) -> None:
    _in_centre_scope(ctx)
    _require(ctx, ctx.data.department_id, "department_id", "须指定被评价部门")
    _require(ctx, ctx.data.score, "score", "须给出评分")
    calls = repository.open_calls(ctx.session, ctx.event.id, ctx.data.department_id or 0)
    if not calls:
        raise GuardFailed("该部门未被召集", code="event.not_summoned")
    calls[-1].rating, calls[-1].rating_comment = ctx.data.score, ctx.data.reason
    ctx.facts.update(department_id=ctx.data.department_id, score=ctx.data.score)


EFFECTS: dict[str, Effect] = {
    "accept": _accept,
    "reject": _reject,
    "merge": _merge,
    "dispatch": _dispatch,
    "rule_final": _rule_final,
    "return": _return,
    "sign": _sign,
    "start": _start,
    "assist_reply": _assist_reply,
    "reply": _reply,
    "verify": _verify,
    "rework": _rework,
    "self_resolve": _self_resolve,
    "reject_self_resolution": _reject_self_resolution,
    "close": _close,
    "rate": _rate,
    "suspend": _suspend,
    "resume": _resume,
    "cancel": _cancel,
    "escalate": _escalate,
    "request_extension": _request_extension,
    "decide_extension": _decide_extension,
    "whistle": _whistle,
    "checkin": _checkin,
    "rate_checkin": _rate_checkin,
}
assert EFFECTS.keys() == TABLE.keys(), "every transition needs its effect"


def _action_values(
    event: Event,
    action: str,
    before: str | None,
    after: str,
    actor: Actor | None,
    *,
    note: str,
    data: dict[str, Any],
    at: datetime | None = None,
) -> dict[str, Any]:
    """The columns of one timeline entry."""
    return {
        "event_id": event.id,
        "action": action,
        "from_status": before,
        "to_status": after,
        "actor_id": actor.user_id if actor else None,
        "actor_name": (actor.display_name if actor else "系统")[:64],
        "at": at or utcnow(),
        "note": note,
        "data": data,
    }


def apply_transition(
    session: Session,
    settings: Settings,
    event: Event,
    actor: Actor,
    data: ActionIn,
    *,
    now: datetime | None = None,
    batch: Writes | None = None,
) -> Event:
    """Check the table, run the action's guard and effects, then write the timeline and the
    audit record and recompute the light — all in the caller's transaction. The rows it
    makes (timeline entry, new assignments, notices) are written by `write_batch`, at its end;
    with `batch`, they are left there and the event is not flushed (several transitions in a
    row write each event once, and their rows together)."""
    transition: Transition | None = TABLE.get(data.action)
    if transition is None:
        raise UnknownAction(
            details=[{"loc": ["body", "action"], "input": data.action, "allowed": sorted(TABLE)}]
        )
    allowed = allowed_actions(event.status, actor.roles)
    if event.status not in transition.sources:
        raise TransitionNotAllowed(
            f"事件当前为“{STATUS_LABELS[Status(event.status)]}”，不能{transition.label}",
            details=[{"status": event.status, "allowed_actions": allowed}],
        )
    if not transition.roles & actor.roles:
        raise Forbidden(
            f"您的角色不能{transition.label}",
            code="event.role_not_allowed",
            details=[{"allowed_actions": allowed}],
        )
    if transition.needs_reason and not data.reason.strip():
        raise _field_error("reason", f"{transition.label}须填写理由")
    before = event.status
    writes = batch if batch is not None else Writes()
    ctx = Ctx(session, settings, event, actor, data, now or utcnow(), facts={}, writes=writes)
    EFFECTS[transition.action](ctx)
    target = ctx.target or transition.target
    if target is not None:
        event.status = target.value
    refresh_light(event, ctx.now, settings)
    note = data.reason or data.reply
    timeline = _action_values(
        event, transition.action, before, event.status, actor, note=note, data=ctx.facts, at=ctx.now
    )
    audit.record(
        session,
        actor=actor,
        action=f"event.{transition.action}",
        object_type="event",
        object_id=event.code or str(event.id),
        scope_path=event.scope_path,
        before={"status": before},
        after={"status": event.status, **ctx.facts},
        extra={"note": note} if note else None,
    )
    writes.add(_ACTIONS, [timeline])
    if batch is None:
        write_batch(session, writes)
    return event


def act(session: Session, settings: Settings, actor: Actor, code: str, data: ActionIn) -> Event:
    return apply_transition(session, settings, get_event(session, actor, code), actor, data)


# ---------------------------------------------------------------- to-do


TODO_STATUSES: dict[str, frozenset[Status]] = {
    RoleCode.dispatcher: frozenset(
        {
            Status.reported,
            Status.accepted,
            Status.returned,
            Status.replied,
            Status.self_resolved,
            Status.verified,
            Status.closed,
        }
    ),
    RoleCode.department_handler: frozenset({Status.dispatched, Status.signed, Status.handling}),
    RoleCode.grid_worker: frozenset({Status.replied, Status.self_resolved}),
}


@dataclass
class TodoPage:
    #: per status, over the to-do list with every filter but the status (the tabs' badges)
    counts: dict[str, int]
    #: red and yellow lights over the filtered to-do list
    lights: dict[str, int]
    items: Sequence[Event]
    next_cursor: str | None


def _todo_statement(actor: Actor) -> Select[Event] | None:
    """What waits for the actor: their centre's, department's or grid's events in the statuses
    where they act next; None when no role of theirs has a to-do list."""
    conditions: list[ColumnElement[bool]] = []
    for role, statuses in TODO_STATUSES.items():
        if role not in actor.roles:
            continue
        cond = Event.status.in_([s.value for s in statuses])
        if role == RoleCode.dispatcher:
            conditions.append(cond & (Event.owner_code == actor.jurisdiction_code))
        elif role == RoleCode.department_handler and actor.department_id is not None:
            conditions.append(cond & (Event.lead_department_id == actor.department_id))
        elif role == RoleCode.grid_worker:
            conditions.append(cond)
    if not conditions:
        return None
    return repository.readable_by(actor).where(or_(*conditions))


def todo_page(
    session: Session,
    actor: Actor,
    flt: repository.ListFilter,
    *,
    sort: repository.ListSort = repository.ListSort.reported_at_asc,
    cursor: str | None = None,
    size: int,
) -> TodoPage:
    """我的待办 with the list filters, sorted and paginated like the lists (oldest first)."""
    lights = {Light.red.value: 0, Light.yellow.value: 0}
    stmt = _todo_statement(actor)
    if stmt is None:
        return TodoPage({}, lights, [], None)
    now = utcnow()
    rows, next_cursor = repository.page(
        session, stmt, flt, now=now, sort=sort, cursor=cursor, size=size
    )
    counts = repository.count_by(session, stmt, replace(flt, status=None), "status", now=now)
    by_light = repository.count_by(session, stmt, flt, "light", now=now)
    lights = {light: by_light.get(light, 0) for light in lights}
    return TodoPage(counts, lights, rows, next_cursor)


def todo(session: Session, actor: Actor, *, size: int) -> tuple[dict[str, int], Sequence[Event]]:
    """What waits for the actor: counts per status and the oldest items first."""
    result = todo_page(session, actor, repository.ListFilter(), size=size)
    return result.counts, result.items
