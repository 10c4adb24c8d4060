"""Excel export of a filtered list, read back with openpyxl."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from shiyu.config import Settings
from shiyu.events import export
from shiyu.events.models import Event
from tests.factories.events import create_event
from tests.factories.world import World

URL = "/api/v1/events/export.xlsx"
REPORTED = datetime(2025, 6, 2, 1, 30, tzinfo=UTC)  # 09:30 China time


def _rows(resp: httpx.Response) -> list[dict[str, Any]]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == export.MEDIA_TYPE
    assert resp.headers["content-disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(resp.content), read_only=True)["事件"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == export.HEADERS
    return [dict(zip(export.HEADERS, row, strict=True)) for row in values[1:]]


@pytest.fixture
def hostile(session: Session, settings: Settings, world: World) -> Event:
    event = create_event(
        session,
        settings,
        world,
        title='=HYPERLINK("http://evil.example","点我")',
        description="+86 说明\x07含控制字符",
        address="@地址",
        reporter_name="-李四",
        reported_at=REPORTED,
        urgency="urgent",
        channel="hotline_12345",
    )
    session.commit()
    return event


class TestExport:
    def test_content_matches_the_filtered_list(
        self, client: httpx.Client, world: World, hostile: Event
    ) -> None:
        headers = world.headers(client, "dispatcher")
        params = {"urgency": "urgent", "sort": "reported_at"}
        listed = client.get("/api/v1/events", params=params, headers=headers).json()["items"]
        rows = _rows(client.get(URL, params=params, headers=headers))
        assert [r["编号"] for r in rows] == [e["code"] for e in listed]
        row = rows[0]
        assert row["编号"] == hostile.code
        assert row["渠道"] == "12345热线"
        assert row["紧急程度"] == "紧急"
        assert row["状态"] == "已受理"
        assert row["分类"] == "井盖"
        assert row["网格"] == "第1网格"
        assert row["上报时间"] == datetime(2025, 6, 2, 9, 30)
        assert row["办理期限"] is None

    def test_formula_cells_are_defused(
        self, client: httpx.Client, world: World, hostile: Event
    ) -> None:
        resp = client.get(URL, params={"q": "说明"}, headers=world.headers(client, "dispatcher"))
        sheet = load_workbook(io.BytesIO(resp.content))["事件"]
        cells = {sheet.cell(1, c).value: sheet.cell(2, c) for c in range(1, sheet.max_column + 1)}
        assert cells["标题"].value == '\'=HYPERLINK("http://evil.example","点我")'
        assert cells["标题"].data_type == "s"
        assert cells["描述"].value == "'+86 说明含控制字符"
        assert cells["地址"].value == "'@地址"
        assert cells["上报人"].value == "'-李四"
        assert all(c.data_type != "f" for c in cells.values())

    def test_dispatched_event_shows_department_deadline_and_light(
        self, client: httpx.Client, world: World
    ) -> None:
        rows = _rows(
            client.get(
                URL, params={"status": "dispatched"}, headers=world.headers(client, "dispatcher")
            )
        )
        assert world.event_a is not None
        assert [r["编号"] for r in rows] == [world.event_a.code]
        assert rows[0]["主办单位"] == "甲区城管局"
        assert rows[0]["亮灯"] == "绿灯"
        assert isinstance(rows[0]["办理期限"], datetime)

    def test_phone_masked_unless_the_caller_may_see_it(
        self, client: httpx.Client, world: World, hostile: Event
    ) -> None:
        params = {"q": "说明"}
        full = _rows(client.get(URL, params=params, headers=world.headers(client, "dispatcher")))
        masked = _rows(client.get(URL, params=params, headers=world.headers(client, "leader")))
        assert full[0]["联系电话"] == "13800138000"
        assert masked[0]["联系电话"] == "138****8000"
        assert masked[0]["上报人"] != "'-李四"

    def test_scoped_to_the_callers_jurisdiction(
        self, client: httpx.Client, world: World, hostile: Event
    ) -> None:
        codes = {r["编号"] for r in _rows(client.get(URL, headers=world.headers(client, "leader")))}
        assert world.event_a is not None and world.event_b is not None
        assert {world.event_a.code, hostile.code} <= codes
        assert world.event_b.code not in codes

    def test_too_many_rows_is_422(
        self,
        client: httpx.Client,
        world: World,
        hostile: Event,
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(settings, "export_max_rows", 1)
        headers = world.headers(client, "dispatcher")
        resp = client.get(URL, headers=headers)
        assert resp.status_code == 422
        error = resp.json()["error"]
        assert error["code"] == "event.export_too_large"
        assert error["details"][0]["total"] == 2 and error["details"][0]["limit"] == 1
        assert len(_rows(client.get(URL, params={"urgency": "urgent"}, headers=headers))) == 1

    def test_bad_filter_is_422_naming_the_field(self, client: httpx.Client, world: World) -> None:
        resp = client.get(URL, params={"sort": "nope"}, headers=world.headers(client, "dispatcher"))
        assert resp.status_code == 422
        assert any("sort" in d["loc"] for d in resp.json()["error"]["details"])

    @pytest.mark.parametrize("role", ["grid_worker", "department_handler", "mediator"])
    def test_roles_without_export_permission(
        self, client: httpx.Client, world: World, role: str
    ) -> None:
        resp = client.get(URL, headers=world.headers(client, role))
        assert resp.status_code == 403
        assert resp.json()["error"]["details"] == [{"missing_permissions": ["event:export"]}]
