"""The password policy on user creation, an administrator's reset and one's own change."""

from __future__ import annotations

import httpx
import pytest

from shiyu.auth import passwords
from tests.factories.auth import PASSWORD, login
from tests.factories.world import World


def _new_user(world: World, password: str, username: str = "policy_user") -> dict[str, object]:
    return {
        "username": username,
        "display_name": "策略测试",
        "password": password,
        "roles": ["dispatcher"],
        "jurisdiction_code": world.street_a,
    }


WEAK = [
    ("Ab1-short", "密码至少10位"),  # 9 characters
    ("abcdefghij12", "至少3类"),  # two classes
    ("ABCDEFGH-!", "至少3类"),
    ("Password123!", "过于常见"),  # a common word with digits and symbols appended
    ("Qwerty2026!!", "过于常见"),
    ("Shiyu@2026", "过于常见"),  # the documented demo password
]


class TestRules:
    @pytest.mark.parametrize(("password", "why"), WEAK)
    def test_weak_passwords_have_a_reason(self, password: str, why: str) -> None:
        reason = passwords.problem(password)
        assert reason is not None and why in reason

    @pytest.mark.parametrize(
        "password", ["Hubei@2026", "Gxq-pass-2041", "长城Aa-12345", "x7#Kp2mQv9"]
    )
    def test_strong_passwords_pass(self, password: str) -> None:
        assert passwords.problem(password) is None

    def test_the_username_is_refused_also_with_a_suffix(self) -> None:
        assert passwords.problem("Wang.Xiao1", "wang.xiao1") == "密码不得与用户名相同"
        assert passwords.problem("Zhao_Ming-2026!", "zhao_ming") == "密码不得与用户名相同"


class TestApi:
    @pytest.mark.parametrize(("password", "why"), WEAK)
    def test_user_creation_refuses_weak_passwords(
        self, client: httpx.Client, world: World, password: str, why: str
    ) -> None:
        admin = login(client, "admin_a")
        resp = client.post("/api/v1/users", json=_new_user(world, password), headers=admin)
        assert resp.status_code == 422
        error = resp.json()["error"]
        assert error["code"] == "validation_error"
        assert any(d["loc"][-1] == "password" and why in d["msg"] for d in error["details"])

    def test_user_creation_refuses_the_username(self, client: httpx.Client, world: World) -> None:
        admin = login(client, "admin_a")
        body = _new_user(world, "Policy_User-1", username="policy_user")
        resp = client.post("/api/v1/users", json=body, headers=admin)
        assert resp.status_code == 422
        assert "密码不得与用户名相同" in resp.text

    def test_a_strong_password_creates_the_user(self, client: httpx.Client, world: World) -> None:
        admin = login(client, "admin_a")
        resp = client.post("/api/v1/users", json=_new_user(world, "Ok-pass-2026"), headers=admin)
        assert resp.status_code == 201, resp.text
        assert login(client, "policy_user", "Ok-pass-2026")

    def test_admin_reset_checks_the_username(self, client: httpx.Client, world: World) -> None:
        admin = login(client, "admin_a")
        user = world.users["leader"]
        resp = client.patch(
            f"/api/v1/users/{user.id}", json={"password": "Leader_A-99"}, headers=admin
        )
        assert resp.status_code == 422
        error = resp.json()["error"]
        assert error["code"] == "auth.weak_password"
        assert error["details"][0]["loc"] == ["body", "password"]

    def test_own_change_checks_policy_and_username(
        self, client: httpx.Client, world: World
    ) -> None:
        me = login(client, "leader_a")
        for new, code in (
            ("abcdefghijk", "validation_error"),
            ("Leader_a2026", "auth.weak_password"),
        ):
            resp = client.post(
                "/api/v1/auth/password",
                json={"old_password": PASSWORD, "new_password": new},
                headers=me,
            )
            assert resp.status_code == 422, new
            assert resp.json()["error"]["code"] == code
        ok = client.post(
            "/api/v1/auth/password",
            json={"old_password": PASSWORD, "new_password": "Better-Pass-7"},
            headers=me,
        )
        assert ok.status_code == 204

    def test_patch_with_null_for_a_required_field_is_422(
        self, client: httpx.Client, world: World
    ) -> None:
        """Fuzzing found `{"is_active": null}` / `{"roles": null}` answered 500."""
        admin = login(client, "admin_a")
        user = world.users["leader"]
        for body in ({"is_active": None}, {"roles": None}, {"display_name": None}):
            resp = client.patch(f"/api/v1/users/{user.id}", json=body, headers=admin)
            assert resp.status_code == 422, body
            assert next(iter(body)) in resp.json()["error"]["details"][0]["msg"]
        resp = client.patch(
            f"/api/v1/departments/{world.dep_a.id}", json={"is_active": None}, headers=admin
        )
        assert resp.status_code == 422
        cleared = client.patch(f"/api/v1/users/{user.id}", json={"phone": None}, headers=admin)
        assert cleared.status_code == 200
