"""The responsibility list: 数字城管 owner-first / territory-first, specificity, fallback (兜底),
and its admin API (audited, scoped)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.audit.models import AuditRecord
from shiyu.auth.access import system_actor
from shiyu.auth.models import Department
from shiyu.jurisdiction.models import Jurisdiction
from shiyu.routing import service
from shiyu.routing.schemas import Basis, RuleIn
from tests.factories.auth import create_department
from tests.factories.jurisdiction import CITY
from tests.factories.world import World


@dataclass
class Units:
    power: Department  # 权属单位 of lamps and manholes, city-wide
    gov_a: Department  # 区政府, the 兜底 of district A
    street_team: Department  # a street's own team


def _path(session: Session, code: str) -> str:
    unit = session.get(Jurisdiction, code)
    assert unit is not None
    return unit.path


def _rule(session: Session, category: str | None, area: str | None, dep: int, basis: Basis) -> int:
    rule = service.create_rule(
        session,
        system_actor(),
        RuleIn(category_code=category, area_code=area, basis=basis, department_id=dep),
    )
    return rule.id


@pytest.fixture
def units(session: Session, world: World) -> Units:
    district_a = world.city.districts[0]
    power = create_department(session, code="PWR", area_code=CITY, name="市供电公司")
    gov_a = create_department(session, code="GOVA", area_code=district_a, name="第1区人民政府")
    team = create_department(session, code="TEAM", area_code=district_a, name="街道城管队")
    # components: the owner (BJ01 公用设施 → 供电公司) and the territory (district A's 城管局)
    _rule(session, "BJ01", None, power.id, Basis.owner)
    _rule(session, "BJ01", district_a, world.dep_a.id, Basis.territory)
    # events: territory (district A) and an owner line that must come second
    _rule(session, "SJ01", district_a, world.dep_a.id, Basis.territory)
    _rule(session, "SJ01", None, power.id, Basis.owner)
    _rule(session, None, district_a, gov_a.id, Basis.territory)
    return Units(power, gov_a, team)


def test_component_goes_to_its_owner_first(session: Session, world: World, units: Units) -> None:
    route = service.resolve(session, "BJ0101", _path(session, world.grid_a))  # 井盖
    assert (route.department_id, route.basis) == (units.power.id, "owner")


def test_event_goes_to_the_territory_first(session: Session, world: World, units: Units) -> None:
    route = service.resolve(session, "SJ0101", _path(session, world.grid_a))  # 暴露垃圾
    assert (route.department_id, route.basis) == (world.dep_a.id, "territory")
    # outside district A there is no territory line: the owner line is next
    route = service.resolve(session, "SJ0101", _path(session, world.grid_b))
    assert (route.department_id, route.basis) == (units.power.id, "owner")


def test_the_most_specific_area_wins(session: Session, world: World, units: Units) -> None:
    _rule(session, "SJ01", world.street_a, units.street_team.id, Basis.territory)
    assert (
        service.resolve(session, "SJ0101", _path(session, world.grid_a)).department_id
        == units.street_team.id
    )
    # a grid of the other street of district A still gets the district's line
    other_street = world.city.streets[1]
    grid = next(g for g in world.city.grids if g.startswith(other_street[:9]))
    assert service.resolve(session, "SJ0101", _path(session, grid)).department_id == world.dep_a.id


def test_unlisted_category_falls_back_to_the_district_government(
    session: Session, world: World, units: Units
) -> None:
    route = service.resolve(session, "SJ02", _path(session, world.grid_a))
    assert (route.department_id, route.basis) == (units.gov_a.id, "fallback")
    # district B has no fallback line: no department, the dispatcher decides
    route = service.resolve(session, "SJ02", _path(session, world.grid_b))
    assert route.department_id is None and route.basis is None


def test_inactive_rules_are_ignored(session: Session, world: World, units: Units) -> None:
    from shiyu.routing.schemas import RuleUpdate

    rules = service.list_rules(session, system_actor())
    owner = next(r for r in rules if r.category_code == "BJ01" and r.basis == "owner")
    service.update_rule(session, system_actor(), owner.id, RuleUpdate(is_active=False))
    route = service.resolve(session, "BJ0101", _path(session, world.grid_a))
    assert (route.department_id, route.basis) == (world.dep_a.id, "territory")


def test_admin_api_edits_the_list_with_audit(
    client: httpx.Client, session: Session, world: World, units: Units
) -> None:
    admin = world.headers(client, "admin")  # district A's administrator
    district_a = world.city.districts[0]
    body = {
        "category_code": "SJ03",
        "area_code": district_a,
        "basis": "territory",
        "department_id": world.dep_a.id,
        "note": "施工管理",
    }
    created = client.post("/api/v1/routing/rules", json=body, headers=admin)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["level"] == "district"

    patched = client.patch(
        f"/api/v1/routing/rules/{rule['id']}", json={"note": "改"}, headers=admin
    )
    assert patched.status_code == 200 and patched.json()["note"] == "改"
    resolved = client.get(
        "/api/v1/routing/resolve",
        params={"category_code": "SJ0301", "place_code": world.grid_a},
        headers=world.headers(client, "dispatcher"),
    ).json()
    assert resolved["department_id"] == world.dep_a.id and resolved["basis"] == "territory"
    # a street dispatcher sees the district's and the city's lines, not district B's
    _rule(session, "SJ02", world.city.districts[1], world.dep_b.id, Basis.territory)
    session.flush()
    listed = client.get("/api/v1/routing/rules", headers=world.headers(client, "dispatcher"))
    areas = {r["area_code"] for r in listed.json()}
    assert areas == {None, district_a}
    assert client.delete(f"/api/v1/routing/rules/{rule['id']}", headers=admin).status_code == 204

    actions = session.scalars(
        select(AuditRecord.action).where(AuditRecord.object_type == "routing_rule")
    ).all()
    assert {"routing.rule_create", "routing.rule_update", "routing.rule_delete"} <= set(actions)


def test_bad_rules_are_refused_with_the_field(client: httpx.Client, world: World) -> None:
    admin = world.headers(client, "admin")
    district_a = world.city.districts[0]
    ok = {"area_code": district_a, "department_id": world.dep_a.id, "category_code": "SJ01"}
    cases = [
        ({**ok, "category_code": "NOPE"}, "category_code", 422),
        ({**ok, "department_id": 987654}, "department_id", 422),
        ({**ok, "department_id": world.dep_b.id}, "department_id", 422),  # district B's
        ({**ok, "area_code": world.city.districts[1]}, "area_code", 422),
        ({**ok, "basis": "whatever"}, "basis", 422),
        ({**ok, "category_code": None, "basis": "owner"}, "basis", 422),
    ]
    for body, field, status in cases:
        resp = client.post("/api/v1/routing/rules", json=body, headers=admin)
        assert resp.status_code == status, (body, resp.text)
        assert field in str(resp.json()["error"]["details"]), resp.text
    # a district administrator cannot write city-wide lines
    resp = client.post("/api/v1/routing/rules", json={**ok, "area_code": None}, headers=admin)
    assert resp.status_code == 403
