from __future__ import annotations

from datetime import timedelta

import httpx
import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.audit.models import AuditRecord
from shiyu.auth import security
from shiyu.auth.security import create_token
from tests.conftest import TEST_SECRET
from tests.factories.auth import PASSWORD, login
from tests.factories.world import World


def _token(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


class TestToken:
    def test_login_returns_expiring_bearer_token(self, client: httpx.Client, world: World) -> None:
        resp = _token(client, "dispatcher_a", PASSWORD)
        assert resp.status_code == 200
        body = resp.json()
        assert body["token_type"] == "bearer"
        claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"])
        assert claims["exp"] - claims["iat"] == body["expires_in"]

    def test_login_is_audited(self, client: httpx.Client, world: World, session: Session) -> None:
        assert _token(client, "dispatcher_a", PASSWORD).status_code == 200
        rec = session.scalars(select(AuditRecord).where(AuditRecord.action == "auth.login")).one()
        assert rec.actor_id == world.users["dispatcher"].id
        assert rec.summary["extra"]["username"] == "dispatcher_a"

    def test_wrong_user_and_wrong_password_look_the_same(
        self, client: httpx.Client, world: World
    ) -> None:
        wrong_pw = _token(client, "dispatcher_a", "nope-1234")
        no_user = _token(client, "nobody_here", "nope-1234")
        assert wrong_pw.status_code == no_user.status_code == 401
        assert wrong_pw.json() == no_user.json()
        assert wrong_pw.json()["error"]["code"] == "auth.invalid_credentials"

    def test_missing_form_fields_is_422(self, client: httpx.Client, world: World) -> None:
        resp = client.post("/api/v1/auth/token", data={"username": "x"})
        assert resp.status_code == 422

    def test_repeated_failures_are_throttled(self, client: httpx.Client, world: World) -> None:
        for _ in range(5):
            assert _token(client, "leader_a", "wrong-pass1").status_code == 401
        blocked = _token(client, "leader_a", PASSWORD)  # even the right password
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "auth.throttled"
        assert int(blocked.headers["retry-after"]) > 0
        # other accounts are not affected by one account's failures
        assert _token(client, "mediator_a", PASSWORD).status_code == 200

    def test_success_resets_the_failure_count(self, client: httpx.Client, world: World) -> None:
        for _ in range(4):
            _token(client, "leader_a", "wrong-pass1")
        assert _token(client, "leader_a", PASSWORD).status_code == 200
        for _ in range(4):
            _token(client, "leader_a", "wrong-pass1")
        assert _token(client, "leader_a", PASSWORD).status_code == 200

    def test_inactive_user_cannot_log_in(
        self, client: httpx.Client, world: World, session: Session
    ) -> None:
        world.users["mediator"].is_active = False
        session.commit()
        assert _token(client, "mediator_a", PASSWORD).status_code == 401


class TestBearer:
    def test_me(self, client: httpx.Client, world: World) -> None:
        body = client.get("/api/v1/auth/me", headers=world.headers(client, "dispatcher")).json()
        assert body["username"] == "dispatcher_a"
        assert body["level"] == "street"
        assert "jurisdiction:read" in body["permissions"]
        assert "user:write" not in body["permissions"]

    def test_expired_token(self, client: httpx.Client, world: World) -> None:
        user = world.users["dispatcher"]
        token, _ = create_token(user_id=user.id, token_version=0, secret=TEST_SECRET, minutes=-1)
        resp = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401
        assert resp.headers["www-authenticate"] == "Bearer"

    def test_forged_token(self, client: httpx.Client, world: World) -> None:
        user = world.users["dispatcher"]
        token, _ = create_token(
            user_id=user.id, token_version=0, secret="another-secret-" * 3, minutes=5
        )
        resp = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401

    def test_garbage_token(self, client: httpx.Client, world: World) -> None:
        resp = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer x.y.z"})
        assert resp.status_code == 401

    def test_logout_revokes_every_token(self, client: httpx.Client, world: World) -> None:
        first = login(client, "leader_a")
        second = login(client, "leader_a")
        assert client.post("/api/v1/auth/logout", headers=first).status_code == 204
        assert client.get("/api/v1/auth/me", headers=second).status_code == 401
        assert client.get("/api/v1/auth/me", headers=login(client, "leader_a")).status_code == 200

    def test_password_change(self, client: httpx.Client, world: World) -> None:
        old = login(client, "leader_a")
        weak = client.post(
            "/api/v1/auth/password",
            json={"old_password": PASSWORD, "new_password": "short"},
            headers=old,
        )
        assert weak.status_code == 422
        wrong = client.post(
            "/api/v1/auth/password",
            json={"old_password": "not-it-123", "new_password": "NewPassw0rd"},
            headers=old,
        )
        assert wrong.status_code == 422
        assert wrong.json()["error"]["code"] == "auth.wrong_password"
        ok = client.post(
            "/api/v1/auth/password",
            json={"old_password": PASSWORD, "new_password": "NewPassw0rd"},
            headers=old,
        )
        assert ok.status_code == 204
        assert client.get("/api/v1/auth/me", headers=old).status_code == 401
        assert _token(client, "leader_a", PASSWORD).status_code == 401
        assert _token(client, "leader_a", "NewPassw0rd").status_code == 200

    def test_deactivated_user_token_stops_working(self, client: httpx.Client, world: World) -> None:
        victim = login(client, "leader_a")
        admin = world.headers(client, "admin")
        resp = client.patch(
            f"/api/v1/users/{world.users['leader'].id}", json={"is_active": False}, headers=admin
        )
        assert resp.status_code == 200
        assert client.get("/api/v1/auth/me", headers=victim).status_code == 401


def test_token_lifetime_setting() -> None:
    token, seconds = create_token(user_id=1, token_version=0, secret=TEST_SECRET, minutes=30)
    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"])
    assert seconds == int(timedelta(minutes=30).total_seconds())
    assert claims["sub"] == "1"


class TestVerifiedTokens:
    """`decode_token` remembers verified tokens; what it remembers must not outlive them."""

    def test_a_remembered_token_still_expires(self, monkeypatch: pytest.MonkeyPatch) -> None:
        token, _ = create_token(user_id=7, token_version=3, secret=TEST_SECRET, minutes=1)
        claims = security.decode_token(token, secret=TEST_SECRET)
        assert claims is not None and claims["sub"] == "7" and claims["tv"] == 3
        assert (token, TEST_SECRET) in security._verified
        later = claims["exp"] + 1
        monkeypatch.setattr(security.time, "time", lambda: later)
        assert security.decode_token(token, secret=TEST_SECRET) is None
        assert (token, TEST_SECRET) not in security._verified

    def test_remembered_per_secret_and_not_shared(self) -> None:
        token, _ = create_token(user_id=8, token_version=0, secret=TEST_SECRET, minutes=5)
        first = security.decode_token(token, secret=TEST_SECRET)
        assert first is not None
        first["sub"] = "999"  # a caller changing its copy changes nothing remembered
        again = security.decode_token(token, secret=TEST_SECRET)
        assert again is not None and again["sub"] == "8"
        assert security.decode_token(token, secret="another-secret-" * 3) is None
        assert security.decode_token(token[:-2] + "xx", secret=TEST_SECRET) is None
