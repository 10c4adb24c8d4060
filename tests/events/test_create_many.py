"""`create_many`: a batch of reports (the group commit's) is stored as one report after another
would be, with one statement per table."""

from __future__ import annotations

import csv
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.audit.models import AuditRecord
from shiyu.config import Settings
from shiyu.duplicates import repository as duplicates
from shiyu.duplicates import similarity
from shiyu.events import search, service
from shiyu.events.enums import Channel
from shiyu.events.models import Action, Event
from shiyu.events.schemas import IntakeData
from shiyu.notifications.models import Notification, OutboundMessage
from tests.factories.auth import create_user
from tests.factories.world import World
from tests.helpers import shared_data

TEXT = "解放路与和平路交叉口东侧人行道井盖缺失，晚上没有路灯，行人很容易跌落，请尽快处理"


def _report(world: World, **overrides: Any) -> service.NewReport:
    lng, lat = world.city.centres[world.grid_a]
    data: dict[str, Any] = {
        "channel": Channel.resident,
        "title": "人行道井盖缺失",
        "description": TEXT,
        "lng": lng,
        "lat": lat,
        "reporter_phone": "13800138000",
    }
    data.update(overrides)
    return service.NewReport(IntakeData(**data), None)


def _count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_a_batch_is_stored_as_one_report_after_another(
    session: Session, settings: Settings, world: World
) -> None:
    other = world.city.centres[world.grid_b]
    community = service.jurisdictions.get_unit(session, world.grid_a)
    assert community is not None and community.parent_code is not None
    centre = create_user(
        session,
        username="community_a",
        roles=["dispatcher"],
        jurisdiction_code=community.parent_code,
    )
    made = service.create_many(
        session,
        settings,
        [
            _report(world),
            _report(world, title="噪音扰民", description="某小区工地夜间施工噪音扰民"),
            _report(world, description=TEXT + "。"),
            _report(world, lng=other[0], lat=other[1], reporter_phone=None),
        ],
    )
    first, noise, copy, far = (event for event, _ in made)
    assert all(created for _, created in made)
    in_order = [e.id for e in (first, noise, copy, far)]
    assert in_order == sorted(in_order)
    assert far.grid_code == world.grid_b and first.grid_code == world.grid_a
    ids = [first.id, noise.id, copy.id, far.id]
    # every report: its first timeline entry, its audit record, its centre's notice
    assert _count(session, Action, Action.event_id.in_(ids), Action.action == "report") == 4
    session.commit()  # audit records are chained at the commit
    codes = [e.code for e in (first, noise, copy, far)]
    assert _count(session, AuditRecord, AuditRecord.object_id.in_(codes)) == 4
    # the receiving community centre is told of the three reports in its grid
    reported = select(Notification.event_id).where(
        Notification.kind == "event.reported", Notification.user_id == centre.id
    )
    assert sorted(session.scalars(reported)) == [first.id, noise.id, copy.id]
    # receipts to the residents who left a phone
    assert set(session.scalars(select(OutboundMessage.event_id))) == {first.id, noise.id, copy.id}
    # the copy finds the earlier report of its own batch; the earlier one does not find the copy
    assert [c.candidate_id for c in duplicates.candidates_of(session, copy.id)] == [first.id]
    assert list(duplicates.candidates_of(session, first.id)) == []


def test_one_idempotency_key_twice_in_a_batch_is_one_event(
    session: Session, settings: Settings, world: World
) -> None:
    keyed = {"source": "staff:7", "external_id": "offline-1"}
    made = service.create_many(
        session,
        settings,
        [_report(world, **keyed), _report(world), _report(world, **keyed)],
    )
    (first, created_first), (_, created_other), (again, created_again) = made
    assert (created_first, created_other, created_again) == (True, True, False)
    assert again.id == first.id
    assert _count(session, Event, Event.external_id == "offline-1") == 1
    # and in a later batch too
    [(later, created_later)] = service.create_many(session, settings, [_report(world, **keyed)])
    assert later.id == first.id and not created_later


class TestPrepare:
    """`prepare` tokenises the stored (normalised) text without normalising it again: the
    tokens and band keys must be those of the text as typed, normalised twice over."""

    @staticmethod
    def _typed(title: str, description: str, address: str) -> Any:
        return service.prepare(
            IntakeData(
                channel=Channel.grid_patrol, title=title, description=description, address=address
            )
        )

    @staticmethod
    def _fully(prepared: service.Prepared) -> tuple[str, tuple[int, ...]]:
        parts = (prepared.title, prepared.description, prepared.address)
        cleaned = similarity.clean(prepared.title, prepared.description)
        return search.document_text(*parts), tuple(similarity.keys_for(cleaned))

    def test_awkward_text_gives_the_tokens_and_keys_of_normalising_again(self) -> None:
        for title, description, address in [
            ("路燈壞了　ＡＢＣ", "５號樓\t前\x07面，x² ǅ Ⅻ号 àb ﾊﾟ\n\n 井蓋缺失", "解放路１號"),
            ("\x01", "  ", ""),
            ("樂", "\uf914 compatibility ideograph", "①②"),
        ]:
            prepared = self._typed(title, description, address)
            assert (prepared.search_text, prepared.band_keys) == self._fully(prepared)

    def test_real_appeals_give_the_tokens_and_keys_of_normalising_again(self) -> None:
        with shared_data("appeals", "dev.csv").open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) > 1000
        for row in rows:
            prepared = self._typed(row["subject"] or "无标题", row["detail"], "")
            assert (prepared.search_text, prepared.band_keys) == self._fully(prepared), row
