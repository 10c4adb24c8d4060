from __future__ import annotations

import json
import threading

import httpx
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from shiyu.audit import service
from shiyu.audit.models import AuditRecord
from shiyu.auth.access import system_actor
from shiyu.config import Settings
from shiyu.db import Database
from tests.conftest import make_settings
from tests.factories.world import World
from tests.helpers import run_cli


def _append(session: Session, n: int) -> None:
    for i in range(n):
        service.record(
            session,
            actor=system_actor(),
            action="test.touch",
            object_type="thing",
            object_id=i,
            scope_path="/420100000000/",
            before={"n": i},
            after={"n": i + 1, "name": "测试"},
        )


class TestVerify:
    def test_intact_chain(self, session: Session) -> None:
        _append(session, 5)
        report = service.verify(session)
        assert report.ok
        assert report.checked == 5

    def test_edited_record(self, session: Session) -> None:
        _append(session, 5)
        session.execute(
            update(AuditRecord).where(AuditRecord.seq == 3).values(summary={"after": {"n": 99}})
        )
        report = service.verify(session)
        assert (report.ok, report.first_broken_seq) == (False, 3)
        assert "edited" in (report.reason or "")

    def test_edited_actor(self, session: Session) -> None:
        _append(session, 3)
        session.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(actor_name="x"))
        assert service.verify(session).first_broken_seq == 2

    def test_deleted_record(self, session: Session) -> None:
        _append(session, 5)
        session.execute(delete(AuditRecord).where(AuditRecord.seq == 2))
        report = service.verify(session)
        assert (report.ok, report.first_broken_seq) == (False, 3)

    def test_deleted_record_renumbered(self, session: Session) -> None:
        """Deleting and shifting later seqs down still breaks the link."""
        _append(session, 4)
        session.execute(delete(AuditRecord).where(AuditRecord.seq == 2))
        for seq in (3, 4):
            session.execute(update(AuditRecord).where(AuditRecord.seq == seq).values(seq=seq - 1))
        report = service.verify(session)
        assert (report.ok, report.first_broken_seq) == (False, 2)

    def test_reordered_records(self, session: Session) -> None:
        _append(session, 4)
        session.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(seq=-2))
        session.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(seq=2))
        session.execute(update(AuditRecord).where(AuditRecord.seq == -2).values(seq=3))
        report = service.verify(session)
        assert (report.ok, report.first_broken_seq) == (False, 2)


class TestTrailThroughApi:
    def test_state_changes_are_recorded_with_request_id(
        self, client: httpx.Client, world: World, session: Session
    ) -> None:
        headers = {**world.headers(client, "admin"), "X-Request-ID": "req-audit-1"}
        resp = client.patch(
            f"/api/v1/users/{world.users['mediator'].id}",
            json={"display_name": "新名字"},
            headers=headers,
        )
        assert resp.status_code == 200
        assert resp.headers["x-request-id"] == "req-audit-1"
        rec = session.scalars(select(AuditRecord).where(AuditRecord.action == "user.update")).one()
        assert rec.request_id == "req-audit-1"
        assert rec.actor_id == world.users["admin"].id
        assert rec.summary["before"]["display_name"] == "mediator_a"
        assert rec.summary["after"]["display_name"] == "新名字"
        assert service.verify(session).ok

    def test_failed_change_leaves_no_record(
        self, client: httpx.Client, world: World, session: Session
    ) -> None:
        headers = world.headers(client, "admin")  # logging in is itself audited
        before = session.scalars(select(AuditRecord)).all()
        resp = client.post(
            "/api/v1/users",
            json={
                "username": "x_user",
                "display_name": "x",
                "password": "Gxq-pass-2041",
                "roles": ["dispatcher"],
                "jurisdiction_code": world.grid_a,  # dispatchers cannot sit on a grid
            },
            headers=headers,
        )
        assert resp.status_code == 422
        assert resp.json()["error"]["code"] == "user.role_level"
        assert len(session.scalars(select(AuditRecord)).all()) == len(before)

    def test_supervisor_reads_only_own_jurisdiction(
        self, client: httpx.Client, world: World
    ) -> None:
        admin = {"Authorization": world.headers(client, "admin")["Authorization"]}
        for user in (world.users["mediator"], world.user_b):
            assert user is not None
            client.patch(f"/api/v1/users/{user.id}", json={"phone": "13800000000"}, headers=admin)
        # the city admin can touch street B; the district-A admin cannot
        from tests.factories.auth import login

        assert world.user_b is not None and world.city_admin is not None
        city_admin = login(client, world.city_admin.username)
        client.patch(
            f"/api/v1/users/{world.user_b.id}", json={"phone": "13900000000"}, headers=city_admin
        )
        body = client.get(
            "/api/v1/audit/records",
            params={"object_type": "user"},
            headers=world.headers(client, "supervisor"),
        ).json()
        seen = {r["object_id"] for r in body["items"]}
        assert str(world.users["mediator"].id) in seen
        assert str(world.user_b.id) not in seen
        everything = client.get(
            "/api/v1/audit/records", params={"object_type": "user"}, headers=city_admin
        ).json()
        assert str(world.user_b.id) in {r["object_id"] for r in everything["items"]}


def test_cli_names_first_broken_record(fresh_database: str) -> None:
    db = Database(make_settings(fresh_database))
    with db.transaction() as session:
        _append(session, 4)
    with db.transaction() as session:
        session.execute(text("UPDATE audit_records SET action = 'forged' WHERE seq = 3"))
    db.dispose()
    done = run_cli(fresh_database, "audit", "verify")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert (report["ok"], report["first_broken_seq"]) == (False, 3)


def test_concurrent_appends_keep_one_chain(fresh_database: str) -> None:
    """Several threads appending in their own committed transactions (a lock on PostgreSQL,
    the writer lock on SQLite) still produce one gap-free, verifiable chain."""
    settings: Settings = make_settings(fresh_database)
    db = Database(settings)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(10):
                with db.transaction() as session:
                    _append(session, 2)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.transaction(write=False) as session:
        report = service.verify(session)
    db.dispose()
    assert report.ok
    assert report.checked == 80
