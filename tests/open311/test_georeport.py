"""GeoReport v2 over real HTTP: every endpoint in JSON and XML, validated against the published
schemas; the spec's errors; api keys; idempotency; privacy; hostile input."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from jsonschema import Draft7Validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.auth.access import system_actor
from shiyu.config import Settings
from shiyu.events import service as events
from shiyu.events.models import Event
from shiyu.events.schemas import ActionIn
from shiyu.kit.clock import utcnow
from shiyu.open311 import service
from tests.factories.jurisdiction import CITY
from tests.open311.conftest import (
    BASE,
    W3C,
    Open311World,
    assert_valid,
    errors_json,
    errors_xml,
    xml_of,
)

FORMATS = ["json", "xml"]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def _created(o311: Open311World, client: httpx.Client, **fields: str | None) -> str:
    resp = o311.post(client, **fields)
    assert resp.status_code == 201, resp.text
    code: str = resp.json()[0]["service_request_id"]
    return code


class TestDiscoveryAndServices:
    def test_discovery_json_and_xml(self, client: httpx.Client, o311: Open311World) -> None:
        resp = client.get(f"{BASE}/discovery.json")
        assert resp.status_code == 200
        # SeeClickFix's validator wants these exact types for discovery
        assert resp.headers["content-type"] == "application/json"
        body = resp.json()
        assert W3C.match(body["changeset"])
        assert body["contact"]
        assert body["key_service"]
        (endpoint,) = body["endpoints"]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"] == f"{client.base_url}{BASE}".replace("//open", "/open")
        assert endpoint["type"] == "test"
        assert endpoint["formats"] == ["text/xml", "application/json"]

        resp = client.get(f"{BASE}/discovery.xml")
        assert resp.headers["content-type"] == "text/xml"
        root = xml_of(resp)
        assert root.tag == "discovery"
        formats = [f.text for f in root.findall("endpoints/endpoint/formats/format")]
        assert formats == ["text/xml", "application/json"]
        assert root.findtext("endpoints/endpoint/url") == endpoint["url"]

    def test_services_are_the_leaf_categories(
        self, client: httpx.Client, o311: Open311World, validators: dict[str, Draft7Validator]
    ) -> None:
        resp = client.get(f"{BASE}/services.json")
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "application/json; charset=utf-8"
        services = resp.json()
        assert_valid(validators["services"], services)
        by_code = {s["service_code"]: s for s in services}
        assert by_code["BJ0101"] == {
            "service_code": "BJ0101",
            "service_name": "井盖",
            "description": "公用设施 / 井盖",
            "metadata": False,
            "type": "realtime",
            "keywords": "部件,component",
            "group": "公用设施",
        }
        assert "BJ01" not in by_code  # a parent is a group, not a service
        assert by_code["AP01"]["group"] == "城乡建设"  # a top-level leaf is its own group

        root = xml_of(client.get(f"{BASE}/services.xml"))
        assert root.tag == "services"
        xml_codes = [s.findtext("service_code") for s in root.findall("service")]
        assert xml_codes == [s["service_code"] for s in services]
        first = root.find("service")
        assert first is not None
        assert first.findtext("metadata") == "false"

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_service_definition(
        self,
        client: httpx.Client,
        o311: Open311World,
        validators: dict[str, Draft7Validator],
        fmt: str,
    ) -> None:
        resp = client.get(f"{BASE}/services/BJ0101.{fmt}")
        assert resp.status_code == 200
        if fmt == "json":
            assert resp.json() == {"service_code": "BJ0101", "attributes": []}
            assert_valid(validators["service-definition"], resp.json())
        else:
            root = xml_of(resp)
            assert root.tag == "service_definition"
            assert root.findtext("service_code") == "BJ0101"
            assert root.find("attributes") is not None

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_unknown_service_is_404(self, client: httpx.Client, fmt: str) -> None:
        resp = client.get(f"{BASE}/services/NOPE.{fmt}")
        assert resp.status_code == 404
        errors = errors_json(resp) if fmt == "json" else errors_xml(resp)
        assert errors[0].startswith("service_code:")

    def test_jurisdiction_id(self, client: httpx.Client, o311: Open311World) -> None:
        assert client.get(f"{BASE}/services.json?jurisdiction_id={CITY}").status_code == 200
        assert client.get(f"{BASE}/services.json?jurisdiction_id=").status_code == 200
        resp = client.get(f"{BASE}/services.xml?jurisdiction_id=nowhere.gov")
        assert resp.status_code == 404
        assert errors_xml(resp)[0].startswith("jurisdiction_id:")


class TestPost:
    @pytest.mark.parametrize("fmt", FORMATS)
    def test_creates_an_event(
        self,
        client: httpx.Client,
        session: Session,
        o311: Open311World,
        fmt: str,
    ) -> None:
        resp = o311.post(
            client,
            fmt,
            first_name="小明",
            last_name="王",
            phone="13800138000",
            email="wang@example.com",
            address_string="解放路和平路口",
        )
        assert resp.status_code == 201, resp.text
        if fmt == "json":
            (answer,) = resp.json()
            assert set(answer) == {"service_request_id", "token", "service_notice", "account_id"}
            code, token = answer["service_request_id"], answer["token"]
        else:
            root = xml_of(resp)
            assert root.tag == "service_requests"
            code = root.findtext("request/service_request_id")
            token = root.findtext("request/token")
        event = session.scalars(select(Event).where(Event.code == code)).one()
        assert event.channel == "open311"
        assert event.source == f"open311:{o311.client_id}"
        assert event.external_id is None
        assert event.category_code == "BJ0101"
        assert event.grid_code == o311.world.grid_a
        assert event.address == "解放路和平路口"
        assert token and len(token) == 32

    def test_created_event_is_visible_in_our_api(
        self, client: httpx.Client, o311: Open311World
    ) -> None:
        code = _created(o311, client, first_name="小明", last_name="王", phone="13800138000")
        resp = client.get(
            f"/api/v1/events/{code}", headers=o311.world.headers(client, "dispatcher")
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["channel"] == "open311"
        assert body["status"] == "reported"
        assert body["reporter_name"] == "王小明"  # 姓 before 名
        assert body["reporter_phone"] == "13800138000"
        assert body["timeline"][0]["actor_name"] == "Open311 tester"

    def test_same_client_id_twice_is_one_event(
        self, client: httpx.Client, session: Session, o311: Open311World
    ) -> None:
        first = o311.post(client, **{"attribute[external_id]": "fms-42"})
        again = o311.post(client, **{"attribute[external_id]": "fms-42"})
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()
        fms = o311.post(client, **{"attribute[fixmystreet_id]": "fms-42"})
        assert fms.json()[0]["service_request_id"] == first.json()[0]["service_request_id"]
        count = session.scalars(select(Event).where(Event.external_id == "fms-42")).all()
        assert len(count) == 1
        other = o311.post(client, **{"attribute[external_id]": "fms-43"})
        assert other.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize("key", [None, "", "wrong-key"])
    def test_api_key_is_required(
        self, client: httpx.Client, o311: Open311World, fmt: str, key: str | None
    ) -> None:
        resp = o311.post(client, fmt, api_key=key)
        assert resp.status_code == 403
        errors = errors_json(resp) if fmt == "json" else errors_xml(resp)
        assert errors[0].startswith("api_key:")

    def test_api_key_in_query_string(self, client: httpx.Client, o311: Open311World) -> None:
        resp = client.post(
            f"{BASE}/requests.json?api_key={o311.key}",
            data={"service_code": "BJ0101", **o311.point()},
        )
        assert resp.status_code == 201, resp.text

    def test_deactivated_key_stops_working(
        self, client: httpx.Client, session: Session, o311: Open311World
    ) -> None:
        assert o311.post(client).status_code == 201
        service.deactivate_client(session, None, "tester")
        session.commit()
        assert o311.post(client).status_code == 403

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"service_code": None}, "service_code"),
            ({"service_code": ""}, "service_code"),  # empty is the same as missing
            ({"service_code": "BJ01"}, "service_code"),  # a group, not a service
            ({"lat": None, "long": None}, "lat/long"),
            ({"lat": "", "long": ""}, "lat/long"),
            ({"long": None}, "lat/long"),
            ({"lat": "abc"}, "lat"),
            ({"lat": "91"}, "lat"),
            ({"long": "nan"}, "long"),
            ({"lat": None, "long": None, "address_id": "A-1"}, "lat/long"),
            ({"description": "长" * 4001}, "description"),
            ({"description": "a\x00b"}, "description"),
            ({"phone": "call me"}, "phone"),
            ({"first_name": "x" * 26}, "first_name"),
        ],
    )
    def test_bad_fields_are_400_naming_the_field(
        self, client: httpx.Client, o311: Open311World, fields: dict[str, str | None], field: str
    ) -> None:
        resp = o311.post(client, **fields)
        assert resp.status_code == 400, resp.text
        assert any(d.startswith(f"{field}:") for d in errors_json(resp)), resp.text

    def test_several_errors_at_once(self, client: httpx.Client, o311: Open311World) -> None:
        resp = o311.post(client, "xml", service_code=None, lat="x", phone="?")
        assert resp.status_code == 400
        fields = {d.split(":")[0] for d in errors_xml(resp)}
        assert {"service_code", "lat", "phone"} <= fields

    def test_address_only(self, client: httpx.Client, o311: Open311World) -> None:
        code = _created(o311, client, lat=None, long=None, address_string="江城市第1区某路1号")
        resp = client.get(f"{BASE}/requests/{code}.json")
        assert resp.json()[0]["lat"] is None
        assert resp.json()[0]["address"] == "江城市第1区某路1号"

    def test_client_scoped_to_a_district(self, client: httpx.Client, o311: Open311World) -> None:
        """An admin of district A creates a client: it may report only inside district A."""
        headers = o311.world.headers(client, "admin")
        resp = client.post("/api/v1/open311/clients", json={"name": "district-a"}, headers=headers)
        assert resp.status_code == 201, resp.text
        key = resp.json()["api_key"]
        outside = o311.post(client, api_key=key, **o311.point(o311.world.grid_b))
        assert outside.status_code == 400
        assert errors_json(outside)[0].startswith("lat/long:")
        assert o311.post(client, api_key=key).status_code == 201

    def test_oversized_body_is_refused(self, client: httpx.Client, o311: Open311World) -> None:
        resp = o311.post(client, media_url="x" * 100_000)
        assert resp.status_code == 413
        assert errors_json(resp)


class TestRequests:
    @pytest.mark.parametrize("fmt", FORMATS)
    def test_get_one_and_list(
        self,
        client: httpx.Client,
        o311: Open311World,
        validators: dict[str, Draft7Validator],
        fmt: str,
    ) -> None:
        code = _created(o311, client, address_string="解放路")
        one = client.get(f"{BASE}/requests/{code}.{fmt}")
        listed = client.get(f"{BASE}/requests.{fmt}")
        alias = client.get(f"{BASE}/request/{code}.{fmt}")
        assert one.status_code == listed.status_code == alias.status_code == 200
        if fmt == "json":
            (item,) = one.json()
            assert_valid(validators["requests"], one.json())
            assert_valid(validators["requests"], listed.json())
            assert list(item) == REQUEST_FIELDS
            assert item["service_request_id"] == code
            assert item["status"] == "open"
            assert item["status_notes"] == "已受理"
            assert item["service_name"] == "井盖"
            assert item["address"] == "解放路"
            assert item["lat"] == pytest.approx(float(o311.point()["lat"]))
            assert item["expected_datetime"] is None
            assert item["media_url"] is None
            assert W3C.match(item["requested_datetime"])
            assert W3C.match(item["updated_datetime"])
            assert code in [r["service_request_id"] for r in listed.json()]
            assert alias.json() == one.json()
        else:
            root = xml_of(one)
            assert root.tag == "service_requests"
            (request,) = root.findall("request")
            assert [child.tag for child in request] == REQUEST_FIELDS
            assert request.findtext("service_request_id") == code
            assert request.findtext("status") == "open"
            assert request.findtext("expected_datetime") == ""
            codes = [r.findtext("service_request_id") for r in xml_of(listed).findall("request")]
            assert code in codes

    def test_reporter_data_never_shown(self, client: httpx.Client, o311: Open311World) -> None:
        code = _created(
            o311, client, first_name="秘密名", last_name="龚", phone="13912345678", email="s@x.cn"
        )
        for path in (f"requests/{code}", "requests"):
            for fmt in FORMATS:
                text = client.get(f"{BASE}/{path}.{fmt}").text
                for secret in ("秘密名", "13912345678", "5678", "s@x.cn"):
                    assert secret not in text

    def test_lifecycle_maps_to_open_and_closed(
        self,
        client: httpx.Client,
        session: Session,
        settings: Settings,
        o311: Open311World,
    ) -> None:
        code = _created(o311, client)
        event = session.scalars(select(Event).where(Event.code == code)).one()
        staff = replace(system_actor(), roles=frozenset({"dispatcher"}))
        events.apply_transition(session, settings, event, staff, ActionIn(action="accept"))
        events.apply_transition(
            session,
            settings,
            event,
            staff,
            ActionIn(action="dispatch", lead_department_id=o311.world.dep_a.id),
        )
        session.commit()
        (item,) = client.get(f"{BASE}/requests/{code}.json").json()
        assert item["status"] == "open"
        assert item["agency_responsible"] == "甲区城管局"
        assert W3C.match(item["expected_datetime"])
        assert item["service_notice"].startswith("应于")
        assert item["status_notes"] == "已派遣"

        second = _created(o311, client)
        other = session.scalars(select(Event).where(Event.code == second)).one()
        events.apply_transition(
            session, settings, other, staff, ActionIn(action="reject", reason="重复上报")
        )
        session.commit()
        closed = client.get(f"{BASE}/requests.json?status=closed").json()
        assert [r["service_request_id"] for r in closed] == [second]
        assert closed[0]["status_notes"] == "不予受理"
        assert closed[0]["updated_datetime"] == service.w3c(other.closed_at)
        opened = client.get(f"{BASE}/requests.json?status=open").json()
        assert [r["service_request_id"] for r in opened] == [code]
        both = client.get(f"{BASE}/requests.json?status=open,closed").json()
        assert len(both) == 2

    def test_filters(self, client: httpx.Client, o311: Open311World) -> None:
        manhole = _created(o311, client)
        lamp = _created(o311, client, service_code="BJ0103")
        by_code = client.get(f"{BASE}/requests.json?service_code=BJ0103").json()
        assert [r["service_request_id"] for r in by_code] == [lamp]
        both = client.get(f"{BASE}/requests.json?service_code=BJ0101,BJ0103").json()
        assert {r["service_request_id"] for r in both} == {manhole, lamp}
        # the id list overrides every other argument
        ids = client.get(
            f"{BASE}/requests.json",
            params={"service_request_id": f"{manhole},{lamp},NOPE", "service_code": "SJ0101"},
        ).json()
        assert {r["service_request_id"] for r in ids} == {manhole, lamp}
        now = utcnow()
        future = client.get(
            f"{BASE}/requests.json",
            params={"start_date": (now + timedelta(days=1)).isoformat()},
        ).json()
        assert future == []
        window = client.get(
            f"{BASE}/requests.json",
            params={
                "start_date": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end_date": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        ).json()
        assert {r["service_request_id"] for r in window} == {manhole, lamp}
        empty = client.get(f"{BASE}/requests.json?status=&service_code=&start_date=").json()
        assert len(empty) == 2

    def test_only_published_channels(self, client: httpx.Client, o311: Open311World) -> None:
        """Events from other channels (the world's grid patrol ones) are not published."""
        assert o311.world.event_a is not None
        code = o311.world.event_a.code
        assert client.get(f"{BASE}/requests.json").json() == []
        assert client.get(f"{BASE}/requests/{code}.json").status_code == 404
        listed = client.get(f"{BASE}/requests.json?service_request_id={code}").json()
        assert listed == []

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("start_date=yesterday", "start_date"),
            ("end_date=2026-13-01", "end_date"),
            ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "end_date"),
            ("start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "start_date"),
            ("status=pending", "status"),
        ],
    )
    @pytest.mark.parametrize("fmt", FORMATS)
    def test_bad_query_is_400(self, client: httpx.Client, query: str, field: str, fmt: str) -> None:
        resp = client.get(f"{BASE}/requests.{fmt}?{query}")
        assert resp.status_code == 400
        errors = errors_json(resp) if fmt == "json" else errors_xml(resp)
        assert errors[0].startswith(f"{field}:")

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_unknown_request_is_404(self, client: httpx.Client, fmt: str) -> None:
        resp = client.get(f"{BASE}/requests/1' OR '1'='1.{fmt}")
        assert resp.status_code == 404
        errors = errors_json(resp) if fmt == "json" else errors_xml(resp)
        assert errors[0].startswith("service_request_id:")


