"""Squares of the map (0.01° of latitude by 0.01° of longitude, about 1.1 km × 0.96 km in
central China) that duplicate band keys are filed under, so a search reads only the keys of
events near the new one. Cell 0 means "no point"."""

from __future__ import annotations

import math

#: degrees per side of a cell; a change needs a migration that recomputes the stored cells
CELL_DEGREES = 0.01
_LNG_CELLS = round(360 / CELL_DEGREES) + 2
_M_PER_DEGREE = 111_320.0


def _index(value: float, offset: float) -> int:
    return math.floor((value + offset) / CELL_DEGREES)


def cell_of(lng: float | None, lat: float | None) -> int:
    if lng is None or lat is None:
        return 0
    return _index(lat, 90.0) * _LNG_CELLS + _index(lng, 180.0) + 1


def cells_near(lng: float, lat: float, radius_m: float) -> list[int]:
    """Every cell that holds a point within `radius_m` of (lng, lat) (a bounding box of cells:
    a superset, the distance is checked exactly afterwards)."""
    dlat = radius_m / _M_PER_DEGREE
    dlng = radius_m / (_M_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    lat_range = range(_index(lat - dlat, 90.0), _index(lat + dlat, 90.0) + 1)
    lng_range = range(_index(lng - dlng, 180.0), _index(lng + dlng, 180.0) + 1)
    return [i * _LNG_CELLS + j + 1 for i in lat_range for j in lng_range]
