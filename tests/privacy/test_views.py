"""Every view of unmasked personal data is audited: one `personal_data.view` record per
request that returned reporters unmasked, none for masked answers."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.audit.models import AuditRecord
from tests.factories.world import World


def _views(session: Session) -> list[AuditRecord]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "personal_data.view")
            .order_by(AuditRecord.seq)
        )
    )


def test_one_record_per_request_that_unmasks(
    client: httpx.Client, world: World, session: Session
) -> None:
    assert world.event_a is not None
    dispatcher = world.headers(client, "dispatcher")
    listed = client.get("/api/v1/events", headers=dispatcher)
    assert listed.status_code == 200
    shown = [e for e in listed.json()["items"] if e["reporter_phone"] == "13900000000"]
    assert shown  # the dispatcher sees reporters unmasked
    records = _views(session)
    assert len(records) == 1
    extra = records[0].summary["extra"]
    assert extra["count"] == len(shown)
    assert extra["request"] == "GET /api/v1/events"
    assert extra["fields"] == ["reporter_name", "reporter_phone"]
    assert world.event_a.code in extra["ids"]
    assert records[0].actor_name == "dispatcher_a"

    detail = client.get(f"/api/v1/events/{world.event_a.code}", headers=dispatcher)
    assert detail.status_code == 200
    records = _views(session)
    assert len(records) == 2
    assert records[1].object_id == world.event_a.code
    assert records[1].scope_path == world.event_a.scope_path

    export = client.get("/api/v1/events/export.xlsx", headers=dispatcher)
    assert export.status_code == 200
    assert len(_views(session)) == 3


def test_masked_answers_are_not_recorded(
    client: httpx.Client, world: World, session: Session
) -> None:
    assert world.event_a is not None
    supervisor = world.headers(client, "supervisor")
    resp = client.get(f"/api/v1/events/{world.event_a.code}", headers=supervisor)
    assert resp.status_code == 200
    assert resp.json()["reporter_phone"] == "139****0000"
    assert client.get("/api/v1/events", headers=supervisor).status_code == 200
    assert _views(session) == []


def test_the_record_keeps_the_chain_valid(
    client: httpx.Client, world: World, session: Session
) -> None:
    from shiyu.audit import service as audit

    client.get("/api/v1/events", headers=world.headers(client, "dispatcher"))
    session.expire_all()
    assert audit.verify(session).ok
