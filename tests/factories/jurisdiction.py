"""A tiny city: 1 city, 2 districts, 2 streets each, 2 communities each, 2 grids each.

Grids are 0.01° squares laid out on one row per street, so tests can place points exactly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from shiyu.auth.access import system_actor
from shiyu.jurisdiction import service

CITY = "420100000000"
BASE_LNG, BASE_LAT, STEP = 114.0, 30.0, 0.01


def square(lng: float, lat: float, size: float = STEP) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]
        ],
    }


def feature(code: str, name: str, level: str, parent: str | None, geometry: Any = None) -> Any:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "level": level, "parent_code": parent},
        "geometry": geometry,
    }


@dataclass
class TinyCity:
    features: list[dict[str, Any]] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)
    streets: list[str] = field(default_factory=list)
    communities: list[str] = field(default_factory=list)
    grids: list[str] = field(default_factory=list)
    #: centre point of each grid
    centres: dict[str, tuple[float, float]] = field(default_factory=dict)


def tiny_city_features() -> TinyCity:
    city = TinyCity()
    city.features.append(feature(CITY, "江城市", "city", None))
    row = 0
    for d in range(2):
        dcode = f"4201{d + 2:02d}000000"
        city.districts.append(dcode)
        city.features.append(feature(dcode, f"第{d + 1}区", "district", CITY))
        for s in range(2):
            scode = f"{dcode[:6]}{s + 1:03d}000"
            city.streets.append(scode)
            city.features.append(feature(scode, f"第{d + 1}区{s + 1}街道", "street", dcode))
            col = 0
            for c in range(2):
                ccode = f"{scode[:9]}{c + 1:03d}"
                city.communities.append(ccode)
                city.features.append(feature(ccode, f"{s + 1}街{c + 1}社区", "community", scode))
                for g in range(2):
                    gcode = f"{ccode}{g + 1:03d}"
                    lng, lat = BASE_LNG + col * STEP, BASE_LAT + row * STEP
                    city.grids.append(gcode)
                    city.centres[gcode] = (lng + STEP / 2, lat + STEP / 2)
                    city.features.append(
                        feature(gcode, f"第{g + 1}网格", "grid", ccode, square(lng, lat))
                    )
                    col += 1
            row += 1
    return city


def create_tiny_city(session: Session) -> TinyCity:
    city = tiny_city_features()
    service.import_features(session, system_actor(), city.features, source_fingerprint="tiny-city")
    session.flush()
    return city
