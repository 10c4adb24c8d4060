"""The deadline sweep: traffic lights, supervision (督办) on red, escalation of supervision
after a further delay. Idempotent, set-based (fast over millions of open events) and safe when
several processes run it at once: a lease lets one run at a time, and even without it every
insert is ON CONFLICT DO NOTHING on (event, level), so nothing is created or announced twice."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, case, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shiyu.auth.enums import RoleCode
from shiyu.auth.models import Role, User
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.events.enums import CLOCK_STATUSES, Light
from shiyu.events.models import Event, Supervision
from shiyu.jurisdiction import service as jurisdictions
from shiyu.kit import leases
from shiyu.kit.clock import utcnow
from shiyu.notifications import service as notify

log = logging.getLogger("shiyu.jobs")
LEASE = "events.sweep"
_CLOCK = [s.value for s in CLOCK_STATUSES]
_EVENTS = cast(Table, Event.__table__)


@dataclass
class SweepReport:
    ran: bool
    turned_red: int = 0
    turned_yellow: int = 0
    turned_green: int = 0
    supervisions: int = 0
    escalations: int = 0
    resolved: int = 0
    seconds: float = 0.0
    #: seconds of each stage, for the operator and the benchmark
    stages: dict[str, float] = field(default_factory=dict)
    notified: list[int] = field(default_factory=list)


def _insert_ignore(session: Session, rows: list[dict[str, object]]) -> list[int]:
    """Insert supervisions, skipping (event, level) pairs that exist; ids of new rows."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Supervision.__table__
    assert isinstance(table, Table)
    # one cached statement run with many parameter sets (batched by the driver layer);
    # `.values(rows)` compiled a new thousand-row statement for every batch
    stmt = (
        ins(table)
        .on_conflict_do_nothing(index_elements=["event_id", "level"])
        .returning(table.c.event_id)
    )
    return list(session.connection().execute(stmt, rows).scalars())


def _target_light(now: datetime) -> ColumnElement[str]:
    """The light a running clock shows now (as `deadlines.light`): red once overdue, yellow
    from `yellow_at`, green before."""
    return case(
        (_EVENTS.c.finish_deadline <= now, Light.red.value),
        (_EVENTS.c.yellow_at <= now, Light.yellow.value),
        else_=Light.green.value,
    )


def _lights(session: Session, now: datetime, report: SweepReport) -> None:
    """One pass over the running clocks: every event whose light is not what its deadlines
    say now gets that light, in one UPDATE (three, one per colour, read the open events three
    times; a million in a first sweep). Also corrects lights that an extension made early."""
    target = _target_light(now)
    changed = (
        update(_EVENTS)
        .where(
            _EVENTS.c.status.in_(_CLOCK),
            _EVENTS.c.finish_deadline.is_not(None),
            _EVENTS.c.yellow_at.is_not(None),
            _EVENTS.c.light != target,
        )
        .values(light=target)
        .returning(_EVENTS.c.light)
    )
    counts: Counter[str] = Counter()
    if session.get_bind().dialect.name == "postgresql":
        # counted in the database: a first sweep changes a million rows
        cte = changed.cte("changed")
        for light, n in session.execute(select(cte.c.light, func.count()).group_by(cte.c.light)):
            counts[light] = n
    else:
        counts.update(session.scalars(changed))
    report.turned_red = counts[Light.red.value]
    report.turned_yellow = counts[Light.yellow.value]
    report.turned_green = counts[Light.green.value]


def _supervisors_by_path(session: Session) -> dict[str, list[int]]:
    """Active supervisors by the path of their jurisdiction (a city has a few hundred)."""
    found: dict[str, list[int]] = {}
    for user_id, path in session.execute(
        select(User.id, User.jurisdiction_path)
        .where(User.is_active.is_(True), User.roles.any(Role.code == RoleCode.supervisor))
        .order_by(User.id)
    ):
        found.setdefault(path, []).append(user_id)
    return found


