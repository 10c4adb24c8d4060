"""The command-centre data API over real HTTP: scoping, filters, acknowledging, hot issues,
repeated appeals and refusals of bad input."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.audit.models import AuditRecord
from shiyu.config import Settings
from shiyu.events import service as events
from shiyu.events.enums import Channel
from shiyu.events.schemas import IntakeData
from shiyu.warning import service
from tests.factories.events import actor_of
from tests.factories.warning import CST, DAY, create_series
from tests.factories.world import World

W = "/api/v1/warnings"


def _surges(session: Session, settings: Settings, world: World) -> None:
    create_series(session, settings, world)
    service.run_surges(session, settings, day=DAY)
    session.commit()


class TestList:
    def test_street_a_sees_its_warnings_and_street_b_none(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        _surges(session, settings, world)
        mine = client.get(W, headers=world.headers(client, "dispatcher")).json()
        assert mine["total"] >= 4
        assert all(w["unit_code"].startswith(world.street_a[:9]) for w in mine["items"])
        other = client.get(W, headers=_login_b(client, world)).json()
        assert other == {"total": 0, "items": []}

    def test_filters(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        _surges(session, settings, world)
        h = world.headers(client, "leader")
        grids = client.get(W, params={"level": "grid", "category_code": "SJ05"}, headers=h).json()
        assert [(w["unit_level"], w["category_code"], w["count"]) for w in grids["items"]] == [
            ("grid", "SJ05", 9)
        ]
        assert grids["items"][0]["model"] == "poisson"
        later = client.get(W, params={"day_from": "2025-03-30"}, headers=h).json()
        assert later["total"] == 0
        bad = client.get(W, params={"level": "planet"}, headers=h)
        assert bad.status_code == 422 and "level" in bad.text

    def test_a_unit_outside_the_scope_is_404(self, client: httpx.Client, world: World) -> None:
        resp = client.get(
            W, params={"jurisdiction": world.street_b}, headers=world.headers(client, "dispatcher")
        )
        assert resp.status_code == 404


class TestAcknowledge:
    def test_once_with_an_audit_record_then_409(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        _surges(session, settings, world)
        h = world.headers(client, "dispatcher")
        first = client.get(W, headers=h).json()["items"][0]
        resp = client.post(f"{W}/{first['id']}/acknowledge", json={"note": "已派员核查"}, headers=h)
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == "acknowledged" and resp.json()["ack_note"] == "已派员核查"
        again = client.post(f"{W}/{first['id']}/acknowledge", json={}, headers=h)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "warning.already_acknowledged"
        audit = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "warning.acknowledge")
        ).all()
        assert [a.object_id for a in audit] == [str(first["id"])]
        still_open = client.get(W, params={"status": "open"}, headers=h).json()
        assert first["id"] not in {w["id"] for w in still_open["items"]}

    def test_other_street_gets_404(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        _surges(session, settings, world)
        wid = client.get(W, headers=world.headers(client, "dispatcher")).json()["items"][0]["id"]
        resp = client.post(f"{W}/{wid}/acknowledge", json={}, headers=_login_b(client, world))
        assert resp.status_code == 404

    def test_supervisors_read_but_may_not_acknowledge(
        self, client: httpx.Client, world: World
    ) -> None:
        h = world.headers(client, "supervisor")
        assert client.get(W, headers=h).status_code == 200
        assert client.post(f"{W}/1/acknowledge", json={}, headers=h).status_code == 403


def _login_b(client: httpx.Client, world: World) -> dict[str, str]:
    from tests.factories.auth import login

    assert world.user_b is not None
    return login(client, world.user_b.username)


def _report(
    session: Session,
    settings: Settings,
    world: World,
    grid: str,
    title: str,
    description: str,
    phone: str,
    at: datetime,
) -> None:
    lng, lat = world.city.centres[grid]
    events.create(
        session,
        settings,
        IntakeData(
            channel=Channel.hotline_12345,
            title=title,
            description=description,
            lng=lng,
            lat=lat,
            reporter_phone=phone,
            reported_at=at,
        ),
        actor=None,
    )


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=CST)


class TestHotIssues:
    def test_the_noise_cluster_ranks_first(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        day = date(2025, 5, 10)
        noise = "锦绣花园小区旁工地夜间施工噪音扰民"
        for k, phone in enumerate(["13900000001", "13900000002", "13900000003"]):
            _report(
                session,
                settings,
                world,
                world.grid_a,
                noise,
                noise + "，居民无法休息",
                phone,
                _at(day + timedelta(days=k)),
            )
        for k, phone in enumerate(["13900000004", "13900000005"]):
            _report(
                session,
                settings,
                world,
                world.grid_a,
                "明德小学收取补课费",
                "明德小学强制补课并收取补课费和资料费",
                phone,
                _at(day, 11 + k),
            )
        _report(
            session,
            settings,
            world,
            world.grid_a,
            "路灯不亮",
            "解放大道路灯晚上不亮",
            "13900000006",
            _at(day),
        )
        # the same problem in street B is not in street A's answer
        _report(session, settings, world, world.grid_b, noise, noise, "13900000007", _at(day))
        session.commit()
        resp = client.get(
            f"{W}/hot-issues",
            params={"start": "2025-05-01", "end": "2025-06-01"},
            headers=world.headers(client, "dispatcher"),
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["messages"] == 6 and body["truncated"] is False
        top = body["items"][0]
        assert (top["rank"], top["messages"], top["people"]) == (1, 3, 3)
        assert "噪音" in top["title"]
        assert top["place"] == "第1网格"  # the grid's name
        assert top["first_at"].startswith("2025-05-10") and top["last_at"].startswith("2025-05-12")
        assert body["items"][1]["messages"] == 2

    def test_a_scope_and_period_is_clustered_once_per_cache_time(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        day = date(2025, 5, 10)
        dispatcher = actor_of(world, "dispatcher")
        period = {"start": _at(day), "end": _at(day + timedelta(days=5)), "top": 5}

        def messages(within: Settings) -> int:
            report = service.hot_issues(
                session, within, dispatcher, jurisdiction_code=None, **period
            )
            return report.messages

        cached = settings.model_copy(update={"hot_cache_seconds": 300})
        fresh = settings.model_copy(update={"hot_cache_seconds": 0})
        _report(
            session, settings, world, world.grid_a, "路灯不亮", "路灯不亮", "13900000011", _at(day)
        )
        assert messages(cached) == 1
        _report(
            session, settings, world, world.grid_a, "井盖缺失", "井盖缺失", "13900000012", _at(day)
        )
        assert messages(cached) == 1  # the kept result, until the cache time has passed
        assert messages(fresh) == 2

    def test_bad_period_names_the_field(self, client: httpx.Client, world: World) -> None:
        resp = client.get(
            f"{W}/hot-issues",
            params={"start": "2025-06-01", "end": "2025-05-01"},
            headers=world.headers(client, "dispatcher"),
        )
        assert resp.status_code == 422
        assert resp.json()["error"]["details"][0]["loc"] == ["query", "end"]
        bad = client.get(
            f"{W}/hot-issues", params={"start": "tomorrow"}, headers=world.headers(client, "leader")
        )
        assert bad.status_code == 422 and "start" in bad.text


class TestRepeats:
    def test_same_reporter_and_same_place(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        day = date(2025, 5, 20)
        text = "幸福小区门口垃圾堆积多日无人清理，气味难闻"
        _report(
            session,
            settings,
            world,
            world.grid_a,
            "小区门口垃圾堆积",
            text,
            "13911110000",
            _at(day - timedelta(days=10)),
        )
        _report(
            session,
            settings,
            world,
            world.grid_a,
            "小区门口垃圾还没清理",
            text + "，再次反映",
            "13911110000",
            _at(day),
        )
        # another resident, same grid, similar text: same place
        _report(
            session,
            settings,
            world,
            world.grid_a,
            "幸福小区门口垃圾",
            text,
            "13922220000",
            _at(day, 15),
        )
        # same reporter, unrelated text: not a repeat
        _report(
            session,
            settings,
            world,
            world.grid_a,
            "咨询社保",
            "外地社保如何转入本市",
            "13911110000",
            _at(day, 16),
        )
        # too long ago (outside the 30-day window)
        _report(
            session,
            settings,
            world,
            world.grid_b,
            "小区门口垃圾堆积",
            text,
            "13933330000",
            _at(day - timedelta(days=60)),
        )
        _report(
            session,
            settings,
            world,
            world.grid_b,
            "小区门口垃圾堆积",
            text,
            "13933330000",
            _at(day),
        )
        session.commit()
        h = world.headers(client, "dispatcher")
        body = client.get(
            f"{W}/repeats", params={"start": "2025-05-20", "end": "2025-05-21"}, headers=h
        ).json()
        kinds = [(i["kind"], i["title"], len(i["previous_codes"])) for i in body["items"]]
        assert kinds == [
            ("same_place", "幸福小区门口垃圾", 2),
            ("same_reporter", "小区门口垃圾还没清理", 1),
        ]
        assert body["items"][1]["similarity"] >= settings.repeat_similarity
        only = client.get(
            f"{W}/repeats",
            params={"start": "2025-05-20", "end": "2025-05-21", "kind": "same_reporter"},
            headers=h,
        ).json()
        assert [i["kind"] for i in only["items"]] == ["same_reporter"]
        # street B's pair is 60 days apart: nothing for its dispatcher either
        other = client.get(
            f"{W}/repeats",
            params={"start": "2025-05-20", "end": "2025-05-21"},
            headers=_login_b(client, world),
        ).json()
        assert other["items"] == []
