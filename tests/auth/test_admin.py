"""Admins manage users, departments and roles, inside their own jurisdiction only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories.auth import login
from tests.factories.world import World


def _new_user(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": "new_user",
        "display_name": "新用户",
        "password": "Gxq-pass-2041",
        "roles": ["dispatcher"],
        "jurisdiction_code": world.street_a,
    }
    body.update(overrides)
    return body


class TestUsers:
    def test_create_and_log_in(self, client: httpx.Client, world: World) -> None:
        admin = world.headers(client, "admin")
        resp = client.post("/api/v1/users", json=_new_user(world), headers=admin)
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert body["role_codes"] == ["dispatcher"]
        assert body["jurisdiction_code"] == world.street_a
        assert "password" not in body and "password_hash" not in body
        me = client.get(
            "/api/v1/auth/me", headers=login(client, "new_user", "Gxq-pass-2041")
        ).json()
        assert me["scope_path"].endswith(f"/{world.street_a}/")

    def test_duplicate_username(self, client: httpx.Client, world: World) -> None:
        admin = world.headers(client, "admin")
        resp = client.post(
            "/api/v1/users", json=_new_user(world, username="dispatcher_a"), headers=admin
        )
        assert resp.status_code == 409
        assert resp.json()["error"]["code"] == "user.username_taken"

    @pytest.mark.parametrize(
        ("overrides", "code"),
        [
            ({"password": "short1"}, "validation_error"),
            ({"password": "onlyletters"}, "validation_error"),
            ({"username": "x"}, "validation_error"),
            ({"username": "含中文"}, "validation_error"),
            ({"roles": []}, "validation_error"),
            ({"roles": ["wizard"]}, "user.unknown_role"),
            ({"jurisdiction_code": None}, "user.placement_required"),
            ({"roles": ["department_handler"]}, "user.role_level"),
            ({"roles": ["grid_worker"]}, "user.role_level"),
        ],
    )
    def test_invalid_users(
        self, client: httpx.Client, world: World, overrides: dict[str, Any], code: str
    ) -> None:
        resp = client.post(
            "/api/v1/users",
            json=_new_user(world, **overrides),
            headers=world.headers(client, "admin"),
        )
        assert resp.status_code == 422, resp.text
        assert resp.json()["error"]["code"] == code

    def test_department_handler_sits_on_department_area(
        self, client: httpx.Client, world: World
    ) -> None:
        resp = client.post(
            "/api/v1/users",
            json=_new_user(
                world,
                roles=["department_handler"],
                jurisdiction_code=None,
                department_id=world.dep_a.id,
            ),
            headers=world.headers(client, "admin"),
        )
        assert resp.status_code == 201, resp.text
        assert resp.json()["jurisdiction_code"] == world.dep_a.area_code
        assert resp.json()["department"]["code"] == "DA"

    def test_cannot_grant_more_than_one_holds(self, client: httpx.Client, world: World) -> None:
        """A custom role with user:write cannot create admins."""
        city_admin = login(client, "city_admin")
        role = {"code": "hr", "name": "人事", "permissions": ["user:read", "user:write"]}
        assert client.post("/api/v1/roles", json=role, headers=city_admin).status_code == 201
        client.post(
            "/api/v1/users", json=_new_user(world, username="hr1", roles=["hr"]), headers=city_admin
        )
        hr = login(client, "hr1", "Gxq-pass-2041")
        resp = client.post(
            "/api/v1/users", json=_new_user(world, username="boss", roles=["admin"]), headers=hr
        )
        assert resp.status_code == 403
        ok = client.post(
            "/api/v1/users", json=_new_user(world, username="clerk", roles=["hr"]), headers=hr
        )
        assert ok.status_code == 201

    def test_list_is_scoped_and_filtered(self, client: httpx.Client, world: World) -> None:
        headers = world.headers(client, "dispatcher")
        body = client.get("/api/v1/users", headers=headers).json()
        names = {u["username"] for u in body["items"]}
        assert "dispatcher_a" in names
        assert "dispatcher_b" not in names
        assert "city_admin" not in names
        assert body["total"] == len(body["items"])
        grid = client.get("/api/v1/users", params={"role": "grid_worker"}, headers=headers).json()
        assert [u["username"] for u in grid["items"]] == ["grid_worker_a"]
        other = client.get(
            "/api/v1/users", params={"jurisdiction_code": world.street_b}, headers=headers
        )
        assert other.status_code == 404

    def test_move_user_out_of_scope_is_refused(self, client: httpx.Client, world: World) -> None:
        resp = client.patch(
            f"/api/v1/users/{world.users['mediator'].id}",
            json={"jurisdiction_code": world.street_b},
            headers=world.headers(client, "admin"),
        )
        assert resp.status_code == 404


class TestDepartments:
    def test_dispatcher_sees_departments_serving_its_area(
        self, client: httpx.Client, world: World
    ) -> None:
        city_admin = login(client, "city_admin")
        municipal = client.post(
            "/api/v1/departments",
            json={
                "code": "M1",
                "name": "市城管委",
                "level": "municipal",
                "area_code": "420100000000",
            },
            headers=city_admin,
        )
        assert municipal.status_code == 201, municipal.text
        codes = {
            d["code"]
            for d in client.get(
                "/api/v1/departments", headers=world.headers(client, "dispatcher")
            ).json()
        }
        assert codes == {"M1", "DA"}

    def test_level_must_match_area(self, client: httpx.Client, world: World) -> None:
        resp = client.post(
            "/api/v1/departments",
            json={
                "code": "X1",
                "name": "错",
                "level": "municipal",
                "area_code": world.dep_a.area_code,
            },
            headers=world.headers(client, "admin"),
        )
        assert resp.status_code == 422
        assert resp.json()["error"]["code"] == "department.area_level"

    def test_district_admin_cannot_edit_municipal_department(
        self, client: httpx.Client, world: World
    ) -> None:
        city_admin = login(client, "city_admin")
        dep = client.post(
            "/api/v1/departments",
            json={
                "code": "M2",
                "name": "市水务局",
                "level": "municipal",
                "area_code": "420100000000",
            },
            headers=city_admin,
        ).json()
        admin = world.headers(client, "admin")
        assert client.get(f"/api/v1/departments/{dep['id']}", headers=admin).status_code == 200
        resp = client.patch(f"/api/v1/departments/{dep['id']}", json={"name": "改"}, headers=admin)
        assert resp.status_code == 403


class TestRoles:
    def test_builtin_roles_are_listed_with_permissions(
        self, client: httpx.Client, world: World
    ) -> None:
        roles = {
            r["code"]: r
            for r in client.get("/api/v1/roles", headers=world.headers(client, "admin")).json()
        }
        assert set(roles) >= {
            "resident",
            "grid_worker",
            "dispatcher",
            "department_handler",
            "supervisor",
            "leader",
            "mediator",
            "admin",
        }
        assert "audit:read" in roles["supervisor"]["permissions"]
        assert roles["resident"]["permissions"] == ["jurisdiction:locate"]

    def test_builtin_role_is_read_only(self, client: httpx.Client, world: World) -> None:
        resp = client.patch(
            "/api/v1/roles/dispatcher",
            json={"permissions": []},
            headers=login(client, "city_admin"),
        )
        assert resp.status_code == 409

    def test_only_city_admins_define_roles(self, client: httpx.Client, world: World) -> None:
        resp = client.post(
            "/api/v1/roles",
            json={"code": "odd", "name": "怪", "permissions": []},
            headers=world.headers(client, "admin"),  # a district admin
        )
        assert resp.status_code == 403
        assert resp.json()["error"]["code"] == "role.city_only"

    def test_unknown_permission_code(self, client: httpx.Client, world: World) -> None:
        resp = client.post(
            "/api/v1/roles",
            json={"code": "odd", "name": "怪", "permissions": ["fly:away"]},
            headers=login(client, "city_admin"),
        )
        assert resp.status_code == 422
        assert resp.json()["error"]["code"] == "role.unknown_permission"

    def test_custom_role_grants_its_permissions(self, client: httpx.Client, world: World) -> None:
        admin = login(client, "city_admin")
        client.post(
            "/api/v1/roles",
            json={"code": "auditor", "name": "审计", "permissions": ["audit:read"]},
            headers=admin,
        )
        client.post(
            "/api/v1/users",
            json=_new_user(world, username="aud1", roles=["auditor"]),
            headers=admin,
        )
        aud = login(client, "aud1", "Gxq-pass-2041")
        assert client.get("/api/v1/audit/records", headers=aud).status_code == 200
        assert client.get("/api/v1/users", headers=aud).status_code == 403
        client.patch("/api/v1/roles/auditor", json={"permissions": []}, headers=admin)
        assert client.get("/api/v1/audit/records", headers=aud).status_code == 403
