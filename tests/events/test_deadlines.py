from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from shiyu.auth.models import User
from shiyu.auth.service import actor_for
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.events import jobs
from shiyu.events.deadlines import CHINA, Limits, WorkCalendar, deadlines, light
from shiyu.events.enums import Light
from shiyu.events.models import CalendarDay, Event, Supervision
from shiyu.notifications.models import Notification
from tests.conftest import PG_URL, make_settings
from tests.factories.events import act, actor_of, create_event
from tests.factories.world import World

# 2026-10-01..07: National Day holidays; Sunday 2026-10-11 a make-up working day (调休)
HOLIDAYS = frozenset(date(2026, 10, d) for d in range(1, 8))
MAKEUP = frozenset({date(2026, 10, 11)})
CAL = WorkCalendar(holidays=HOLIDAYS, workdays=MAKEUP)


def _at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=CHINA).astimezone(UTC)


class TestCalendar:
    def test_weekdays_only(self) -> None:
        # Friday 2026-11-20 10:00 + 1 working day = Monday 2026-11-23 10:00 (Beijing time)
        assert CAL.add_working_days(_at(2026, 11, 20), 1) == _at(2026, 11, 23)
        assert CAL.add_working_days(_at(2026, 11, 16), 5) == _at(2026, 11, 23)

    def test_holidays_skipped_and_makeup_day_counted(self) -> None:
        # Tue 2026-09-29 + 3 working days: Wed 30, (Oct 1-7 holiday), Thu 8, Fri 9
        assert CAL.add_working_days(_at(2026, 9, 29), 3) == _at(2026, 10, 9)
        # Fri Oct 9 + 1 = Sun Oct 11 (make-up working day)
        assert CAL.add_working_days(_at(2026, 10, 9), 1) == _at(2026, 10, 11)

    def test_local_day_boundary(self) -> None:
        # 23:30 Friday in Beijing is 15:30 UTC Friday; the next working day is Monday
        start = datetime(2026, 11, 20, 23, 30, tzinfo=CHINA)
        assert CAL.add_working_days(start, 1).astimezone(CHINA).date() == date(2026, 11, 23)

    def test_deadlines_in_hours_or_working_days(self) -> None:
        start = _at(2026, 11, 20)
        sign, finish = deadlines(start, Limits(2, 5, None), CAL)
        assert sign == start + timedelta(hours=2)
        assert finish == _at(2026, 11, 27)
        _, urgent = deadlines(start, Limits(1, None, 24), CAL)
        assert urgent == start + timedelta(hours=24)


class TestLight:
    start = _at(2026, 11, 16)
    deadline = start + timedelta(hours=100)

    @pytest.mark.parametrize(
        ("hours", "expected"),
        [
            (0, Light.green),
            (79.9, Light.green),
            (80, Light.yellow),
            (99.9, Light.yellow),
            (100, Light.red),
            (500, Light.red),
        ],
    )
    def test_thresholds(self, hours: float, expected: Light) -> None:
        now = self.start + timedelta(hours=hours)
        assert light(now, self.start, self.deadline, yellow_at=0.8) is expected

    def test_no_clock(self) -> None:
        assert light(self.start, None, None, yellow_at=0.8) is Light.none


