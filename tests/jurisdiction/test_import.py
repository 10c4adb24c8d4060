from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.audit.models import AuditRecord
from shiyu.auth.access import system_actor
from shiyu.jurisdiction import service
from shiyu.jurisdiction.models import Jurisdiction
from tests.factories.jurisdiction import (
    CITY,
    create_tiny_city,
    feature,
    square,
    tiny_city_features,
)


def _import(session: Session, features: list[Any]) -> Any:
    return service.import_features(session, system_actor(), features, source_fingerprint="t")


def _problems(session: Session, features: list[Any]) -> list[dict[str, Any]]:
    with pytest.raises(service.ImportRejected) as info:
        _import(session, features)
    assert info.value.status_code == 422
    return info.value.details


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Jurisdiction)) or 0


class TestImportValid:
    def test_creates_tree_with_paths(self, session: Session) -> None:
        city = create_tiny_city(session)
        assert _count(session) == len(city.features)
        grid = session.get(Jurisdiction, city.grids[0])
        assert grid is not None
        assert grid.path == (
            f"/{CITY}/{city.districts[0]}/{city.streets[0]}/{city.communities[0]}/{grid.code}/"
        )
        assert grid.min_lng == pytest.approx(114.0)
        assert grid.geometry is not None

    def test_reimport_is_idempotent_and_updates_names(self, session: Session) -> None:
        city = create_tiny_city(session)
        again = copy.deepcopy(city.features)
        again[1]["properties"]["name"] = "新名字区"
        report = _import(session, again)
        assert (report.created, report.updated) == (0, 1)
        assert report.unchanged == len(again) - 1
        assert session.get(Jurisdiction, city.districts[0]).name == "新名字区"  # type: ignore[union-attr]

    def test_extra_properties_are_kept_and_exported(self, session: Session) -> None:
        features = tiny_city_features().features
        features[-1]["properties"]["land_use"] = "居住"
        _import(session, features)
        exported = service.export(session, system_actor())
        by_code = {f.properties["code"]: f for f in exported.features}
        assert by_code[features[-1]["properties"]["code"]].properties["land_use"] == "居住"

    def test_export_round_trips(self, session: Session) -> None:
        city = create_tiny_city(session)
        exported = service.export(session, system_actor()).model_dump(mode="json")
        assert len(exported["features"]) == len(city.features)
        # parents come before children, so the export imports again as is
        report = _import(session, exported["features"])
        assert report.unchanged == len(city.features)

    def test_audited_once_per_import(self, session: Session) -> None:
        create_tiny_city(session)
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "jurisdiction.import")
        ).all()
        assert len(rows) == 1
        assert rows[0].summary["extra"]["created"] == 31


class TestImportRejects:
    """Every problem is listed with the feature's index and code, and nothing is written."""

    def test_all_problems_reported_nothing_written(self, session: Session) -> None:
        features = tiny_city_features().features
        bad = copy.deepcopy(features)
        # 0: city fine. Break several features in different ways.
        bad[3]["properties"]["parent_code"] = "420199999000"  # unknown parent (a community)
        bad[5]["geometry"] = {  # bow-tie: self-intersecting grid
            "type": "Polygon",
            "coordinates": [[[114, 30], [114.01, 30.01], [114.01, 30], [114, 30.01], [114, 30]]],
        }
        bad[7]["geometry"] = square(114.0, 30.0)  # a grid overlapping the file's first grid
        bad.append(copy.deepcopy(bad[1]))  # duplicate code
        problems = _problems(session, bad)
        assert _count(session) == 0
        by_index = {p["index"]: p for p in problems}
        assert "unknown parent" in by_index[3]["problem"]
        assert by_index[3]["code"] == bad[3]["properties"]["code"]
        assert "Self-intersection" in by_index[5]["problem"]
        assert any("overlaps grid" in p["problem"] for p in problems if p["index"] == 7)
        assert "duplicate code" in by_index[len(bad) - 1]["problem"]

    @pytest.mark.parametrize(
        ("mutate", "expected"),
        [
            (lambda f: f["properties"].update(parent_code="420102001000"), "wrong level"),
            (lambda f: f["properties"].update(level="town"), "bad properties"),
            (lambda f: f["properties"].update(code="4201021"), "bad properties"),
            (lambda f: f["properties"].update(code="420102001001"), "must have 15 digits"),
            (lambda f: f["properties"].update(code="420199001001001"), "must extend its parent"),
            (lambda f: f.update(geometry=None), "a grid must have a polygon"),
            (lambda f: f.update(geometry={"type": "Point", "coordinates": [1, 2]}), "Polygon"),
            (
                lambda f: f.update(geometry={"type": "Polygon", "coordinates": [[[1, 2], [3]]]}),
                "malformed",
            ),
            (lambda f: f.update(geometry=square(190.0, 30.0)), "out of range"),
            (lambda f: f.update(geometry=square(114.0, 30.0, 0.0)), "invalid polygon"),
            (lambda f: f.pop("properties"), "not a GeoJSON Feature"),
            (lambda f: f.update(type="Polygon"), "not a GeoJSON Feature"),
        ],
    )
    def test_bad_grid_feature(self, session: Session, mutate: Any, expected: str) -> None:
        features = tiny_city_features().features
        mutate(features[4])  # the first grid
        problems = _problems(session, features)
        assert [p["index"] for p in problems] == [4]
        assert expected in problems[0]["problem"]
        assert _count(session) == 0

    def test_non_object_feature(self, session: Session) -> None:
        problems = _problems(session, ["not a feature", 42])
        assert [p["index"] for p in problems] == [0, 1]

    def test_overlap_with_stored_grid(self, session: Session) -> None:
        city = create_tiny_city(session)
        before = _count(session)
        extra = feature(
            city.communities[0] + "009",
            "重叠网格",
            "grid",
            city.communities[0],
            square(114.005, 30.0),
        )
        problems = _problems(session, [extra])
        assert "already stored" in problems[0]["problem"]
        assert _count(session) == before

    def test_touching_grids_do_not_overlap(self, session: Session) -> None:
        city = create_tiny_city(session)
        # shares an edge with the last grid of the first row
        extra = feature(
            city.communities[1] + "009",
            "相邻网格",
            "grid",
            city.communities[1],
            square(114.04, 30.0),
        )
        assert _import(session, [extra]).created == 1

    def test_replacing_a_grid_does_not_overlap_itself(self, session: Session) -> None:
        city = create_tiny_city(session)
        moved = copy.deepcopy(
            next(f for f in city.features if f["properties"]["code"] == city.grids[0])
        )
        moved["geometry"] = square(114.0, 30.0, 0.005)  # shrink in place
        assert _import(session, [moved]).updated == 1

    def test_level_and_parent_cannot_change(self, session: Session) -> None:
        city = create_tiny_city(session)
        changed = feature(city.communities[0], "x", "community", city.streets[1])
        problems = _problems(session, [changed])
        assert "parent cannot change" in problems[0]["problem"]

    def test_city_with_parent_and_orphan_district(self, session: Session) -> None:
        problems = _problems(
            session,
            [
                feature(CITY, "市", "city", "420000000000"),
                feature("420102000000", "区", "district", None),
            ],
        )
        assert [p["problem"] for p in problems] == [
            "a city has no parent",
            "a district needs a parent_code",
        ]
