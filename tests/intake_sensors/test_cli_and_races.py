"""`shiyu sensors` against a committed database, and one alarm delivered many times at once
to a real server process (only one event; the others are answered as duplicates)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.factories.jurisdiction import tiny_city_features
from tests.helpers import run_cli, server_process
from tests.intake_sensors.conftest import encode, signed_headers


def _scalar(url: str, sql: str) -> object:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar_one()
    engine.dispose()
    return value


def test_cli_source_receives_concurrent_duplicates_once(
    fresh_database: str, tmp_path: Path
) -> None:
    city = tiny_city_features()
    src = tmp_path / "city.geojson"
    src.write_text(json.dumps({"type": "FeatureCollection", "features": city.features}))
    assert run_cli(fresh_database, "jurisdictions", "import", str(src)).returncode == 0

    done = run_cli(fresh_database, "sensors", "create-source", "dust-1", "--name", "扬尘监测")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["webhook_path"] == "/api/v1/intake/alarms/dust-1"
    secret = out["secret"]
    assert secret not in str(_scalar(fresh_database, "SELECT secret FROM sensor_sources"))

    again = run_cli(fresh_database, "sensors", "create-source", "dust-1", "--name", "x")
    assert again.returncode == 1 and "sensor.code_taken" in again.stderr
    bad = run_cli(fresh_database, "sensors", "create-source", "Bad Code", "--name", "x")
    assert bad.returncode == 2

    grid = city.grids[0]
    lng, lat = city.centres[grid]
    body = encode({"alarm_id": "race-1", "type": "fire", "lng": lng, "lat": lat})
    with server_process(fresh_database) as base:
        url = f"{base}/api/v1/intake/alarms/dust-1"
        # the first event of a process loads the search dictionary (seconds): not raced
        warm = encode({"alarm_id": "warm-up", "type": "dust"})
        assert httpx.post(url, content=warm, headers=signed_headers(secret, warm), timeout=60)

        def deliver(_: int) -> int:
            headers = signed_headers(secret, body)
            return httpx.post(url, content=body, headers=headers, timeout=60).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = sorted(pool.map(deliver, range(8)))
        assert statuses == [200] * 7 + [201], statuses
        rotated = run_cli(
            fresh_database, "sensors", "rotate-secret", "dust-1", "--grace-minutes", "0"
        )
        assert rotated.returncode == 0, rotated.stderr
        new = json.loads(rotated.stdout)["secret"]
        old = httpx.post(url, content=body, headers=signed_headers(secret, body))
        assert old.status_code == 401
        fresh = httpx.post(url, content=body, headers=signed_headers(new, body))
        assert fresh.status_code == 200 and fresh.json()["duplicate"] is True

    race = "SELECT count(*) FROM events WHERE external_id = 'race-1'"
    assert _scalar(fresh_database, race) == 1
    assert (
        _scalar(fresh_database, "SELECT grid_code FROM events WHERE external_id = 'race-1'") == grid
    )
    verified = run_cli(fresh_database, "audit", "verify")
    assert verified.returncode == 0 and json.loads(verified.stdout)["ok"] is True