def _ancestor_paths(path: str) -> list[str]:
    """'/a/b/c/' -> ['/a/', '/a/b/', '/a/b/c/']: the units whose subtree holds the path."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _new_supervisions(session: Session, now: datetime, report: SweepReport, batch: int) -> None:
    """One read of every red event without a supervision, then inserts and announcements in
    batches. Reading batch by batch re-read the red events each time: right after the lights
    turned, the planner's statistics still say red is rare, and 50 batches of a first sweep
    over a million events took most of its time."""
    no_supervision = ~exists().where(Supervision.event_id == Event.id)
    rows = session.execute(
        select(Event.id, Event.owner_code)
        .where(Event.light == Light.red.value, Event.status.in_(_CLOCK), no_supervision)
        .order_by(Event.id)
    ).all()
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        created = _insert_ignore(
            session,
            [
                {
                    "event_id": eid,
                    "level": 1,
                    "reason": "超期未办结",
                    "owner_code": owner,
                    "created_at": now,
                }
                for eid, owner in chunk
            ],
        )
        report.supervisions += len(created)
        _announce(session, created, level=1)


def _announce(session: Session, event_ids: list[int], *, level: int) -> None:
    """Tell the handling department and the supervisors over the event. Four statements per
    batch whatever its size: a first sweep after an import may announce thousands of events,
    and two queries per event made that take minutes."""
    if not event_ids:
        return
    events = session.execute(
        select(Event.id, Event.title, Event.scope_path, Event.lead_department_id)
        .where(Event.id.in_(event_ids))
        .order_by(Event.id)
    ).all()
    supervisors = _supervisors_by_path(session)
    departments = {e.lead_department_id for e in events if e.lead_department_id}
    handlers: dict[int, list[int]] = {}
    if departments:
        for user_id, dep_id in session.execute(
            select(User.id, User.department_id).where(
                User.department_id.in_(departments), User.is_active.is_(True)
            )
        ):
            handlers.setdefault(dep_id or 0, []).append(user_id)
    label = "督办" if level == 1 else f"{level}级督办"
    notify.notify_many(
        session,
        kind="event.supervision",
        messages=(
            (
                [u for p in _ancestor_paths(e.scope_path) for u in supervisors.get(p, [])]
                + handlers.get(e.lead_department_id or 0, []),
                f"{label}：{e.title}（已超期）",
                e.id,
            )
            for e in events
        ),
    )


def _escalations(
    session: Session, now: datetime, settings: Settings, report: SweepReport, batch: int
) -> None:
    """A supervision left red for `escalate_after_minutes` rises one level up the tree."""
    due = now - timedelta(minutes=settings.escalate_after_minutes)
    higher = Supervision.__table__.alias("higher")
    rows = session.execute(
        select(Supervision.event_id, Supervision.level, Supervision.owner_code)
        .join(Event, Event.id == Supervision.event_id)
        .where(
            Supervision.created_at <= due,
            Supervision.resolved_at.is_(None),
            Event.light == Light.red.value,
            Event.status.in_(_CLOCK),
            ~exists().where(
                and_(
                    higher.c.event_id == Supervision.event_id,
                    higher.c.level == Supervision.level + 1,
                )
            ),
        )
        .order_by(Supervision.event_id)
        .limit(batch)
    ).all()
    new_rows: list[dict[str, object]] = []
    levels: dict[int, int] = {}
    for event_id, level, owner_code in rows:
        owner = jurisdictions.get_unit(session, owner_code)
        if owner is None or owner.parent_code is None:
            continue  # supervised at city level already: nowhere higher to go
        up = owner.parent_code
        new_rows.append(
            {
                "event_id": event_id,
                "level": level + 1,
                "reason": "督办后仍超期",
                "owner_code": up,
                "created_at": now,
            }
        )
        levels[event_id] = level + 1
    created = set(_insert_ignore(session, new_rows))
    report.escalations += len(created)
    for level in sorted(set(levels.values())):
        _announce(
            session, [e for e, lv in levels.items() if lv == level and e in created], level=level
        )


def _resolve(session: Session, now: datetime, report: SweepReport) -> None:
    """Close the supervision of events that are no longer red on a running clock. A join on
    the event's key, not `NOT EXISTS (red event)`: right after the lights turned, the
    planner's statistics still say red is rare, and PostgreSQL probed the (status, light)
    index once per supervision, each probe reading every red event (24 s for 50,000)."""
    result = session.execute(
        update(Supervision)
        .where(
            Supervision.event_id == Event.id,
            Supervision.resolved_at.is_(None),
            or_(Event.light != Light.red.value, Event.status.not_in(_CLOCK)),
        )
        .values(resolved_at=now)
    )
    report.resolved = result.rowcount  # type: ignore[attr-defined]


def sweep(
    db: Database,
    settings: Settings,
    *,
    now: datetime | None = None,
    holder: str | None = None,
    batch: int = 1000,
    use_lease: bool = True,
) -> SweepReport:
    started = utcnow()
    now = now or started
    lease = (
        leases.held(db, name=LEASE, holder=holder, seconds=600) if use_lease else nullcontext(True)
    )
    with lease as mine:
        if not mine:
            return SweepReport(ran=False)
        report = SweepReport(ran=True)
        stages: list[tuple[str, Callable[[Session], None]]] = [
            ("lights", lambda s: _lights(s, now, report)),
            ("supervisions", lambda s: _new_supervisions(s, now, report, batch)),
            ("escalations", lambda s: _escalations(s, now, settings, report, batch)),
            ("resolve", lambda s: _resolve(s, now, report)),
        ]
        for name, stage in stages:
            began = time.perf_counter()
            with db.transaction() as session:
                stage(session)
            report.stages[name] = round(time.perf_counter() - began, 3)
    report.seconds = (utcnow() - started).total_seconds()
    log.info("sweep", extra={"duration_ms": round(report.seconds * 1000, 1)})
    return report
