"""Residents without an account: report, follow by code + phone, rate; rate limits."""

from __future__ import annotations

import contextvars

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.config import Settings
from shiyu.events.models import Event
from shiyu.events.schemas import ResidentReport
from shiyu.events.service import TooManyReports
from shiyu.group_commit import Entry
from shiyu.intake import resident
from shiyu.notifications.models import OutboundMessage
from tests.factories.world import World

PHONE = "13855556666"


def _body(world: World, **overrides: object) -> dict[str, object]:
    lng, lat = world.city.centres[world.grid_a]
    body: dict[str, object] = {"title": "路灯不亮", "lng": lng, "lat": lat, "reporter_phone": PHONE}
    body.update(overrides)
    return body


def test_report_gets_code_and_sms(client: httpx.Client, world: World, session: Session) -> None:
    resp = client.post("/api/v1/public/events", json=_body(world))
    assert resp.status_code == 201
    code = resp.json()["code"]
    assert code.startswith("SY")
    assert code in resp.json()["message"]
    event = session.scalars(select(Event).where(Event.code == code)).one()
    assert event.channel == "resident"
    assert event.reporter_phone != PHONE  # encrypted at rest
    assert PHONE not in (event.reporter_phone or "")
    sms = session.scalars(select(OutboundMessage).where(OutboundMessage.event_id == event.id))
    assert code in next(iter(sms)).body


def test_follow_needs_the_right_phone(client: httpx.Client, world: World) -> None:
    code = client.post("/api/v1/public/events", json=_body(world)).json()["code"]
    ok = client.get(f"/api/v1/public/events/{code}", params={"phone": PHONE})
    assert ok.status_code == 200
    assert ok.json()["status_label"] == "已受理"
    assert ok.json()["timeline"][0]["label"] == "已受理"
    wrong = client.get(f"/api/v1/public/events/{code}", params={"phone": "13000000000"})
    unknown = client.get("/api/v1/public/events/SY000", params={"phone": PHONE})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()


def test_rating_before_closure_is_refused(client: httpx.Client, world: World) -> None:
    code = client.post("/api/v1/public/events", json=_body(world)).json()["code"]
    resp = client.post(
        f"/api/v1/public/events/{code}/rating", json={"phone": PHONE, "rating": "satisfied"}
    )
    assert resp.status_code == 409


def test_phone_or_place_required(client: httpx.Client, world: World) -> None:
    no_phone = client.post("/api/v1/public/events", json={"title": "x", "address": "某路1号"})
    assert no_phone.status_code == 422
    assert ["body", "reporter_phone"] in [d["loc"] for d in no_phone.json()["error"]["details"]]
    nowhere = client.post("/api/v1/public/events", json={"title": "x", "reporter_phone": PHONE})
    assert nowhere.status_code == 422
    half = client.post("/api/v1/public/events", json=_body(world, lat=None))
    assert half.status_code == 422


def test_address_only_goes_to_the_city_centre(client: httpx.Client, world: World) -> None:
    resp = client.post(
        "/api/v1/public/events",
        json={"title": "噪音扰民", "address": "某小区3栋", "reporter_phone": PHONE},
    )
    assert resp.status_code == 201


def test_rate_limit_per_phone(client: httpx.Client, world: World, settings: object) -> None:
    limit = 10  # default resident_reports_per_phone_per_day
    for i in range(limit):
        assert (
            client.post("/api/v1/public/events", json=_body(world, title=f"问题{i}")).status_code
            == 201
        )
    blocked = client.post("/api/v1/public/events", json=_body(world, title="再一个"))
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "event.too_many_reports"
    assert "retry-after" in blocked.headers
    other = client.post("/api/v1/public/events", json=_body(world, reporter_phone="13811112222"))
    assert other.status_code == 201


def test_rate_limit_per_address(client: httpx.Client, world: World) -> None:
    for i in range(20):
        resp = client.post(
            "/api/v1/public/events",
            json=_body(world, reporter_phone=f"1380000{i:04d}", address="幸福路8号"),
        )
        assert resp.status_code == 201
    blocked = client.post(
        "/api/v1/public/events",
        json=_body(world, reporter_phone="13999999999", address="幸福路8号"),
    )
    assert blocked.status_code == 429


def test_hostile_text_is_stored_inertly(client: httpx.Client, world: World) -> None:
    hostile = "<script>alert(1)</script>'; DROP TABLE events; --\u0000"
    resp = client.post(
        "/api/v1/public/events", json=_body(world, title=hostile[:-1], description=hostile[:-1])
    )
    assert resp.status_code == 201
    code = resp.json()["code"]
    view = client.get(f"/api/v1/public/events/{code}", params={"phone": PHONE})
    assert view.json()["title"] == hostile[:-1]
    assert view.headers["content-type"].startswith("application/json")


def test_categories_are_public(client: httpx.Client, world: World) -> None:
    cats = client.get("/api/v1/public/categories").json()
    names = {c["name"] for c in cats}
    assert {"市容环境", "城乡建设", "交通运输", "水电气热"} <= names
    kinds = {c["kind"] for c in cats}
    assert kinds == {"event", "component", "appeal"}


def test_traditional_chinese_is_accepted_and_stored_simplified(
    client: httpx.Client, world: World
) -> None:
    resp = client.post(
        "/api/v1/public/events",
        json=_body(world, title="路燈不亮，請儘快處理", description="開封街３號樓下"),
    )
    assert resp.status_code == 201
    view = client.get(f"/api/v1/public/events/{resp.json()['code']}", params={"phone": PHONE})
    assert view.json()["title"] == "路灯不亮，请尽快处理"


def test_a_batch_counts_its_own_earlier_reports(
    session: Session, settings: Settings, world: World
) -> None:
    """The group commit stores residents' reports in batches: the limits count the batch's
    earlier reports, not yet stored, as well as the stored ones."""
    limit = settings.resident_reports_per_phone_per_day

    def entries(n: int, start: int = 0) -> list[Entry[resident.ResidentJob]]:
        return [
            Entry(
                resident.ResidentJob(
                    settings,
                    ResidentReport(**_body(world, title=f"问题{start + i}")),
                ),
                contextvars.copy_context(),
            )
            for i in range(n)
        ]

    with pytest.raises(TooManyReports):  # the whole batch then runs one report at a time
        resident._receipts(session, entries(limit + 1))
    assert len(resident._receipts(session, entries(limit))) == limit
    with pytest.raises(TooManyReports):
        resident._receipts(session, entries(1, start=limit))
