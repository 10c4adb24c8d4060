"""Suggestions at intake: text, place and time rules, decisions, upkeep."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shiyu.config import Settings
from shiyu.duplicates import band_index, repository, service
from shiyu.duplicates.models import DuplicateCandidate, DuplicateSignature, MergeNotice
from shiyu.events import service as events_service
from shiyu.events.enums import Channel, Status
from shiyu.events.models import Event
from shiyu.events.schemas import IntakeData
from shiyu.kit.clock import utcnow
from shiyu.notifications.models import OutboundMessage
from tests.factories.events import act, actor_of, create_event
from tests.factories.world import World

TEXT = "解放路与和平路交叉口东侧人行道井盖缺失，晚上没有路灯，行人很容易跌落，请尽快处理"


def _suggestions(session: Session, event: Event) -> list[DuplicateCandidate]:
    return list(repository.candidates_of(session, event.id))


def _event(session: Session, settings: Settings, world: World, **kw: Any) -> Event:
    return create_event(session, settings, world, **{"description": TEXT, **kw})


class TestIntakeSuggestions:
    @pytest.fixture(autouse=True, params=["index", "database"])
    def search_path(self, request: pytest.FixtureRequest, monkeypatch: Any) -> None:
        """Every case both ways `repository.band_hits_many` searches: the process's index
        and the rows it has not read (here the test's own, not committed), and the rows of
        the window read from the database (a report older than the index's floor)."""
        if request.param == "database":
            monkeypatch.setattr(band_index, "of_session", lambda *_: None)

    def test_same_text_same_grid_is_suggested(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        first = _event(session, settings, world)
        second = _event(session, settings, world, description=TEXT + "。")
        [row] = _suggestions(session, second)
        assert row.candidate_id == first.id
        assert row.score == 1.0
        assert row.same_grid is True
        assert row.status == "suggested"
        assert _suggestions(session, first) == []

    def test_a_batch_finds_the_stored_copy_and_the_earlier_one_of_its_own(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        stored = _event(session, settings, world)
        lng, lat = world.city.centres[world.grid_a]
        report = {"channel": Channel.grid_patrol, "title": "人行道井盖缺失", "lng": lng, "lat": lat}
        made = events_service.create_many(
            session,
            settings,
            [
                events_service.NewReport(IntakeData(**report, description=TEXT + "。" * i), None)
                for i in (1, 2)
            ],
        )
        earlier, later = (event for event, _ in made)
        assert {c.candidate_id for c in _suggestions(session, earlier)} == {stored.id}
        assert {c.candidate_id for c in _suggestions(session, later)} == {stored.id, earlier.id}

    def test_unrelated_text_is_not(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        _event(session, settings, world)
        other = create_event(
            session, settings, world, title="噪音扰民", description="某小区工地夜间施工噪音扰民"
        )
        assert _suggestions(session, other) == []

    def test_another_grid_far_away_is_not(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        _event(session, settings, world)
        lng, lat = world.city.centres[world.grid_b]
        far = _event(session, settings, world, lng=lng, lat=lat)
        assert far.grid_code == world.grid_b
        assert _suggestions(session, far) == []

    def test_neighbouring_grid_within_the_radius_is(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        # grid_a spans 114.00–114.01°; its eastern neighbour starts at 114.01°
        first = _event(session, settings, world, lng=114.0096, lat=30.005)
        second = _event(session, settings, world, lng=114.0104, lat=30.005)
        assert first.grid_code != second.grid_code
        [row] = _suggestions(session, second)
        assert row.same_grid is False
        assert row.distance_m is not None and 70 < row.distance_m < 90

    def test_outside_the_time_window_is_not(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        _event(session, settings, world, reported_at=utcnow() - timedelta(hours=73))
        assert _suggestions(session, _event(session, settings, world)) == []

    def test_closed_and_merged_events_are_not_candidates(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        first = _event(session, settings, world)
        act(session, settings, first, actor_of(world, "dispatcher"), "cancel", reason="重复")
        assert _suggestions(session, _event(session, settings, world)) == []

    def test_unknown_place_lets_text_and_time_decide(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        first = _event(session, settings, world, lng=None, lat=None, owner_code=world.street_a)
        second = _event(session, settings, world, lng=None, lat=None, owner_code=world.street_a)
        [row] = _suggestions(session, second)
        assert row.candidate_id == first.id
        assert row.same_grid is None and row.distance_m is None

    def test_settings_threshold_and_switch(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        _event(session, settings, world)
        strict = settings.model_copy(update={"duplicate_similarity": 1.0})
        edited = _event(session, strict, world, description=TEXT + "，已经很久了")
        assert _suggestions(session, edited) == []
        off = settings.model_copy(update={"duplicate_enabled": False})
        assert _suggestions(session, _event(session, off, world)) == []

    def test_many_far_copies_do_not_crowd_out_the_near_one(
        self, session: Session, settings: Settings, world: World, monkeypatch: Any
    ) -> None:
        # boilerplate reported all over the city must not use up the hit limit before the
        # one copy that is actually next door is scored
        monkeypatch.setattr(repository, "MAX_HITS", 3)
        far_lng, far_lat = world.city.centres[world.grid_b]
        for _ in range(5):
            _event(session, settings, world, lng=far_lng, lat=far_lat)
        near = _event(session, settings, world)
        [row] = _suggestions(session, _event(session, settings, world))
        assert row.candidate_id == near.id

    def test_best_candidates_first_and_capped(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        for i in range(3):
            _event(session, settings, world, description=TEXT + "。" * i)
        capped = settings.model_copy(update={"duplicate_max_candidates": 2})
        rows = _suggestions(session, _event(session, capped, world))
        assert len(rows) == 2
        assert rows[0].score >= rows[1].score


class TestDecisions:
    def test_a_rejected_pair_is_never_suggested_again(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        first = _event(session, settings, world)
        second = _event(session, settings, world)
        assert second.code and first.code
        service.reject(session, actor_of(world, "dispatcher"), second.code, first.code, reason="")
        # indexed again as the backfill would (not fresh: decisions are looked up)
        session.execute(delete(DuplicateSignature).where(DuplicateSignature.event_id == second.id))
        assert service.flag_new_event(session, settings, second, fresh=False) == []
        third = _event(session, settings, world)
        assert {c.candidate_id for c in _suggestions(session, third)} == {first.id, second.id}

    def test_merged_child_reporter_is_told_once_when_the_parent_closes(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        parent = _event(session, settings, world)
        child = _event(session, settings, world, reporter_phone="13700137000")
        dispatcher, handler = actor_of(world, "dispatcher"), actor_of(world, "department_handler")
        assert parent.code and child.code
        service.merge(session, settings, dispatcher, child.code, parent.code)
        assert child.status == Status.merged and child.parent_id == parent.id
        assert service.announce_closed_parents(session, settings) == 0  # not closed yet
        act(session, settings, parent, dispatcher, "accept")
        act(session, settings, parent, dispatcher, "dispatch", lead_department_id=world.dep_a.id)
        act(session, settings, parent, handler, "sign")
        act(session, settings, parent, handler, "reply", reply="井盖已补装")
        act(session, settings, parent, dispatcher, "verify")
        act(session, settings, parent, dispatcher, "close")
        assert service.announce_closed_parents(session, settings) == 1
        sms = session.scalars(
            select(OutboundMessage).where(OutboundMessage.event_id == child.id)
        ).all()
        assert any("已办结" in m.body and "井盖已补装" in m.body for m in sms)
        assert session.get(MergeNotice, child.id) is not None
        assert service.announce_closed_parents(session, settings) == 0


class TestUpkeep:
    def test_closed_events_lose_their_band_keys(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        event = _event(session, settings, world)
        act(session, settings, event, actor_of(world, "dispatcher"), "cancel", reason="误报")
        assert repository.prune_closed(session) >= 1
        count = select(func.count()).where(DuplicateSignature.event_id == event.id)
        assert session.scalar(count) == 0

    def test_reindex_backfills_open_events(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        event = _event(session, settings, world)
        session.execute(delete(DuplicateSignature).where(DuplicateSignature.event_id == event.id))
        assert service.index_open_events(session, settings) >= 1
        count = select(func.count()).where(DuplicateSignature.event_id == event.id)
        assert session.scalar(count) == 1
        assert service.index_open_events(session, settings) == 0