class TestTokens:
    @pytest.mark.parametrize("fmt", FORMATS)
    def test_token_gives_the_request_id(
        self, client: httpx.Client, o311: Open311World, fmt: str
    ) -> None:
        answer = o311.post(client).json()[0]
        resp = client.get(f"{BASE}/tokens/{answer['token']}.{fmt}")
        assert resp.status_code == 200
        if fmt == "json":
            assert resp.json() == [
                {"service_request_id": answer["service_request_id"], "token": answer["token"]}
            ]
        else:
            root = xml_of(resp)
            assert root.findtext("request/service_request_id") == answer["service_request_id"]
            assert root.findtext("request/token") == answer["token"]

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_unknown_token_is_404(self, client: httpx.Client, fmt: str) -> None:
        resp = client.get(f"{BASE}/tokens/{'0' * 32}.{fmt}")
        assert resp.status_code == 404
        errors = errors_json(resp) if fmt == "json" else errors_xml(resp)
        assert errors[0].startswith("token:")


class TestHostileInput:
    HOSTILE = "<script>alert('x')</script> & ]]> \"q\" 路灯🙂 <![CDATA[x]]> &amp;"

    def test_markup_comes_out_as_text(self, client: httpx.Client, o311: Open311World) -> None:
        code = _created(o311, client, description=self.HOSTILE, address_string="<b>路</b>")
        as_json = client.get(f"{BASE}/requests/{code}.json").json()[0]
        assert as_json["description"] == self.HOSTILE
        resp = client.get(f"{BASE}/requests/{code}.xml")
        assert b"<script>" not in resp.content
        root = xml_of(resp)  # parses: the markup was escaped
        assert root.findtext("request/description") == self.HOSTILE
        assert root.findtext("request/address") == "<b>路</b>"

    def test_characters_xml_cannot_carry_are_dropped(
        self, client: httpx.Client, session: Session, o311: Open311World
    ) -> None:
        """Events of other channels may hold such characters; the XML must still parse."""
        code = _created(o311, client)
        event = session.scalars(select(Event).where(Event.code == code)).one()
        event.description = "a\x0bb\ufffec"
        session.commit()
        root = xml_of(client.get(f"{BASE}/requests/{code}.xml"))
        assert root.findtext("request/description") == "abc"

    @pytest.mark.parametrize(
        ("path", "status"),
        [
            ("services.yaml", 404),
            ("nothing.json", 404),
            ("services/BJ0101.html", 404),
        ],
    )
    def test_unknown_paths_answer_in_georeport_form(
        self, client: httpx.Client, path: str, status: int
    ) -> None:
        resp = client.get(f"{BASE}/{path}")
        assert resp.status_code == status
        if path.endswith(".json"):
            errors_json(resp)
        else:
            errors_xml(resp)

    def test_wrong_method(self, client: httpx.Client) -> None:
        resp = client.delete(f"{BASE}/requests.json")
        assert resp.status_code == 404
        errors_json(resp)
