"""Tests for the synthetic demo city generator (shiyu.demo.citygen)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

import pytest
import shapely  # type: ignore[import-untyped, unused-ignore]
from shapely.geometry import shape  # type: ignore[import-untyped, unused-ignore]

from shiyu.demo.citygen import CITY_CODE, DemoCity, UnitSpec, generate_city

LEVELS = ("city", "district", "street", "community", "grid", "compound", "building", "unit")
CODE_LENGTH = {
    "city": 12,
    "district": 12,
    "street": 12,
    "community": 12,
    "grid": 15,
    "compound": 18,
    "building": 21,
    "unit": 23,
}
#: Leading digits of a unit's code that its children must share.
SIGNIFICANT = {
    "city": 4,
    "district": 6,
    "street": 9,
    "community": 12,
    "grid": 15,
    "compound": 18,
    "building": 21,
}
NAME_SUFFIXES = {
    "city": ("市",),
    "district": ("区", "县"),
    "street": ("街道", "镇", "乡"),
    "community": ("社区", "村"),
    "grid": ("网格",),
    "compound": ("小区", "花园", "家园", "新城"),
    "building": ("栋",),
    "unit": ("单元",),
}
CJK = re.compile(r"[\u4e00-\u9fff]")
BBOX = (114.0, 30.4, 114.6, 30.8)


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return generate_city()


@pytest.fixture(scope="module")
def by_level(city: DemoCity) -> dict[str, list[UnitSpec]]:
    out: dict[str, list[UnitSpec]] = defaultdict(list)
    for unit in city.units:
        out[unit.level].append(unit)
    return out


@pytest.fixture(scope="module")
def geoms(city: DemoCity) -> dict[str, Any]:
    return {u.code: shape(u.geometry) for u in city.units if u.geometry is not None}


@pytest.fixture(scope="module")
def children(city: DemoCity) -> dict[str, list[UnitSpec]]:
    out: dict[str, list[UnitSpec]] = defaultdict(list)
    for unit in city.units:
        if unit.parent_code is not None:
            out[unit.parent_code].append(unit)
    return out


# -- structure ------------------------------------------------------------------------------


def test_counts_per_level(city: DemoCity, by_level: dict[str, list[UnitSpec]]) -> None:
    assert set(by_level) == set(LEVELS)
    assert len(by_level["city"]) == 1
    assert len(by_level["district"]) >= 8
    assert len(by_level["street"]) >= 80
    assert len(by_level["community"]) >= 800
    assert len(by_level["grid"]) >= 5000
    assert len(city.departments) >= 40
    # the exact layout described in the module docstring
    assert [len(by_level[lv]) for lv in LEVELS] == [1, 8, 80, 960, 5760, 40, 120, 240]


def test_parents_exist_come_first_and_are_one_level_up(city: DemoCity) -> None:
    seen: dict[str, str] = {}
    for unit in city.units:
        assert unit.level in LEVELS
        if unit.level == "city":
            assert unit.parent_code is None
        else:
            assert unit.parent_code in seen, f"{unit.code}: parent missing or listed later"
            assert LEVELS.index(seen[unit.parent_code]) == LEVELS.index(unit.level) - 1
        seen[unit.code] = unit.level


def test_codes_have_the_right_shape_and_are_unique(city: DemoCity) -> None:
    codes = [u.code for u in city.units]
    assert len(codes) == len(set(codes))
    levels = {u.code: u.level for u in city.units}
    for unit in city.units:
        assert unit.code.isdigit() and unit.code.isascii(), unit.code
        assert len(unit.code) == CODE_LENGTH[unit.level], unit.code
        assert len(unit.code) <= 32
        if unit.parent_code is not None:
            n = SIGNIFICANT[levels[unit.parent_code]]
            assert unit.code[:n] == unit.parent_code[:n], (unit.code, unit.parent_code)
            assert unit.code != unit.parent_code
    assert [u.code for u in city.units if u.level == "city"] == [CITY_CODE]


def test_statistical_code_serials_match_the_kind_of_unit(
    by_level: dict[str, list[UnitSpec]],
) -> None:
    for d in by_level["district"]:
        assert d.code.startswith("4201") and d.code.endswith("000000")
        assert d.code[4:6] != "00"
    for s in by_level["street"]:
        assert s.code.endswith("000")
        serial = int(s.code[6:9])
        if s.name.endswith("街道"):
            assert 1 <= serial <= 99, s
        elif s.name.endswith("镇"):
            assert 100 <= serial <= 199, s
        else:
            assert s.name.endswith("乡") and 200 <= serial <= 399, s
    for c in by_level["community"]:
        serial = int(c.code[9:12])
        if c.name.endswith("社区"):
            assert 1 <= serial <= 199, c
        else:
            assert c.name.endswith("村") and 200 <= serial <= 399, c
    for g in by_level["grid"]:
        assert 1 <= int(g.code[12:]) <= 6


def test_first_five_districts_are_urban_and_the_rest_counties(
    by_level: dict[str, list[UnitSpec]], children: dict[str, list[UnitSpec]]
) -> None:
    districts = by_level["district"]
    assert [d.name[-1] for d in districts] == ["区"] * 5 + ["县"] * 3
    for d in districts:
        kinds = {s.name[-2:] if s.name.endswith("街道") else s.name[-1] for s in children[d.code]}
        assert kinds == ({"街道"} if d.name.endswith("区") else {"镇", "乡"})
        for s in children[d.code]:
            villages = [c for c in children[s.code] if c.name.endswith("村")]
            assert (len(villages) > 0) == (not s.name.endswith("街道"))


def test_sample_below_grids(
    by_level: dict[str, list[UnitSpec]], children: dict[str, list[UnitSpec]]
) -> None:
    grids = by_level["grid"]
    for i, grid in enumerate(grids):
        compounds = children.get(grid.code, [])
        assert len(compounds) == (2 if i < 20 else 0)
        for compound in compounds:
            assert compound.geometry is None
            buildings = children[compound.code]
            assert [b.name for b in buildings] == ["1栋", "2栋", "3栋"]
            for building in buildings:
                assert building.geometry is None
                units = children[building.code]
                assert [u.name for u in units] == ["1单元", "2单元"]
                assert all(u.geometry is None and u.code not in children for u in units)


# -- geometry ------------------------------------------------------------------------------


def _ring(unit: UnitSpec) -> list[list[float]]:
    assert unit.geometry is not None
    assert unit.geometry["type"] == "Polygon"
    assert len(unit.geometry["coordinates"]) == 1  # exterior ring only
    ring: list[list[float]] = unit.geometry["coordinates"][0]
    return ring


def test_every_unit_down_to_grids_has_a_closed_ccw_valid_polygon(
    city: DemoCity, geoms: dict[str, Any]
) -> None:
    for unit in city.units:
        if LEVELS.index(unit.level) > LEVELS.index("grid"):
            continue
        ring = _ring(unit)
        assert ring[0] == ring[-1] and len(ring) >= 5
        for lng, lat in ring:
            assert round(lng, 7) == lng and round(lat, 7) == lat
            assert BBOX[0] <= lng <= BBOX[2] and BBOX[1] <= lat <= BBOX[3]
        poly = geoms[unit.code]
        assert poly.is_valid, unit.code
        assert poly.exterior.is_ccw, unit.code
        assert poly.area > 0


def test_grid_quads_are_convex_with_five_positions(
    by_level: dict[str, list[UnitSpec]], geoms: dict[str, Any]
) -> None:
    for grid in by_level["grid"]:
        assert len(_ring(grid)) == 5
        poly = geoms[grid.code]
        assert poly.convex_hull.area == pytest.approx(poly.area, rel=1e-12)


def test_neighbouring_grids_share_bit_identical_vertices(
    by_level: dict[str, list[UnitSpec]],
) -> None:
    vertices = {tuple(p) for g in by_level["grid"] for p in _ring(g)}
    assert len(vertices) == 97 * 61  # a shared lattice, not 4 private corners per cell
    # interior vertices are jittered: far fewer than all lie on the regular lattice
    lngs = Counter(lng for lng, _ in vertices)
    assert lngs[114.0] == 61 and lngs[114.6] == 61
    assert max(n for lng, n in lngs.items() if lng not in (114.0, 114.6)) < 10


def test_grids_do_not_overlap(by_level: dict[str, list[UnitSpec]], geoms: dict[str, Any]) -> None:
    polys = [geoms[g.code] for g in by_level["grid"]]
    areas = shapely.area(polys)
    union = shapely.union_all(polys)
    assert float(areas.sum()) == pytest.approx(union.area, rel=1e-9)

    tree = shapely.STRtree(polys)
    left, right = tree.query(polys, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    overlap = shapely.area(shapely.intersection(tree.geometries[left], tree.geometries[right]))
    # each cell touches exactly its 8-neighbourhood: edge neighbours plus diagonal corners
    cols, rows = 96, 60
    assert len(left) == (cols - 1) * rows + cols * (rows - 1) + 2 * (cols - 1) * (rows - 1)
    assert float(overlap.max()) <= 1e-12 * float(areas.min())


def test_grids_cover_the_city_exactly(
    by_level: dict[str, list[UnitSpec]], geoms: dict[str, Any]
) -> None:
    city_poly = geoms[CITY_CODE]
    grids_union = shapely.union_all([geoms[g.code] for g in by_level["grid"]])
    assert shapely.symmetric_difference(city_poly, grids_union).area <= 1e-12 * city_poly.area
    assert city_poly.bounds == pytest.approx(BBOX, abs=1e-9)
    assert len(city_poly.interiors) == 0


@pytest.mark.parametrize("level", ["city", "district", "street", "community"])
def test_polygon_equals_union_of_children(
    level: str,
    by_level: dict[str, list[UnitSpec]],
    children: dict[str, list[UnitSpec]],
    geoms: dict[str, Any],
) -> None:
    for parent in by_level[level]:
        kids = children[parent.code]
        assert kids
        merged = shapely.union_all([geoms[k.code] for k in kids])
        poly = geoms[parent.code]
        assert merged.geom_type == "Polygon"
        assert shapely.symmetric_difference(poly, merged).area <= 1e-12 * poly.area, parent.code
        assert shapely.equals(poly, merged), parent.code


def test_layout_sizes(
    by_level: dict[str, list[UnitSpec]], children: dict[str, list[UnitSpec]]
) -> None:
    assert all(len(children[d.code]) == 10 for d in by_level["district"])
    assert all(len(children[s.code]) == 12 for s in by_level["street"])
    assert all(len(children[c.code]) == 6 for c in by_level["community"])


# -- determinism ------------------------------------------------------------------------------


def test_same_seed_same_city(city: DemoCity) -> None:
    again = generate_city(2026)
    assert again == city
    assert again.units == city.units and again.departments == city.departments


def test_other_seed_other_city(city: DemoCity) -> None:
    other = generate_city(7)
    assert other != city
    assert [u.code for u in other.units] == [u.code for u in city.units]  # same tree shape
    diff_geo = sum(a.geometry != b.geometry for a, b in zip(other.units, city.units, strict=True))
    assert diff_geo > 5000
    assert [u.name for u in other.units] != [u.name for u in city.units]


# -- names ----------------------------------------------------------------------------------


def test_names_are_chinese_with_the_right_suffix(city: DemoCity) -> None:
    for unit in city.units:
        assert CJK.search(unit.name), unit
        assert unit.name.endswith(NAME_SUFFIXES[unit.level]), unit
        assert len(unit.name) <= 100
    assert city.units[0].name == "江城市"


def test_names_unique_among_siblings(
    city: DemoCity, children: dict[str, list[UnitSpec]], by_level: dict[str, list[UnitSpec]]
) -> None:
    for parent_code, kids in children.items():
        names = [k.name for k in kids]
        assert len(names) == len(set(names)), parent_code
    for level in ("district", "street"):
        names = [u.name for u in by_level[level]]
        assert len(names) == len(set(names)), level
    # stems: a street never reuses its district's stem
    district_stems = {d.name[:-1] for d in by_level["district"]}
    assert not any(s.name[:2] in district_stems for s in by_level["street"])


# -- departments ----------------------------------------------------------------------------


def test_departments(city: DemoCity, by_level: dict[str, list[UnitSpec]]) -> None:
    deps = city.departments
    assert len(deps) >= 60
    assert len({d.code for d in deps}) == len(deps)
    assert len({d.name for d in deps}) == len(deps)
    assert all(len(d.code) <= 32 and CJK.search(d.name) for d in deps)

    municipal = [d for d in deps if d.level == "municipal"]
    assert len(municipal) >= 20
    assert all(d.area_code == CITY_CODE and d.name.startswith("市") for d in municipal)
    for name in ("市公安局", "市城市管理执法委员会", "市生态环境局", "市住房和城乡建设局"):
        assert name in {d.name for d in municipal}

    district_deps = [d for d in deps if d.level == "district"]
    assert len(municipal) + len(district_deps) == len(deps)
    names = {u.code: u.name for u in by_level["district"]}
    per_district = Counter(d.area_code for d in district_deps)
    assert set(per_district) == set(names)
    assert all(n >= 5 for n in per_district.values())
    for d in district_deps:
        assert d.name.startswith(names[d.area_code]), d
