from __future__ import annotations

import httpx
import pytest

from tests.factories.jurisdiction import BASE_LAT, BASE_LNG, CITY, STEP, feature, square
from tests.factories.world import World


class TestRead:
    def test_top_units_are_the_callers_jurisdiction(
        self, client: httpx.Client, world: World
    ) -> None:
        resp = client.get("/api/v1/jurisdictions", headers=world.headers(client, "dispatcher"))
        assert resp.status_code == 200
        assert [u["code"] for u in resp.json()] == [world.street_a]
        admin = client.get("/api/v1/jurisdictions", headers=world.headers(client, "admin"))
        assert [u["code"] for u in admin.json()] == [world.dep_a.area_code]

    def test_unit_with_children_ancestors(self, client: httpx.Client, world: World) -> None:
        headers = world.headers(client, "dispatcher")
        body = client.get(f"/api/v1/jurisdictions/{world.street_a}", headers=headers).json()
        assert [a["code"] for a in body["ancestors"]] == [CITY, world.street_a[:6] + "000000"]
        assert [c["level"] for c in body["children"]] == ["community", "community"]
        assert body["geometry"] is None

    def test_grid_has_polygon(self, client: httpx.Client, world: World) -> None:
        headers = world.headers(client, "grid_worker")
        body = client.get(f"/api/v1/jurisdictions/{world.grid_a}", headers=headers).json()
        assert body["geometry"]["type"] == "Polygon"
        assert body["level"] == "grid"
        assert len(body["ancestors"]) == 4

    def test_other_street_is_404_and_says_nothing(self, client: httpx.Client, world: World) -> None:
        headers = world.headers(client, "dispatcher")
        hidden = client.get(f"/api/v1/jurisdictions/{world.street_b}", headers=headers)
        missing = client.get("/api/v1/jurisdictions/999999999999", headers=headers)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()

    def test_bad_code_is_422(self, client: httpx.Client, world: World) -> None:
        resp = client.get("/api/v1/jurisdictions/abc", headers=world.headers(client, "admin"))
        assert resp.status_code == 422
        assert resp.json()["error"]["code"] == "validation_error"

    def test_features_of_a_street(self, client: httpx.Client, world: World) -> None:
        headers = world.headers(client, "dispatcher")
        fc = client.get(f"/api/v1/jurisdictions/{world.street_a}/features", headers=headers).json()
        assert fc["type"] == "FeatureCollection"
        assert len(fc["features"]) == 4
        assert all(f["properties"]["level"] == "grid" for f in fc["features"])


