"""The metrics endpoints over real HTTP, on the fixed data set (figures: test_service.py)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories.auth import login
from tests.metrics.dataset import PERIOD, DataSet
from tests.metrics.test_service import DEP_A_STREET_A, DEP_A_STREET_A_RATES

UNITS = "/api/v1/metrics/units"
AREAS = "/api/v1/metrics/jurisdictions"


def _get(client: httpx.Client, data: DataSet, role: str, url: str, **params: Any) -> Any:
    resp = client.get(url, params=params, headers=data.world.headers(client, role))
    assert resp.status_code == 200, resp.text
    return resp.json()


def _error_loc(resp: httpx.Response) -> list[Any]:
    assert resp.status_code == 422, resp.text
    loc: list[Any] = resp.json()["error"]["details"][0]["loc"]
    return loc


class TestUnits:
    def test_street_dispatcher_gets_hand_computed_figures(
        self, client: httpx.Client, data: DataSet
    ) -> None:
        body = _get(client, data, "dispatcher", UNITS, **PERIOD)
        rows = {r["department_code"]: r for r in body["items"]}
        assert set(rows) == {"DA", "DC"}  # district B's department is not readable
        assert rows["DA"]["counts"] == DEP_A_STREET_A
        assert rows["DA"]["rates"] == DEP_A_STREET_A_RATES
        assert body["scope_code"] == data.world.street_a
        assert body["satisfaction_basic_weight"] == 0.9
        assert body["period_from"].startswith("2025-03-01T00:00:00+08:00")

    def test_utc_boundaries_shift_the_cohort(self, client: httpx.Client, data: DataSet) -> None:
        # [03-01 08:00, 04-01 08:00) China time: E1 (03-01 00:00) drops out, E8 (04-01 00:00,
        # never signed) comes in → due 5 − 1 + 1 = 5, signed on time 3 − 1 = 2 (E2, E11).
        body = _get(
            client,
            data,
            "dispatcher",
            UNITS,
            **{"from": "2025-03-01T00:00:00Z", "to": "2025-04-01T00:00:00Z"},
        )
        row = next(r for r in body["items"] if r["department_code"] == "DA")
        assert row["counts"]["due"] == 5
        assert row["rates"]["timely_sign_rate"] == 0.4  # 2 / 5

    def test_empty_period_gives_null_rates(self, client: httpx.Client, data: DataSet) -> None:
        body = _get(client, data, "supervisor", UNITS, **{"from": "2024-01-01", "to": "2024-02-01"})
        assert body["items"] and all(r["counts"]["due"] == 0 for r in body["items"])
        assert set(body["total"]["rates"].values()) == {None}


class TestJurisdictions:
    def test_district_sees_its_streets_and_street_only_itself(
        self, client: httpx.Client, data: DataSet
    ) -> None:
        district = _get(client, data, "admin", AREAS, **PERIOD)
        assert [r["code"] for r in district["items"]] == [data.world.street_a, data.street_a2]
        assert district["items"][0]["rates"]["satisfaction_rate"] == 0.828571  # 5.8 / 7
        street = _get(client, data, "leader", AREAS, **PERIOD)
        assert [r["code"] for r in street["items"]] == [data.world.street_a]
        assert street["level"] == "street"

    def test_other_street_is_404_for_a_street_but_not_for_the_city(
        self, client: httpx.Client, data: DataSet
    ) -> None:
        params = {**PERIOD, "jurisdiction_code": data.world.street_b}
        headers = data.world.headers(client, "dispatcher")
        assert client.get(AREAS, params=params, headers=headers).status_code == 404
        assert client.get(UNITS, params=params, headers=headers).status_code == 404
        assert data.world.city_admin is not None
        city = login(client, data.world.city_admin.username)
        body = client.get(AREAS, params=params, headers=city).json()
        assert body["items"][0]["counts"]["due"] == 1  # E13

    def test_bad_input_names_the_field(self, client: httpx.Client, data: DataSet) -> None:
        headers = data.world.headers(client, "dispatcher")
        swapped = {"from": "2025-04-01", "to": "2025-03-01"}
        assert _error_loc(client.get(UNITS, params=swapped, headers=headers)) == ["query", "to"]
        missing = client.get(UNITS, params={"to": "2025-03-01"}, headers=headers)
        assert _error_loc(missing) == ["query", "from"]
        too_high = client.get(AREAS, params={**PERIOD, "level": "district"}, headers=headers)
        assert _error_loc(too_high) == ["query", "level"]
        bad_code = client.get(UNITS, params={**PERIOD, "jurisdiction_code": "x"}, headers=headers)
        assert _error_loc(bad_code) == ["query", "jurisdiction_code"]

    def test_handlers_and_grid_workers_may_not_read_metrics(
        self, client: httpx.Client, data: DataSet
    ) -> None:
        for role in ("department_handler", "grid_worker", "mediator"):
            resp = client.get(UNITS, params=PERIOD, headers=data.world.headers(client, role))
            assert resp.status_code == 403, role
