"""The in-memory point→grid index of one process (Shapely STRtree).

Every process holds its own copy. It compares its version with the `geo_versions` row at most
every `geo_index_check_seconds` (or at once after this process changed grids) and rebuilds when
they differ, so grids imported by another process are picked up without a restart.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.jurisdiction.enums import Level
from shiyu.jurisdiction.models import GeoVersion, Jurisdiction
from shiyu.kit.clock import utcnow


@dataclass(frozen=True, slots=True)
class UnitRef:
    code: str
    name: str
    level: str
    parent_code: str | None


class GridIndex:
    def __init__(self, version: str, grids: list[tuple[str, object]], units: dict[str, UnitRef]):
        self.version = version
        grids.sort(key=lambda g: g[0])  # ties on shared edges go to the lowest code
        self.codes = np.array([c for c, _ in grids], dtype=object)
        self.tree = shapely.STRtree([g for _, g in grids])
        self.units = units

    def locate(self, lng: float, lat: float) -> str | None:
        hits = self.tree.query(shapely.Point(lng, lat), predicate="intersects")
        return str(self.codes[hits.min()]) if len(hits) else None

    def locate_many(self, coords: np.ndarray) -> list[str | None]:
        """coords: array of shape (n, 2) with lng, lat."""
        points = shapely.points(coords)
        src, hit = self.tree.query(points, predicate="intersects")
        best = np.full(len(points), -1, dtype=np.int64)
        if len(src):
            # reversed so that the smallest hit per point is written last and wins
            order = np.lexsort((-hit, src))
            best[src[order]] = hit[order]
        return [str(self.codes[i]) if i >= 0 else None for i in best]

    def path(self, code: str) -> list[UnitRef]:
        chain: list[UnitRef] = []
        ref = self.units.get(code)
        while ref is not None:
            chain.append(ref)
            ref = self.units.get(ref.parent_code) if ref.parent_code else None
        return chain[::-1]


def current_version(session: Session) -> str:
    return session.scalar(select(GeoVersion.version).where(GeoVersion.id == 1)) or ""


def bump_version(session: Session) -> None:
    """A fresh random token, not a counter: a rolled-back change must never leave another
    process believing its index matches a later, different change with the same number."""
    row = session.get(GeoVersion, 1)
    token = uuid.uuid4().hex
    if row is None:
        session.add(GeoVersion(id=1, version=token))
    else:
        row.version = token
        row.updated_at = utcnow()
    session.flush()


def build(session: Session) -> GridIndex:
    from shapely.geometry import shape

    version = current_version(session)
    units: dict[str, UnitRef] = {}
    grids: list[tuple[str, object]] = []
    rows = session.execute(
        select(
            Jurisdiction.code,
            Jurisdiction.name,
            Jurisdiction.level,
            Jurisdiction.parent_code,
            Jurisdiction.geometry,
        ).where(Jurisdiction.level.in_([lv.value for lv in Level if lv.rank <= Level.grid.rank]))
    )
    for code, name, level, parent, geometry in rows:
        units[code] = UnitRef(code, name, level, parent)
        if level == Level.grid and geometry:
            grids.append((code, shape(geometry)))
    return GridIndex(version, grids, units)


class IndexHolder:
    def __init__(self) -> None:
        self._index: GridIndex | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        self._checked_at = 0.0

    def get(self, session: Session, *, check_seconds: float) -> GridIndex:
        now = time.monotonic()
        index = self._index
        if index is not None and now - self._checked_at < check_seconds:
            return index
        with self._lock:
            version = current_version(session)
            if self._index is None or self._index.version != version:
                self._index = build(session)
            self._checked_at = time.monotonic()
            return self._index


#: One per process.
holder = IndexHolder()
