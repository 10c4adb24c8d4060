"""`shiyu demo` end to end: builds the city into a real database, idempotently, and the
printed accounts log in through a real `shiyu serve` process."""

from __future__ import annotations

import httpx
from sqlalchemy import create_engine, text

from tests.helpers import run_cli, server_process

PASSWORD = "Demo-pass-2026"
#: a few simulated days (the default 90 take about a minute): enough to see it happens once
SIMULATION = {"SHIYU_DEMO_DAYS": "3", "SHIYU_DEMO_EVENTS_PER_DAY": "4"}


def _scalar(url: str, sql: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar_one()
    engine.dispose()
    return int(value)


def test_demo_city(fresh_database: str) -> None:
    # how long it takes is measured by `make bench` (demo_build_seconds), not asserted here
    first = run_cli(fresh_database, "demo", SHIYU_DEMO_PASSWORD=PASSWORD, **SIMULATION)
    assert first.returncode == 0, first.stderr
    assert "admin" in first.stdout
    assert PASSWORD in first.stdout
    assert "模拟 simulated: 近3天" in first.stdout
    assert "http://127.0.0.1:8000/" in first.stdout
    # the demo trains its classifier from the simulated events (shiyu/classify)
    assert "分类模型 classifier" in first.stdout
    assert _scalar(fresh_database, "SELECT count(*) FROM classifier_models WHERE is_active") == 1

    counts = {
        level: _scalar(fresh_database, f"SELECT count(*) FROM jurisdictions WHERE level='{level}'")
        for level in ("city", "district", "street", "community", "grid")
    }
    assert counts["city"] == 1
    assert counts["district"] >= 8
    assert counts["street"] >= 80
    assert counts["community"] >= 800
    assert counts["grid"] >= 5000
    assert _scalar(fresh_database, "SELECT count(*) FROM departments") >= 40
    # a grid worker for every grid
    assert (
        _scalar(
            fresh_database,
            "SELECT count(*) FROM jurisdictions j WHERE j.level='grid' AND NOT EXISTS ("
            " SELECT 1 FROM users u JOIN user_roles r ON r.user_id=u.id"
            " WHERE u.jurisdiction_code=j.code AND r.role_code='grid_worker')",
        )
        == 0
    )
    # every role, dispatchers at four levels, the five heads
    assert _scalar(fresh_database, "SELECT count(DISTINCT role_code) FROM user_roles") == 8
    assert (
        _scalar(
            fresh_database,
            "SELECT count(DISTINCT j.level) FROM users u JOIN user_roles r ON r.user_id=u.id"
            " JOIN jurisdictions j ON j.code=u.jurisdiction_code WHERE r.role_code='dispatcher'",
        )
        == 4
    )
    assert _scalar(fresh_database, "SELECT count(DISTINCT post) FROM users") == 5

    # a 权责清单 in every district: category rules and one fallback (兜底) each
    districts = counts["district"]
    assert _scalar(fresh_database, "SELECT count(*) FROM routing_rules") > 5 * districts
    assert (
        _scalar(fresh_database, "SELECT count(*) FROM routing_rules WHERE category_code IS NULL")
        == districts
    )

    users = _scalar(fresh_database, "SELECT count(*) FROM users")
    audit = _scalar(fresh_database, "SELECT count(*) FROM audit_records")
    events = _scalar(fresh_database, "SELECT count(*) FROM events")
    assert events > 0
    again = run_cli(fresh_database, "demo", SHIYU_DEMO_PASSWORD=PASSWORD, **SIMULATION)
    assert again.returncode == 0, again.stderr
    assert _scalar(fresh_database, "SELECT count(*) FROM users") == users
    assert _scalar(fresh_database, "SELECT count(*) FROM audit_records") == audit
    assert _scalar(fresh_database, "SELECT count(*) FROM events") == events
    assert "模拟 simulated" not in again.stdout
    assert run_cli(fresh_database, "audit", "verify").returncode == 0

    with server_process(fresh_database) as base:
        for username in ("admin", "city_dispatcher", "gw_420102001001001", "resident01"):
            resp = httpx.post(
                f"{base}/api/v1/auth/token", data={"username": username, "password": PASSWORD}
            )
            assert resp.status_code == 200, (username, resp.text)
        token = resp.json()["access_token"]
        located = httpx.get(
            f"{base}/api/v1/locate",
            params={"lng": 114.3, "lat": 30.6},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert located.status_code == 200
        assert len(located.json()["grid"]["code"]) == 15
        # a new report gets a suggested category and, through the demo's 权责清单, a unit
        dispatcher = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": "city_dispatcher", "password": PASSWORD},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {dispatcher}"}
        created = httpx.post(
            f"{base}/api/v1/events",
            json={
                "title": "小区门口垃圾堆积",
                "description": "好几天没人清运",
                "lng": 114.3,
                "lat": 30.6,
            },
            headers=auth,
        )
        assert created.status_code == 201, created.text
        detail = httpx.get(f"{base}/api/v1/events/{created.json()['code']}", headers=auth).json()
        assert detail["suggestion"]["suggested_department_name"], detail["suggestion"]