class TestLocate:
    def test_point_in_grid_with_full_path(self, client: httpx.Client, world: World) -> None:
        lng, lat = world.city.centres[world.grid_b]
        resp = client.get(
            "/api/v1/locate",
            params={"lng": lng, "lat": lat},
            headers=world.headers(client, "resident"),
        )
        assert resp.status_code == 200
        body = resp.json()
        assert body["grid"]["code"] == world.grid_b
        assert [u["level"] for u in body["path"]] == [
            "city",
            "district",
            "street",
            "community",
            "grid",
        ]

    def test_outside_the_city_is_404(self, client: httpx.Client, world: World) -> None:
        resp = client.get(
            "/api/v1/locate", params={"lng": 100, "lat": 20}, headers=world.headers(client, "admin")
        )
        assert resp.status_code == 404
        assert resp.json()["error"]["code"] == "jurisdiction.outside_city"

    @pytest.mark.parametrize(
        "params",
        [{"lng": 181, "lat": 30}, {"lng": 114, "lat": -91}, {"lng": "x", "lat": 30}, {"lng": 114}],
    )
    def test_out_of_range_is_422(
        self, client: httpx.Client, world: World, params: dict[str, object]
    ) -> None:
        resp = client.get("/api/v1/locate", params=params, headers=world.headers(client, "admin"))
        assert resp.status_code == 422
        assert resp.json()["error"]["details"]

    def test_shared_edge_goes_to_the_lowest_code(self, client: httpx.Client, world: World) -> None:
        # the edge between the first two grids of the first row
        resp = client.get(
            "/api/v1/locate",
            params={"lng": BASE_LNG + STEP, "lat": BASE_LAT + STEP / 2},
            headers=world.headers(client, "admin"),
        )
        assert resp.json()["grid"]["code"] == world.city.grids[0]

    def test_batch(self, client: httpx.Client, world: World) -> None:
        centres = world.city.centres
        points = [{"lng": centres[g][0], "lat": centres[g][1]} for g in world.city.grids]
        points.append({"lng": 10.0, "lat": 10.0})
        resp = client.post(
            "/api/v1/locate/batch", json={"points": points}, headers=world.headers(client, "admin")
        )
        assert resp.status_code == 200
        body = resp.json()
        assert body["grid_codes"] == [*world.city.grids, None]
        assert (body["located"], body["missing"]) == (len(world.city.grids), 1)

    def test_batch_of_ten_thousand(self, client: httpx.Client, world: World) -> None:
        points = [
            {"lng": BASE_LNG + 0.0001 * (i % 80), "lat": BASE_LAT + 0.001} for i in range(10_000)
        ]
        headers = world.headers(client, "admin")
        resp = client.post("/api/v1/locate/batch", json={"points": points}, headers=headers)
        assert resp.status_code == 200
        assert resp.json()["located"] == 10_000
        too_many = client.post(
            "/api/v1/locate/batch", json={"points": [*points, points[0]]}, headers=headers
        )
        assert too_many.status_code == 422

    def test_batch_rejects_bad_points(self, client: httpx.Client, world: World) -> None:
        resp = client.post(
            "/api/v1/locate/batch",
            json={"points": [{"lng": 114, "lat": 30}, {"lng": 114, "lat": 95}]},
            headers=world.headers(client, "admin"),
        )
        assert resp.status_code == 422
        assert resp.json()["error"]["details"][0]["loc"][:3] == ["body", "points", 1]

    def test_new_grid_is_found_right_after_import(self, client: httpx.Client, world: World) -> None:
        headers = world.headers(client, "admin")
        community = world.city.communities[0]
        fc = {
            "type": "FeatureCollection",
            "features": [
                feature(
                    community + "007",
                    "新网格",
                    "grid",
                    community,
                    square(BASE_LNG, BASE_LAT - STEP),
                )
            ],
        }
        assert (
            client.post("/api/v1/jurisdictions/import", json=fc, headers=headers).status_code == 200
        )
        resp = client.get(
            "/api/v1/locate",
            params={"lng": BASE_LNG + STEP / 2, "lat": BASE_LAT - STEP / 2},
            headers=headers,
        )
        assert resp.json()["grid"]["code"] == community + "007"


class TestImportApi:
    def test_rejected_import_lists_problems(self, client: httpx.Client, world: World) -> None:
        headers = world.headers(client, "admin")
        community = world.city.communities[0]
        fc = {
            "type": "FeatureCollection",
            "features": [
                feature(community + "007", "A", "grid", community, square(114.0, 30.0)),
                feature(community + "008", "B", "grid", "420102001099", square(120, 30)),
            ],
        }
        resp = client.post("/api/v1/jurisdictions/import", json=fc, headers=headers)
        assert resp.status_code == 422
        error = resp.json()["error"]
        assert error["code"] == "jurisdiction.import_rejected"
        assert {d["index"] for d in error["details"]} == {0, 1}
        after = client.get(f"/api/v1/jurisdictions/{community}", headers=headers).json()
        assert len(after["children"]) == 2  # nothing written

    def test_not_a_feature_collection(self, client: httpx.Client, world: World) -> None:
        resp = client.post(
            "/api/v1/jurisdictions/import",
            json={"type": "Feature"},
            headers=world.headers(client, "admin"),
        )
        assert resp.status_code == 422

    def test_export_of_own_subtree(self, client: httpx.Client, world: World) -> None:
        resp = client.get("/api/v1/jurisdictions/export", headers=world.headers(client, "admin"))
        codes = [f["properties"]["code"] for f in resp.json()["features"]]
        assert codes[0] == world.dep_a.area_code
        assert all(c.startswith(world.dep_a.area_code[:6]) for c in codes)