class TestDispatchDeadlines:
    def test_clock_starts_at_dispatch_with_category_rule(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        # 水电气热 (RX02) normal: 24 hours
        event = create_event(session, settings, world, category_code="RX0201")
        dispatcher = actor_of(world, "dispatcher")
        act(session, settings, event, dispatcher, "accept")
        assert event.finish_deadline is None
        act(session, settings, event, dispatcher, "dispatch", lead_department_id=world.dep_a.id)
        assert event.dispatched_at is not None
        assert event.finish_deadline == event.dispatched_at + timedelta(hours=24)
        assert event.sign_deadline == event.dispatched_at + timedelta(hours=1)
        assert event.light == "green"

    def test_holidays_from_the_table(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        now = datetime.now(CHINA)
        for i in range(1, 15):
            session.add(
                CalendarDay(day=now.date() + timedelta(days=i), is_workday=False, name="测试假期")
            )
        session.flush()
        event = create_event(session, settings, world)
        dispatcher = actor_of(world, "dispatcher")
        act(session, settings, event, dispatcher, "accept")
        act(session, settings, event, dispatcher, "dispatch", lead_department_id=world.dep_a.id)
        assert event.finish_deadline is not None
        assert event.finish_deadline - event.dispatched_at > timedelta(days=14)  # type: ignore[operator]

    def test_extension_moves_the_deadline(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        event = create_event(session, settings, world)
        dispatcher, handler = actor_of(world, "dispatcher"), actor_of(world, "department_handler")
        act(session, settings, event, dispatcher, "accept")
        act(session, settings, event, dispatcher, "dispatch", lead_department_id=world.dep_a.id)
        before = event.finish_deadline
        act(session, settings, event, handler, "request_extension", reason="配件", working_days=2)
        with pytest.raises(Exception, match="已有待审批"):
            act(
                session,
                settings,
                event,
                handler,
                "request_extension",
                reason="再次",
                working_days=1,
            )
        act(session, settings, event, dispatcher, "decide_extension", approve=True)
        assert event.finish_deadline is not None and before is not None
        assert event.finish_deadline > before + timedelta(days=1)
        assert event.extended

    def test_extension_after_the_deadline_is_refused(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        event = create_event(session, settings, world)
        dispatcher, handler = actor_of(world, "dispatcher"), actor_of(world, "department_handler")
        act(session, settings, event, dispatcher, "accept")
        act(session, settings, event, dispatcher, "dispatch", lead_department_id=world.dep_a.id)
        event.finish_deadline = datetime.now(UTC) - timedelta(minutes=1)
        with pytest.raises(Exception, match="届满前"):
            act(
                session,
                settings,
                event,
                handler,
                "request_extension",
                reason="晚了",
                working_days=2,
            )


def _overdue_events(db: Database, settings: Settings, n: int) -> list[int]:
    """n dispatched events whose deadline has passed (committed)."""
    from tests.factories.world import create_world

    with db.transaction() as session:
        world = create_world(session, settings)
        dispatcher = actor_of(world, "dispatcher")
        ids = []
        for i in range(n):
            event = create_event(session, settings, world, title=f"超期{i}")
            act(session, settings, event, dispatcher, "accept")
            act(session, settings, event, dispatcher, "dispatch", lead_department_id=world.dep_a.id)
            event.dispatched_at = datetime.now(UTC) - timedelta(days=10)
            event.finish_deadline = datetime.now(UTC) - timedelta(days=1)
            event.yellow_at = datetime.now(UTC) - timedelta(days=3)
            ids.append(event.id)
        return ids


class TestSweep:
    def test_red_supervision_notification_idempotent(self, fresh_database: str) -> None:
        settings = make_settings(fresh_database)
        db = Database(settings)
        ids = _overdue_events(db, settings, 3)
        first = jobs.sweep(db, settings)
        assert first.ran
        assert first.turned_red == 3
        assert first.supervisions == 3
        second = jobs.sweep(db, settings)
        assert (second.turned_red, second.supervisions, second.escalations) == (0, 0, 0)
        with db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(Supervision)) == 3
            lights = set(session.scalars(select(Event.light).where(Event.id.in_(ids))))
            assert lights == {"red"}
            sup_notes = session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.kind == "event.supervision")
            )
        # each event: the supervisor of street A + the handler of department A
        assert sup_notes == 3 * 2
        # later, still red: escalates one level, once
        later = datetime.now(UTC) + timedelta(minutes=settings.escalate_after_minutes + 1)
        third = jobs.sweep(db, settings, now=later)
        fourth = jobs.sweep(db, settings, now=later)
        assert (third.escalations, fourth.escalations) == (3, 0)
        with db.transaction() as session:
            levels = sorted(session.scalars(select(Supervision.level)))
        assert levels == [1, 1, 1, 2, 2, 2]
        db.dispose()

    def test_every_light_follows_the_deadlines(self, fresh_database: str) -> None:
        """One pass sets each running clock's light from its deadlines, whatever it showed:
        also back from red to yellow and from yellow to green after an extension."""
        settings = make_settings(fresh_database)
        db = Database(settings)
        ids = _overdue_events(db, settings, 4)
        now = datetime.now(UTC)
        # (light shown, yellow_at, finish_deadline) -> the light the sweep must show
        cases = [
            ("green", now - timedelta(days=3), now - timedelta(days=1), "red"),
            ("red", now - timedelta(hours=1), now + timedelta(days=1), "yellow"),
            ("yellow", now + timedelta(days=1), now + timedelta(days=2), "green"),
            ("none", now + timedelta(days=1), now + timedelta(days=2), "green"),
        ]
        with db.transaction() as session:
            for event_id, (shown, yellow_at, deadline, _) in zip(ids, cases, strict=True):
                event = session.get(Event, event_id)
                assert event is not None
                event.light, event.yellow_at, event.finish_deadline = shown, yellow_at, deadline
        report = jobs.sweep(db, settings, now=now)
        assert (report.turned_red, report.turned_yellow, report.turned_green) == (1, 1, 2)
        with db.transaction() as session:
            lights = [session.get(Event, i).light for i in ids]  # type: ignore[union-attr]
        assert lights == [c[3] for c in cases]
        assert jobs.sweep(db, settings, now=now).turned_green == 0  # nothing left to change
        db.dispose()

    def test_resolved_when_replied(self, fresh_database: str) -> None:
        settings = make_settings(fresh_database)
        db = Database(settings)
        ids = _overdue_events(db, settings, 1)
        jobs.sweep(db, settings)
        with db.transaction() as session:
            event = session.get(Event, ids[0])
            assert event is not None
            handler = session.scalars(
                select(User)
                .options(selectinload(User.roles))
                .where(User.username == "department_handler_a")
            ).one()
            actor = actor_for(handler, "district")
            act(session, settings, event, actor, "sign")
            act(session, settings, event, actor, "reply", reply="已办结")
        report = jobs.sweep(db, settings)
        assert report.resolved == 1
        db.dispose()

    def test_lease_lets_one_sweep_run(self, fresh_database: str) -> None:
        settings = make_settings(fresh_database)
        db = Database(settings)
        from shiyu.kit import leases

        with db.transaction() as session:
            assert leases.acquire(session, name=jobs.LEASE, holder="other", seconds=60)
        assert not jobs.sweep(db, settings, holder="me").ran
        db.dispose()


@pytest.mark.skipif(not PG_URL, reason="concurrency is proven on PostgreSQL")
def test_two_sweeps_at_once_create_each_supervision_once(fresh_database: str) -> None:
    """Two processes' sweeps racing (lease bypassed to force the race): the ON CONFLICT
    inserts still create one supervision and one round of notifications per event."""
    settings = make_settings(fresh_database)
    db = Database(settings)
    ids = _overdue_events(db, settings, 40)
    barrier = threading.Barrier(2)
    reports: list[jobs.SweepReport] = []
    errors: list[BaseException] = []

    def run(holder: str) -> None:
        try:
            barrier.wait()
            reports.append(jobs.sweep(db, settings, holder=holder, use_lease=False, batch=7))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(h,)) for h in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(r.supervisions for r in reports) == len(ids)
    with db.transaction() as session:
        per_event = session.execute(
            select(Supervision.event_id, func.count()).group_by(Supervision.event_id)
        ).all()
        notes = session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "event.supervision")
        )
    assert len(per_event) == len(ids)
    assert all(n == 1 for _, n in per_event)
    assert notes == len(ids) * 2
    db.dispose()


def test_two_sweeps_with_the_lease(fresh_database: str) -> None:
    settings = make_settings(fresh_database)
    db = Database(settings)
    ids = _overdue_events(db, settings, 10)
    reports: list[jobs.SweepReport] = []
    threads = [
        threading.Thread(target=lambda h=h: reports.append(jobs.sweep(db, settings, holder=h)))
        for h in ("a", "b")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.supervisions for r in reports) == len(ids)
    db.dispose()
