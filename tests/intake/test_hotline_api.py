"""12345 hotline imports through the real HTTP API: mappings, uploads, idempotency, bad rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.audit.models import AuditRecord
from shiyu.auth.access import system_actor
from shiyu.config import Settings
from shiyu.events import search
from shiyu.events import service as events
from shiyu.events.models import Action, Event, EventSearch
from shiyu.kit.crypto import normalise_phone
from shiyu.notifications.models import OutboundMessage
from tests.factories.events import act
from tests.factories.world import World
from tests.intake.hotline_files import HEADER, MAPPING, row, to_csv, to_xlsx

BASE = "/api/v1/intake/hotline"
SOURCE = "hotline:city12345"


def _mapping(client: httpx.Client, headers: dict[str, str], **overrides: Any) -> httpx.Response:
    return client.post(f"{BASE}/mappings", json={**MAPPING, **overrides}, headers=headers)


def _upload(
    client: httpx.Client,
    headers: dict[str, str],
    data: bytes,
    *,
    name: str = "orders.csv",
    mapping: str = "city12345",
) -> httpx.Response:
    return client.post(
        f"{BASE}/imports",
        files={"file": (name, data, "application/octet-stream")},
        data={"mapping": mapping},
        headers=headers,
    )


def _events(session: Session) -> dict[str, Event]:
    session.expire_all()
    rows = session.scalars(select(Event).where(Event.source == SOURCE)).all()
    return {e.external_id or "": e for e in rows}


@pytest.fixture
def admin(client: httpx.Client, world: World) -> dict[str, str]:
    """The district-A admin (a district-level centre) with the test mapping saved."""
    headers = world.headers(client, "admin")
    assert _mapping(client, headers).status_code == 201
    return headers


class TestUpload:
    def test_csv_rows_become_events_as_create_would_store_them(
        self,
        client: httpx.Client,
        world: World,
        session: Session,
        settings: Settings,
        admin: dict[str, str],
    ) -> None:
        lng, lat = world.city.centres[world.grid_a]
        data = to_csv(
            [
                row("GD1", "路灯不亮", 经度=str(lng), 纬度=str(lat), 电话="+86 138-0013-8000"),
                row("GD2", "垃圾满溢", 类别="环境保护", 电话="", 姓名=""),
            ]
        )
        resp = _upload(client, admin, data)
        assert resp.status_code == 201, resp.text
        report = resp.json()
        assert (report["created"], report["failed"], report["status"]) == (2, 0, "done")
        assert report["rows_total"] == report["rows_done"] == 2

        found = _events(session)
        first, second = found["GD1"], found["GD2"]
        district = world.dep_a.area_code
        assert first.channel == "hotline_12345" and first.status == "reported"
        assert first.owner_code == district  # the importing district centre owns it (首接)
        assert first.grid_code == world.grid_a
        assert first.scope_path.endswith(f"/{world.grid_a}/")
        assert second.grid_code is None and second.scope_path == first.owner_path
        assert first.category_code == "AP01" and second.category_code == "AP05"
        assert first.code == f"SY20261001{first.id:07d}"
        assert first.reported_at == datetime(2026, 10, 1, 1, 30, tzinfo=UTC)  # 09:30 in China
        cipher = events.cipher_for(settings)
        assert cipher.decrypt(first.reporter_phone) == "13800138000"
        assert cipher.decrypt(first.reporter_name) == "张三"
        assert first.reporter_phone_hash == cipher.lookup_hash(normalise_phone("13800138000"))
        assert second.reporter_phone is None and second.reporter_name is None
        first_document = session.get(EventSearch, first.id)
        assert first_document is not None
        assert first_document.document == search.document_text(
            first.title, first.description, "解放路1号"
        )
        timeline = session.scalars(select(Action).where(Action.event_id == first.id)).all()
        assert [(a.action, a.to_status, a.data) for a in timeline] == [
            ("report", "reported", {"channel": "hotline_12345"})
        ]
        sms = session.scalars(
            select(OutboundMessage).where(OutboundMessage.event_id.in_([first.id, second.id]))
        ).all()
        assert [m.event_id for m in sms] == [first.id]  # the receipt, to callers with a phone
        assert first.code in sms[0].body
        audit = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "event.import")
        ).one()
        assert sorted(audit.summary["after"]["created"]) == sorted([first.code, second.code])

        # the event reads like any other through the events API
        detail = client.get(f"/api/v1/events/{first.code}", headers=admin)
        assert detail.status_code == 200, detail.text
        assert detail.json()["reporter_phone"] in ("13800138000", "138****8000")

    def test_traditional_and_full_width_text_is_stored_as_other_channels_store_it(
        self, client: httpx.Client, session: Session, admin: dict[str, str]
    ) -> None:
        data = to_csv(
            [row("GD9", "路燈不亮", 内容="ＡＢＣ小區門口路燈\x07不亮", 地址="解放路１號")]
        )
        assert _upload(client, admin, data).status_code == 201
        event = _events(session)["GD9"]
        assert event.title == "路灯不亮"
        assert event.description == "ABC小区门口路灯不亮"
        assert event.address == "解放路1号"
        # found by what a dispatcher types, in Simplified
        found = client.get("/api/v1/events", params={"q": "小区门口路灯"}, headers=admin)
        assert found.status_code == 200, found.text
        assert event.code in [e["code"] for e in found.json()["items"]]
        # the same file again: nothing changes (the stored text is compared normalised)
        again = _upload(client, admin, data).json()
        assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)

    def test_xlsx_with_typed_cells(
        self, client: httpx.Client, session: Session, admin: dict[str, str]
    ) -> None:
        data = to_xlsx(
            [
                row("X1", 来电时间=datetime(2026, 9, 30, 8, 0), 电话=13900139000),
                row("X2", 来电时间="2026/09/30 10:15"),
                row("X3", 电话="12"),
            ]
        )
        resp = _upload(client, admin, data, name="orders.xlsx")
        assert resp.status_code == 201, resp.text
        report = resp.json()
        assert (report["created"], report["failed"]) == (2, 1)
        assert report["errors"] == [
            {"row": 4, "field": "phone", "reason": "来电号码格式不正确", "order_id": "X3"}
        ]
        found = _events(session)
        assert found["X1"].reported_at == datetime(2026, 9, 30, 0, 0, tzinfo=UTC)
        assert found["X2"].reported_at == datetime(2026, 9, 30, 2, 15, tzinfo=UTC)

    def test_gb18030_csv(
        self, client: httpx.Client, session: Session, admin: dict[str, str]
    ) -> None:
        resp = _upload(client, admin, to_csv([row("G1", "噪音扰民")], encoding="gb18030"))
        assert resp.status_code == 201, resp.text
        assert _events(session)["G1"].title == "噪音扰民"

    def test_utf8_bom_csv(
        self, client: httpx.Client, session: Session, admin: dict[str, str]
    ) -> None:
        resp = _upload(client, admin, to_csv([row("B1")], encoding="utf-8-sig"))
        assert resp.status_code == 201, resp.text
        assert resp.json()["created"] == 1


class TestIdempotency:
    def test_reimport_adds_nothing_and_updates_changed_rows(
        self,
        client: httpx.Client,
        world: World,
        session: Session,
        settings: Settings,
        admin: dict[str, str],
    ) -> None:
        rows = [
            row("R1", "路灯不亮"),
            row("R2", "井盖缺失"),
            row("R3", "占道经营"),
            row("", "无编号"),
        ]
        first = _upload(client, admin, to_csv(rows)).json()
        assert first["created"] == 4
        before = _events(session)
        hashed = next(k for k in before if k.startswith("sha256:"))
        version = before["R1"].version

        again = _upload(client, admin, to_csv(rows)).json()
        assert (again["created"], again["unchanged"], again["updated"]) == (0, 4, 0)
        assert len(_events(session)) == 4

        # R3 is dispatched meanwhile: the hotline may no longer change it
        dispatcher = replace(system_actor(), roles=frozenset({"dispatcher"}))
        r3 = before["R3"]
        act(session, settings, r3, dispatcher, "accept")
        act(session, settings, r3, dispatcher, "dispatch", lead_department_id=world.dep_a.id)
        session.commit()
        changed = [
            row("R1", "路灯不亮", 内容="改：路灯整排不亮"),
            row("R2", "井盖缺失", 类别="环境保护", 地址="和平路2号"),
            row("R3", "占道经营", 内容="改了也不算"),
            row("", "无编号", 类别="环境保护"),  # the derived order id ignores the category
        ]
        third = _upload(client, admin, to_csv(changed)).json()
        assert (third["created"], third["updated"], third["locked"]) == (0, 3, 1)
        assert third["locked_rows"] == [
            {"row": 4, "order_id": "R3", "code": r3.code, "status": "dispatched"}
        ]
        after = _events(session)
        assert len(after) == 4
        assert after["R1"].description == "改：路灯整排不亮"
        r1_document = session.get(EventSearch, after["R1"].id)
        assert r1_document is not None and "整排" in r1_document.document.split()
        assert (after["R2"].category_code, after["R2"].address) == ("AP05", "和平路2号")
        assert after["R3"].description == "占道经营，请尽快处理"
        assert after[hashed].category_code == "AP05"
        assert after["R1"].version == version + 1
        steps = session.scalars(
            select(Action.action).where(Action.event_id == after["R1"].id).order_by(Action.id)
        ).all()
        assert steps == ["report", "update"]


class TestBadRows:
    def test_good_rows_imported_bad_rows_listed_with_numbers(
        self, client: httpx.Client, session: Session, admin: dict[str, str]
    ) -> None:
        rows = [
            row("OK1"),
            row("E1", ""),  # row 3: no title
            row("E2", 来电时间="下午三点"),
            row("E3", 类别="不存在的类"),
            row("E4", 经度="114.0", 纬度=""),
            row("OK1", "重复的"),  # row 7: the same order id as row 2
            row("E5", 电话="call me"),
            ["", "", "", "", "", "", "", "", "", ""],  # row 9: empty
            row("OK2", 来电时间="2099-01-01 00:00:00"),
            row("OK3"),
        ]
        resp = _upload(client, admin, to_csv(rows))
        assert resp.status_code == 201, resp.text
        report = resp.json()
        assert (report["created"], report["failed"]) == (2, 8)
        assert [(e["row"], e["field"]) for e in report["errors"]] == [
            (3, "title"),
            (4, "reported_at"),
            (5, "category"),
            (6, "lng"),
            (7, "order_id"),
            (8, "phone"),
            (9, ""),
            (10, "reported_at"),
        ]
        reasons = {e["row"]: e["reason"] for e in report["errors"]}
        assert reasons[7] == "工单编号与第2行重复"
        assert reasons[5] == "未知的分类“不存在的类”"
        assert set(_events(session)) == {"OK1", "OK3"}

        # the job keeps them, and a re-run is safe
        job = client.get(f"{BASE}/imports/{report['id']}", headers=admin).json()
        assert [e["row"] for e in job["errors"]] == [3, 4, 5, 6, 7, 8, 9, 10]
        again = _upload(client, admin, to_csv(rows)).json()
        assert (again["created"], again["unchanged"], again["failed"]) == (0, 2, 8)

    def test_unreadable_files_are_422_naming_the_problem(
        self, client: httpx.Client, admin: dict[str, str]
    ) -> None:
        bad_xlsx = _upload(client, admin, b"PK\x03\x04 not really a zip", name="a.xlsx")
        assert bad_xlsx.status_code == 422
        assert bad_xlsx.json()["error"]["code"] == "hotline.unreadable_file"
        wrong = _upload(client, admin, to_csv([row("A")], header=["x", *HEADER[1:]]))
        assert wrong.status_code == 422
        assert "工单号" in wrong.json()["error"]["message"]
        assert wrong.json()["error"]["details"][0]["input"] == ["工单号"]
        empty = _upload(client, admin, b"")
        assert empty.status_code == 422

    def test_unknown_mapping_is_404(self, client: httpx.Client, admin: dict[str, str]) -> None:
        resp = _upload(client, admin, to_csv([row("A")]), mapping="nope")
        assert resp.status_code == 404
        assert resp.json()["error"]["code"] == "hotline.mapping_not_found"

    def test_missing_mapping_field_is_422(
        self, client: httpx.Client, admin: dict[str, str]
    ) -> None:
        resp = client.post(
            f"{BASE}/imports", files={"file": ("a.csv", b"x", "text/csv")}, headers=admin
        )
        assert resp.status_code == 422
        assert "mapping" in str(resp.json()["error"]["details"])


class TestAccess:
    def test_street_dispatcher_may_not_import(
        self, client: httpx.Client, world: World, admin: dict[str, str]
    ) -> None:
        headers = world.headers(client, "dispatcher")
        resp = _upload(client, headers, to_csv([row("A")]))
        assert resp.status_code == 403
        assert resp.json()["error"]["code"] == "hotline.level"

    def test_jobs_are_seen_in_the_importers_jurisdiction_only(
        self, client: httpx.Client, world: World, session: Session, admin: dict[str, str]
    ) -> None:
        report = _upload(client, admin, to_csv([row("A")])).json()
        listed = client.get(f"{BASE}/imports", headers=admin).json()
        assert [j["id"] for j in listed["items"]] == [report["id"]]
        from tests.factories.auth import login

        assert world.city_admin is not None
        city = login(client, world.city_admin.username)
        assert client.get(f"{BASE}/imports/{report['id']}", headers=city).status_code == 200
        assert world.user_b is not None
        from tests.factories.auth import create_user

        other = create_user(
            session, username="admin_b", roles=["admin"], jurisdiction_code=world.dep_b.area_code
        )
        session.commit()
        other_headers = login(client, other.username)
        assert (
            client.get(f"{BASE}/imports/{report['id']}", headers=other_headers).status_code == 404
        )
        assert client.get(f"{BASE}/imports", headers=other_headers).json()["total"] == 0


class TestMappings:
    def test_builtin_appeals_mapping_is_listed_and_protected(
        self, client: httpx.Client, world: World
    ) -> None:
        headers = world.headers(client, "admin")
        names = [m["name"] for m in client.get(f"{BASE}/mappings", headers=headers).json()]
        assert "appeals" in names
        appeals = client.get(f"{BASE}/mappings/appeals", headers=headers).json()
        assert appeals["builtin"] is True and appeals["category_map"]["卫生计生"] == "AP06"
        patched = client.patch(f"{BASE}/mappings/appeals", json={"label": "x"}, headers=headers)
        assert patched.status_code == 409
        assert client.delete(f"{BASE}/mappings/appeals", headers=headers).status_code == 409

    def test_crud(self, client: httpx.Client, world: World, admin: dict[str, str]) -> None:
        assert _mapping(client, admin).status_code == 409
        patched = client.patch(
            f"{BASE}/mappings/city12345", json={"time_format": "%Y/%m/%d %H:%M"}, headers=admin
        )
        assert patched.status_code == 200 and patched.json()["time_format"] == "%Y/%m/%d %H:%M"
        assert patched.json()["columns"] == MAPPING["columns"]
        assert client.delete(f"{BASE}/mappings/city12345", headers=admin).status_code == 204
        assert client.get(f"{BASE}/mappings/city12345", headers=admin).status_code == 404

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"category_map": {"城乡建设": "ZZ99"}}, "category_map"),
            ({"columns": {"order_id": "x"}}, "columns"),
            ({"columns": {**MAPPING["columns"], "colour": "颜色"}}, "columns"),
            ({"owner_code": "420200000000"}, "owner_code"),
            ({"name": "Bad Name"}, "name"),
            ({"appeal_kind_map": {"咨询": "chat"}}, "appeal_kind_map"),
        ],
    )
    def test_bad_mapping_is_422_naming_the_field(
        self, client: httpx.Client, world: World, overrides: dict[str, Any], field: str
    ) -> None:
        headers = world.headers(client, "admin")
        resp = _mapping(client, headers, **overrides)
        assert resp.status_code == 422, resp.text
        assert field in str(resp.json()["error"]["details"])

    def test_owner_column_routes_rows_to_a_district(
        self, client: httpx.Client, world: World, session: Session
    ) -> None:
        city = world.city_admin
        assert city is not None
        from tests.factories.auth import login

        headers = login(client, city.username)
        body = {
            **MAPPING,
            "columns": {**MAPPING["columns"], "owner": "承办区"},
            "owner_map": {"甲区": world.city.districts[0], "乙区": world.city.districts[1]},
        }
        assert client.post(f"{BASE}/mappings", json=body, headers=headers).status_code == 201
        header = [*HEADER, "承办区"]
        rows = [[*row("D1"), "甲区"], [*row("D2"), "乙区"], [*row("D3"), ""], [*row("D4"), "丙区"]]
        report = _upload(client, headers, to_csv(rows, header=header)).json()
        assert (report["created"], report["failed"]) == (3, 1)
        assert report["errors"][0]["field"] == "owner"
        owners = {k: e.owner_code for k, e in _events(session).items()}
        assert owners == {
            "D1": world.city.districts[0],
            "D2": world.city.districts[1],
            "D3": world.city.features[0]["properties"]["code"],  # the city centre
        }


def test_counts_add_up(client: httpx.Client, session: Session, admin: dict[str, str]) -> None:
    rows = [row(f"N{i}") for i in range(25)] + [row("bad", "")]
    report = client.post(
        f"{BASE}/imports",
        files={"file": ("n.csv", to_csv(rows), "text/csv")},
        data={"mapping": "city12345"},
        headers=admin,
    ).json()
    assert report["created"] + report["failed"] == report["rows_total"] == 26
    total = session.scalar(select(func.count()).select_from(Event).where(Event.source == SOURCE))
    assert total == 25
