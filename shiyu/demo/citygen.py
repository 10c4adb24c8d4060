"""Deterministic generator of a synthetic Chinese city (江城市) for demos and benchmarks.

Pure: no database, no files, no network. ``generate_city(seed)`` always returns the same
:class:`DemoCity` for the same seed.

Layout
------
The city is a lattice of ``GRID_COLS x GRID_ROWS`` (96 x 60) grid cells covering roughly
lng 114.00-114.60, lat 30.40-30.80. Every interior lattice vertex is jittered by at most
``JITTER`` (20 %) of a cell along each axis, which keeps every quad strictly convex; vertices on
the outer rectangle only slide along it (corners stay put). Coordinates are rounded to 7
decimals once, when the vertex is created, so neighbouring cells share bit-identical edges and
the grids tile the city exactly (no gaps, no overlaps).

* community = 3 x 2 cells (6 grids)
* street    = 4 x 3 communities (72 grids)
* district  = 2 x 5 streets (720 grids)
* city      = 4 x 2 districts (8 districts, 80 streets, 960 communities, 5,760 grids)

Geometry above the grid level is the outline of the union of the cells (computed
hierarchically with shapely, which yields the same polygon as uniting the quads directly).

Codes follow the 12-digit 统计用区划代码 pattern: city ``420100000000``; districts
``4201xx000000`` (区 02-06, 县 21-23); streets ``<district 6><serial 3>000`` (街道 001-099,
镇 100-199, 乡 200-399); communities ``<street 9><serial 3>`` (社区/居委会 001-199,
村/村委会 200-399); grids ``<community 12><001-006>``; below that compounds (+3 digits),
buildings (+3) and units (+2) for a small sample of grids.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import shapely  # type: ignore[import-untyped, unused-ignore]
from shapely.geometry.polygon import orient  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "CITY_CODE",
    "CITY_NAME",
    "DemoCity",
    "DepartmentSpec",
    "UnitSpec",
    "generate_city",
]


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """One node of the administrative tree."""

    code: str
    name: str
    level: str
    parent_code: str | None
    geometry: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class DepartmentSpec:
    """A functional department serving an area (the city or one district)."""

    code: str
    name: str
    level: str
    area_code: str


@dataclass(frozen=True, slots=True)
class DemoCity:
    """The generated city: ``units`` lists parents before children."""

    units: list[UnitSpec]
    departments: list[DepartmentSpec]


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------

CITY_CODE = "420100000000"
CITY_NAME = "江城市"

LNG_MIN, LNG_MAX = 114.0, 114.6
LAT_MIN, LAT_MAX = 30.4, 30.8
GRID_COLS, GRID_ROWS = 96, 60
#: Maximum jitter of an interior vertex, as a fraction of a cell along each axis. Anything
#: below 0.25 keeps every quad strictly convex (at 0.25 a quad can degenerate).
JITTER = 0.2
PRECISION = 7

COMMUNITY_CELLS = (3, 2)  # (cols, rows) of grid cells per community
STREET_COMMUNITIES = (4, 3)  # (cols, rows) of communities per street
DISTRICT_STREETS = (2, 5)  # (cols, rows) of streets per district

_DISTRICT_CELLS = (
    COMMUNITY_CELLS[0] * STREET_COMMUNITIES[0] * DISTRICT_STREETS[0],
    COMMUNITY_CELLS[1] * STREET_COMMUNITIES[1] * DISTRICT_STREETS[1],
)
assert GRID_COLS % _DISTRICT_CELLS[0] == 0 and GRID_ROWS % _DISTRICT_CELLS[1] == 0

#: District blocks (col, row) in generation order, row 0 being the north. The first five are
#: the urban 区 (the four central blocks and the north-west one), the last three are 县.
_DISTRICT_BLOCKS: tuple[tuple[int, int], ...] = (
    (1, 0),
    (2, 0),
    (1, 1),
    (2, 1),
    (0, 0),
    (3, 0),
    (0, 1),
    (3, 1),
)
_URBAN_DISTRICT_SERIALS = ("02", "03", "04", "05", "06")
_COUNTY_SERIALS = ("21", "22", "23")
#: In a county, the first streets are 镇 (serials 100-199) and the remaining ones 乡 (200-399).
_TOWNS_PER_COUNTY = 8
#: In a 镇, the first communities are 社区 (serials 001-199) and the remaining ones 村 (200-399).
_URBAN_COMMUNITIES_PER_TOWN = 2

_SAMPLE_GRIDS = 20
_COMPOUNDS_PER_GRID = 2
_BUILDINGS_PER_COMPOUND = 3
_UNITS_PER_BUILDING = 2

# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

_DISTRICT_STEMS = (
    "江岸", "青山", "汉阳", "东湖", "临江", "白沙", "紫阳", "望江",
    "翠屏", "龙泉", "凤凰", "南湖", "金沙", "云溪", "清河", "长丰",
)  # fmt: skip

_STREET_STEMS = (
    "和平", "新华", "建设", "解放", "胜利", "民主", "友谊", "团结",
    "光明", "前进", "红旗", "幸福", "复兴", "振兴", "兴华", "华中",
    "花山", "石门", "柳林", "杨园", "梅岭", "荷塘", "松柏", "竹林",
    "桃源", "杏林", "兰亭", "菊园", "枫林", "樟树", "柏泉", "莲花",
    "芦洲", "沙湖", "月湖", "晴川", "鹦鹉", "琴台", "龟山", "珞珈",
    "狮子", "卓刀", "关山", "九峰", "流芳", "龙王", "横店", "阳逻",
    "仓埠", "汪集", "李集", "三里", "五里", "七里", "十里", "双墩",
    "大桥", "新店", "古田", "丰收", "余家", "唐家", "徐东", "常青",
    "万松", "水果", "积玉", "球场", "二七", "后湖", "谌家", "堤角",
    "塔子", "罗家", "汉兴", "东山", "西湖", "南岭", "北岸", "中山",
    "桂园", "紫荆", "金桥", "玉泉", "黄陂", "蔡甸", "新洲", "江夏",
    "永安", "安居", "乐业", "太平", "长春", "百步", "首义", "宝丰",
    "汉正", "车站", "四新", "洪山", "张湾", "花桥", "雄楚", "梨园",
)  # fmt: skip

_URBAN_FIRST = (
    "翠", "桂", "紫", "金", "银", "锦", "华", "新", "和", "安",
    "康", "福", "盛", "兴", "秀", "丽", "春", "秋", "明", "阳",
    "月", "星", "云", "清", "绿", "碧", "青", "梅", "兰", "竹",
    "菊", "松", "柳", "枫", "桃", "荷", "莲", "丰", "永", "宁",
)  # fmt: skip
_URBAN_SECOND = (
    "苑", "园", "湖", "湾", "桥", "山", "林", "岭", "坊", "庭",
    "城", "港", "洲", "堤", "泉", "溪", "塘", "台", "亭", "居",
    "里", "街", "府", "景", "阁",
)  # fmt: skip
_SURNAMES = (
    "李", "王", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
    "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
    "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "蒋", "蔡", "余",
    "杜", "叶", "程", "苏", "魏", "吕", "丁", "沈", "姚", "卢",
)  # fmt: skip
_VILLAGE_SUFFIXES = (
    "家湾", "家岗", "家畈", "家咀", "家台", "家墩", "家店", "家庄", "家冲", "家集",
)  # fmt: skip
_ESTATE_PREFIXES = (
    "阳光", "锦绣", "幸福", "金色", "和谐", "翡翠", "碧水", "御景", "世纪", "滨江",
    "东方", "凯旋", "丽景", "华府", "中央", "香榭", "紫荆", "怡和", "嘉园", "龙湾",
)  # fmt: skip
_ESTATE_SUFFIXES = ("小区", "花园", "家园", "新城")

_MUNICIPAL_DEPARTMENTS = (
    "市公安局",
    "市城市管理执法委员会",
    "市生态环境局",
    "市住房和城乡建设局",
    "市交通运输局",
    "市水务局",
    "市卫生健康委员会",
    "市教育局",
    "市人力资源和社会保障局",
    "市市场监督管理局",
    "市民政局",
    "市应急管理局",
    "市自然资源和规划局",
    "市园林和林业局",
    "市司法局",
    "市文化和旅游局",
    "市商务局",
    "市住房保障和房屋管理局",
    "市信访局",
    "市政务服务和大数据管理局",
    "市消防救援支队",
    "市发展和改革委员会",
    "市财政局",
    "市农业农村局",
)
#: District departments: (name suffix for a 区, name suffix for a 县).
_DISTRICT_DEPARTMENTS = (
    ("城管执法局", "城管执法局"),
    ("住建局", "住建局"),
    ("生态环境分局", "生态环境分局"),
    ("市场监管局", "市场监管局"),
    ("公安分局", "公安局"),
)


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _shuffled(rng: random.Random, pool: Sequence[str]) -> Iterator[str]:
    """The pool (deduplicated) in a seed-dependent order; raises StopIteration when exhausted."""
    items = list(_unique(pool))
    rng.shuffle(items)
    return iter(items)


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------

Vertex = tuple[float, float]


def _lattice(rng: random.Random) -> list[list[Vertex]]:
    """(GRID_ROWS + 1) rows of (GRID_COLS + 1) vertices; row 0 is the northern edge."""
    cell_w = (LNG_MAX - LNG_MIN) / GRID_COLS
    cell_h = (LAT_MAX - LAT_MIN) / GRID_ROWS
    rows: list[list[Vertex]] = []
    for j in range(GRID_ROWS + 1):
        row: list[Vertex] = []
        for i in range(GRID_COLS + 1):
            # Always draw two numbers so the sequence does not depend on the vertex position.
            du = rng.uniform(-JITTER, JITTER)
            dv = rng.uniform(-JITTER, JITTER)
            if i in (0, GRID_COLS):  # west / east edge: slide along it (lat only)
                du = 0.0
            if j in (0, GRID_ROWS):  # north / south edge: slide along it (lng only)
                dv = 0.0
            lng = LNG_MIN + (i + du) * cell_w
            lat = LAT_MAX - (j + dv) * cell_h
            row.append((round(lng, PRECISION), round(lat, PRECISION)))
        rows.append(row)
    return rows


def _cell_ring(lattice: list[list[Vertex]], col: int, row: int) -> list[Vertex]:
    """The closed, counter-clockwise ring of cell (col, row): SW, SE, NE, NW, SW."""
    nw, ne = lattice[row][col], lattice[row][col + 1]
    sw, se = lattice[row + 1][col], lattice[row + 1][col + 1]
    return [sw, se, ne, nw, sw]


def _ring_geojson(ring: Sequence[Vertex]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[lng, lat] for lng, lat in ring]]}


def _union(parts: Sequence[Any]) -> Any:
    """Union of adjacent polygons as a single valid, hole-free, counter-clockwise Polygon."""
    merged = shapely.union_all(list(parts))
    if merged.geom_type != "Polygon" or not merged.is_valid or len(merged.interiors) != 0:
        raise RuntimeError(f"union is not a simple polygon: {merged.geom_type}")
    return orient(merged, 1.0)


def _polygon_geojson(polygon: Any) -> dict[str, Any]:
    ring = [
        [round(float(x), PRECISION), round(float(y), PRECISION)] for x, y in polygon.exterior.coords
    ]
    return {"type": "Polygon", "coordinates": [ring]}


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


def generate_city(seed: int = 2026) -> DemoCity:
    """Generate the synthetic city for ``seed`` (same seed, same city)."""
    geo_rng = random.Random(seed)
    name_rng = random.Random(f"shiyu.demo.citygen.names:{seed}")

    lattice = _lattice(geo_rng)
    rings = [[_cell_ring(lattice, c, r) for c in range(GRID_COLS)] for r in range(GRID_ROWS)]
    quads = [list(shapely.polygons(row_rings)) for row_rings in rings]

    district_stems = name_rng.sample(_unique(_DISTRICT_STEMS), len(_DISTRICT_BLOCKS))
    street_stems = _shuffled(name_rng, [s for s in _STREET_STEMS if s not in set(district_stems)])
    community_stems = _shuffled(name_rng, [a + b for a in _URBAN_FIRST for b in _URBAN_SECOND])
    village_stems = _shuffled(name_rng, [s + v for s in _SURNAMES for v in _VILLAGE_SUFFIXES])
    estate_names = _shuffled(name_rng, [p + s for p in _ESTATE_PREFIXES for s in _ESTATE_SUFFIXES])

    districts: list[UnitSpec] = []
    streets: list[UnitSpec] = []
    communities: list[UnitSpec] = []
    grids: list[UnitSpec] = []
    district_polys: list[Any] = []

    scw, scr = COMMUNITY_CELLS
    ssc, ssr = STREET_COMMUNITIES
    dss, dsr = DISTRICT_STREETS

    for d_index, (d_col, d_row) in enumerate(_DISTRICT_BLOCKS):
        is_county = d_index >= len(_URBAN_DISTRICT_SERIALS)
        if is_county:
            d_serial = _COUNTY_SERIALS[d_index - len(_URBAN_DISTRICT_SERIALS)]
            d_name = district_stems[d_index] + "县"
        else:
            d_serial = _URBAN_DISTRICT_SERIALS[d_index]
            d_name = district_stems[d_index] + "区"
        d_code = f"4201{d_serial}000000"
        street_polys: list[Any] = []

        for s_index in range(dss * dsr):
            s_row, s_col = divmod(s_index, dss)
            street_col, street_row = d_col * dss + s_col, d_row * dsr + s_row
            if not is_county:
                s_kind, s_serial = "街道", 1 + s_index
            elif s_index < _TOWNS_PER_COUNTY:
                s_kind, s_serial = "镇", 100 + s_index
            else:
                s_kind, s_serial = "乡", 200 + s_index - _TOWNS_PER_COUNTY
            s_code = f"{d_code[:6]}{s_serial:03d}000"
            s_name = next(street_stems) + s_kind
            community_polys: list[Any] = []

            for c_index in range(ssc * ssr):
                c_row, c_col = divmod(c_index, ssc)
                comm_col, comm_row = street_col * ssc + c_col, street_row * ssr + c_row
                if s_kind == "街道" or (s_kind == "镇" and c_index < _URBAN_COMMUNITIES_PER_TOWN):
                    c_serial, c_name = 1 + c_index, next(community_stems) + "社区"
                else:
                    first_village = _URBAN_COMMUNITIES_PER_TOWN if s_kind == "镇" else 0
                    c_serial = 200 + c_index - first_village
                    c_name = next(village_stems) + "村"
                c_code = f"{s_code[:9]}{c_serial:03d}"
                cell_polys: list[Any] = []

                for g_index in range(scw * scr):
                    g_row, g_col = divmod(g_index, scw)
                    col, row = comm_col * scw + g_col, comm_row * scr + g_row
                    cell_polys.append(quads[row][col])
                    grids.append(
                        UnitSpec(
                            code=f"{c_code}{1 + g_index:03d}",
                            name=f"第{1 + g_index}网格",
                            level="grid",
                            parent_code=c_code,
                            geometry=_ring_geojson(rings[row][col]),
                        )
                    )

                community_poly = _union(cell_polys)
                community_polys.append(community_poly)
                communities.append(
                    UnitSpec(c_code, c_name, "community", s_code, _polygon_geojson(community_poly))
                )

            street_poly = _union(community_polys)
            street_polys.append(street_poly)
            streets.append(
                UnitSpec(s_code, s_name, "street", d_code, _polygon_geojson(street_poly))
            )

        district_poly = _union(street_polys)
        district_polys.append(district_poly)
        districts.append(
            UnitSpec(d_code, d_name, "district", CITY_CODE, _polygon_geojson(district_poly))
        )

    city = UnitSpec(CITY_CODE, CITY_NAME, "city", None, _polygon_geojson(_union(district_polys)))

    compounds: list[UnitSpec] = []
    buildings: list[UnitSpec] = []
    units: list[UnitSpec] = []
    for grid in grids[:_SAMPLE_GRIDS]:
        for k in range(1, _COMPOUNDS_PER_GRID + 1):
            compound_code = f"{grid.code}{k:03d}"
            compounds.append(
                UnitSpec(compound_code, next(estate_names), "compound", grid.code, None)
            )
            for b in range(1, _BUILDINGS_PER_COMPOUND + 1):
                building_code = f"{compound_code}{b:03d}"
                buildings.append(UnitSpec(building_code, f"{b}栋", "building", compound_code, None))
                for u in range(1, _UNITS_PER_BUILDING + 1):
                    units.append(
                        UnitSpec(f"{building_code}{u:02d}", f"{u}单元", "unit", building_code, None)
                    )

    departments = [
        DepartmentSpec(f"D{CITY_CODE[:6]}-{i:03d}", name, "municipal", CITY_CODE)
        for i, name in enumerate(_MUNICIPAL_DEPARTMENTS, start=1)
    ]
    for district in districts:
        is_county = district.name.endswith("县")
        for i, (district_suffix, county_suffix) in enumerate(_DISTRICT_DEPARTMENTS, start=1):
            suffix = county_suffix if is_county else district_suffix
            departments.append(
                DepartmentSpec(
                    f"D{district.code[:6]}-{i:03d}",
                    district.name + suffix,
                    "district",
                    district.code,
                )
            )

    return DemoCity(
        units=[city, *districts, *streets, *communities, *grids, *compounds, *buildings, *units],
        departments=departments,
    )
