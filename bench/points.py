"""Deterministic random points inside the demo city's bounding box."""

from __future__ import annotations

import numpy as np

#: The demo city's grids tile exactly this box (lng_min, lat_min, lng_max, lat_max).
CITY_BBOX: tuple[float, float, float, float] = (114.0, 30.4, 114.6, 30.8)


def random_points(
    n: int, seed: int, bbox: tuple[float, float, float, float] = CITY_BBOX
) -> np.ndarray:
    """An (n, 2) array of lng, lat, the same for the same seed, rounded to 6 decimals (~0.1 m)
    so that what goes over HTTP is exactly what is located in process."""
    lng_min, lat_min, lng_max, lat_max = bbox
    rng = np.random.default_rng(seed)
    lng = rng.uniform(lng_min, lng_max, n)
    lat = rng.uniform(lat_min, lat_max, n)
    return np.round(np.column_stack([lng, lat]), 6)
