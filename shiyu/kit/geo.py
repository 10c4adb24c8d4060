"""Geometry helpers (WGS84 lng/lat): parse and check GeoJSON polygons, bounding boxes."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

POLYGON_TYPES = ("Polygon", "MultiPolygon")


def _coords_in_range(geom: BaseGeometry) -> bool:
    coords = shapely.get_coordinates(geom)
    if len(coords) == 0:
        return False
    lng, lat = coords[:, 0], coords[:, 1]
    return bool(
        (lng >= -180).all() and (lng <= 180).all() and (lat >= -90).all() and (lat <= 90).all()
    )


def parse_polygon(geojson: Any) -> tuple[BaseGeometry | None, str | None]:
    """Return (geometry, None) for a valid, non-empty WGS84 polygon, else (None, problem)."""
    if not isinstance(geojson, dict) or geojson.get("type") not in POLYGON_TYPES:
        return None, "geometry must be a GeoJSON Polygon or MultiPolygon"
    try:
        geom = shape(geojson)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        return None, f"malformed coordinates: {exc}"
    if geom.is_empty:
        return None, "polygon is empty"
    if not _coords_in_range(geom):
        return None, "coordinates out of range (lng -180..180, lat -90..90)"
    if not geom.is_valid:
        return None, f"invalid polygon: {explain_validity(geom)}"
    if geom.area <= 0:
        return None, "polygon has no area"
    return geom, None


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    return dict(mapping(geom))


def bbox(geom: BaseGeometry) -> tuple[float, float, float, float]:
    min_x, min_y, max_x, max_y = geom.bounds
    return float(min_x), float(min_y), float(max_x), float(max_y)


def overlapping_pairs(
    geoms: list[BaseGeometry], *, relative_tolerance: float = 1e-6
) -> list[tuple[int, int, float]]:
    """Pairs (i, j, area) with i < j whose interiors overlap by more than the tolerance
    (relative to the smaller polygon), so shared edges and rounding noise do not count."""
    if len(geoms) < 2:
        return []
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if len(left) == 0:
        return []
    pieces = tree.geometries
    areas = shapely.area(shapely.intersection(pieces[left], pieces[right]))
    own = shapely.area(pieces)
    over = areas > relative_tolerance * np.minimum(own[left], own[right])
    return [
        (int(i), int(j), float(a))
        for i, j, a in zip(left[over], right[over], areas[over], strict=True)
    ]
