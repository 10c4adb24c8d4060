"""The point→grid index lives in each process and follows grid changes made by another."""

from __future__ import annotations

import time

import httpx

from tests.factories.jurisdiction import STEP, feature, square
from tests.helpers import run_cli, server_process


def _admin_headers(base: str) -> dict[str, str]:
    resp = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": "admin", "password": "Idx-pass-2026"}
    )
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def test_second_process_sees_new_grid(fresh_database: str) -> None:
    env = {
        "SHIYU_DEMO_PASSWORD": "Idx-pass-2026",
        "SHIYU_GEO_INDEX_CHECK_SECONDS": "0.5",
        "SHIYU_DEMO_DAYS": "0",  # the city is enough here; its simulated life is not needed
    }
    assert run_cli(fresh_database, "demo", **env).returncode == 0
    # a point south of the demo city (lat 30.40-30.80)
    lng, lat = 114.3 + STEP / 2, 30.39 + STEP / 2
    with server_process(fresh_database, **env) as one, server_process(fresh_database, **env) as two:
        headers = _admin_headers(one)
        before = httpx.get(f"{two}/api/v1/locate", params={"lng": lng, "lat": lat}, headers=headers)
        assert before.status_code == 404  # process two has built its index without the grid
        community = "420102001001"
        fc = {
            "type": "FeatureCollection",
            "features": [
                feature(community + "090", "城外网格", "grid", community, square(114.3, 30.39))
            ],
        }
        done = httpx.post(f"{one}/api/v1/jurisdictions/import", json=fc, headers=headers)
        assert done.status_code == 200, done.text
        deadline = time.monotonic() + 10
        while True:
            after = httpx.get(
                f"{two}/api/v1/locate", params={"lng": lng, "lat": lat}, headers=headers
            )
            if after.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert after.status_code == 200
        assert after.json()["grid"]["code"] == community + "090"
