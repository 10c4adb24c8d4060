"""Surges in the database: the series of tests/factories/warning.py, judged on day D."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.config import Settings
from shiyu.db import Database
from shiyu.notifications.models import Notification
from shiyu.warning import service
from shiyu.warning.models import EarlyWarning
from tests.conftest import make_settings
from tests.factories.warning import DAY, create_series
from tests.factories.world import World, create_world
from tests.helpers import run_cli


def _warnings(session: Session) -> dict[tuple[str, str], EarlyWarning]:
    rows = session.scalars(select(EarlyWarning).where(EarlyWarning.day == DAY)).all()
    return {(w.unit_code, w.category_code): w for w in rows}


def _surge_notes(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.kind == "warning.surge")
        )
        or 0
    )


class TestDetection:
    def test_the_surge_is_flagged_at_every_level_and_the_others_are_not(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        s = create_series(session, settings, world)
        report = service.run_surges(session, settings, day=DAY)
        found = _warnings(session)
        community = s.surge_grid[:12]
        for unit in (s.surge_grid, community):
            for category in ("SJ05", "*"):
                w = found[(unit, category)]
                assert (w.count, w.baseline_mean, w.model) == (9, 1.0, "poisson")
                assert w.p_value < 1e-5
        assert found[(s.surge_grid, "SJ05")].unit_level == "grid"
        assert "占道" not in found[(s.surge_grid, "SJ05")].title  # named by first-level class
        assert "街面秩序" in found[(s.surge_grid, "SJ05")].title
        # noisy but normal, and too few
        assert (s.noisy_grid, "SJ01") not in found
        assert (s.noisy_grid, "*") not in found
        assert (s.quiet_grid, "SJ02") not in found
        assert report.created == len(found)

    def test_the_day_before_has_no_surge(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        create_series(session, settings, world)
        report = service.run_surges(session, settings, day=DAY - timedelta(days=1))
        assert report.created == 0

    def test_min_count_is_a_setting(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        s = create_series(session, settings, world)
        strict = settings.model_copy(update={"warning_min_count": 10})
        service.run_surges(session, strict, day=DAY)
        assert (s.surge_grid, "SJ05") not in _warnings(session)  # 9 < 10
        lax = settings.model_copy(update={"warning_min_count": 4})
        service.run_surges(session, lax, day=DAY)
        assert (s.quiet_grid, "SJ02") in _warnings(session)  # 4 from nothing


class TestNotifications:
    def test_the_street_dispatcher_and_leader_are_told_once(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        create_series(session, settings, world)
        first = service.run_surges(session, settings, day=DAY)
        again = service.run_surges(session, settings, day=DAY)
        assert first.created > 0 and again.created == 0 and again.notified == 0
        dispatcher, leader = world.users["dispatcher"], world.users["leader"]
        # grids and communities have no centre of their own: the street's staff hear of each
        assert _surge_notes(session, dispatcher.id) == first.created
        assert _surge_notes(session, leader.id) == first.created
        assert _surge_notes(session, world.users["supervisor"].id) == 0
        assert world.user_b is not None
        assert _surge_notes(session, world.user_b.id) == 0  # another street's dispatcher


class TestJob:
    def test_cli_run_twice_stores_and_notifies_once(self, fresh_database: str) -> None:
        settings = make_settings(fresh_database)
        db = Database(settings)
        try:
            with db.transaction() as session:
                world = create_world(session, settings)
                create_series(session, settings, world)
                dispatcher_id = world.users["dispatcher"].id
        finally:
            db.dispose()
        first = run_cli(fresh_database, "warnings", "run", "--day", DAY.isoformat())
        assert first.returncode == 0, first.stderr
        again = run_cli(fresh_database, "warnings", "run", "--day", DAY.isoformat())
        assert again.returncode == 0, again.stderr
        one, two = json.loads(first.stdout), json.loads(again.stdout)
        assert one["ran"] and one["created"] >= 4 and one["notified"] >= one["created"]
        assert two["created"] == 0 and two["notified"] == 0 and two["surges"] == one["surges"]
        db = Database(settings)
        try:
            with db.transaction(write=False) as session:
                assert _surge_notes(session, dispatcher_id) == one["created"]
                stored = session.scalar(select(func.count()).select_from(EarlyWarning))
                assert stored == one["created"]
        finally:
            db.dispose()

    def test_cli_refuses_a_bad_day(self, fresh_database: str) -> None:
        result = run_cli(fresh_database, "warnings", "run", "--day", "2025-13-01")
        assert result.returncode == 2
        assert "YYYY-MM-DD" in result.stderr + result.stdout
