"""Reading the tree, placing points in grids, and importing/exporting GeoJSON."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import ValidationError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.auth.access import Actor
from shiyu.config import Settings
from shiyu.errors import InvalidInput, NotFound
from shiyu.jurisdiction import index as grid_index
from shiyu.jurisdiction import repository
from shiyu.jurisdiction.enums import CODE_LENGTH, SIGNIFICANT_DIGITS, Level
from shiyu.jurisdiction.models import GeoVersion, Jurisdiction
from shiyu.jurisdiction.schemas import (
    Feature,
    FeatureCollection,
    FeatureIn,
    FeatureProperties,
    ImportReport,
    JurisdictionRead,
    JurisdictionSummary,
    LocateBatchOut,
    LocateResult,
)
from shiyu.kit import geo, txn
from shiyu.kit.watch import WatchedCache


class UnitNotFound(NotFound):
    code = "jurisdiction.not_found"
    message = "辖区不存在或不在您的管辖范围内"


class OutsideCity(NotFound):
    code = "jurisdiction.outside_city"
    message = "该坐标不在本市任何网格内"


class ImportRejected(InvalidInput):
    code = "jurisdiction.import_rejected"
    message = "导入数据有误，未导入任何记录"


class OutsideScope(NotFound):
    """404, like any record outside the caller's jurisdiction: do not reveal what is there."""

    code = "jurisdiction.outside_scope"
    message = "导入数据超出您的管辖范围"


# ---------------------------------------------------------------- reading


def summary(unit: Jurisdiction | grid_index.UnitRef) -> JurisdictionSummary:
    return JurisdictionSummary(
        code=unit.code, name=unit.name, level=Level(unit.level), parent_code=unit.parent_code
    )


def list_top(session: Session, actor: Actor) -> list[JurisdictionSummary]:
    """The highest units the actor may see: their own jurisdiction (the whole tree for a
    city-level user)."""
    unit = repository.get_readable(session, actor, actor.jurisdiction_code)
    return [summary(unit)] if unit else []


def path_codes(path: str) -> list[str]:
    return [c for c in path.split("/") if c]


def get(session: Session, actor: Actor, code: str) -> JurisdictionRead:
    unit = repository.get_readable(session, actor, code)
    if unit is None:
        raise UnitNotFound()
    ancestors_by_code = repository.get_many(session, path_codes(unit.path)[:-1])
    ancestors = [ancestors_by_code[c] for c in path_codes(unit.path)[:-1] if c in ancestors_by_code]
    return JurisdictionRead(
        code=unit.code,
        name=unit.name,
        level=Level(unit.level),
        parent_code=unit.parent_code,
        ancestors=[summary(a) for a in ancestors],
        children=[summary(c) for c in repository.children(session, unit.code)],
        geometry=unit.geometry,
        properties=unit.properties or {},
    )


def get_readable_unit(session: Session, actor: Actor, code: str) -> Jurisdiction:
    """For other domains: the unit if the actor may see it, else 404."""
    unit = repository.get_readable(session, actor, code)
    if unit is None:
        raise UnitNotFound()
    return unit


def get_root(session: Session) -> Jurisdiction | None:
    """The city (the first root) for intake that has no place."""
    roots = repository.roots(session)
    return roots[0] if roots else None


def get_unit(session: Session, code: str) -> Jurisdiction | None:
    """Trusted lookup for services, jobs and imports (no scoping)."""
    return repository.get(session, code)


@dataclass(frozen=True)
class UnitInfo:
    """What intake needs of a unit, safe to keep beyond a session."""

    code: str
    path: str
    parent_code: str | None
    level: str


#: intake looks up the grid and the receiving unit of every report: all units at once (a
#: report can come from any of thousands of grids, and one query for all of them costs less
#: than a few dozen for one each)
_unit_infos: WatchedCache[str, dict[str, UnitInfo]] = WatchedCache(
    "units", (Jurisdiction, GeoVersion), ttl=60.0
)


def unit_info(session: Session, code: str) -> UnitInfo | None:
    """`get_unit` for hot paths: cached per process (cleared when units change here). A unit
    newer than the cache, or in a transaction that changed units, is read on its own."""
    if not _unit_infos.changed_in(session):
        found = _unit_infos.get_or_load(session, "all", lambda: _all_unit_infos(session)).get(code)
        if found is not None:
            return found
    unit = repository.get(session, code)
    return UnitInfo(unit.code, unit.path, unit.parent_code, unit.level) if unit else None


def _all_unit_infos(session: Session) -> dict[str, UnitInfo]:
    return {row[0]: UnitInfo(*row) for row in repository.unit_rows(session)}


def features(session: Session, actor: Actor, code: str, *, level: Level) -> FeatureCollection:
    """Descendants of one readable unit at one level, for drawing on a map."""
    unit = get_readable_unit(session, actor, code)
    return _to_collection(repository.descendants(session, unit.path, level=level.value))


# ---------------------------------------------------------------- locating


def _index(session: Session, settings: Settings) -> grid_index.GridIndex:
    return grid_index.holder.get(session, check_seconds=settings.geo_index_check_seconds)


def locate(session: Session, settings: Settings, *, lng: float, lat: float) -> LocateResult:
    idx = _index(session, settings)
    code = idx.locate(lng, lat)
    if code is None:
        raise OutsideCity(details=[{"lng": lng, "lat": lat}])
    chain = idx.path(code)
    return LocateResult(lng=lng, lat=lat, grid=summary(chain[-1]), path=[summary(u) for u in chain])


def locate_grid_code(session: Session, settings: Settings, *, lng: float, lat: float) -> str | None:
    """For other domains (intake): the grid code or None, no error."""
    return _index(session, settings).locate(lng, lat)


def locate_grid_codes(
    session: Session, settings: Settings, points: list[tuple[float, float]]
) -> list[str | None]:
    """`locate_grid_code` for many points in one index query."""
    return _index(session, settings).locate_many(np.asarray(points, dtype=float))


def locate_batch(
    session: Session, settings: Settings, points: list[tuple[float, float]]
) -> LocateBatchOut:
    codes = locate_grid_codes(session, settings, points)
    located = sum(c is not None for c in codes)
    return LocateBatchOut(grid_codes=codes, located=located, missing=len(codes) - located)


# ---------------------------------------------------------------- import / export


@dataclass
class _Row:
    index: int
    props: FeatureProperties
    geometry: BaseGeometry | None
    geojson: dict[str, Any] | None
    extra: dict[str, Any]


@dataclass
class _Problems:
    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, index: int, code: str | None, problem: str) -> None:
        self.items.append({"index": index, "code": code, "problem": problem})


def _check_feature(i: int, raw: Any, problems: _Problems) -> _Row | None:
    try:
        feat = FeatureIn.model_validate(raw)
    except ValidationError as exc:
        problems.add(i, None, f"not a GeoJSON Feature: {_first_errors(exc)}")
        return None
    code = feat.properties.get("code")
    code = str(code) if code is not None else None
    try:
        props = FeatureProperties.model_validate(feat.properties)
    except ValidationError as exc:
        problems.add(i, code, f"bad properties: {_first_errors(exc)}")
        return None
    level = props.level
    if len(props.code) != CODE_LENGTH[level]:
        problems.add(i, props.code, f"a {level.value} code must have {CODE_LENGTH[level]} digits")
        return None
    geom, geojson = None, None
    if feat.geometry is not None:
        geom, problem = geo.parse_polygon(feat.geometry)
        if problem:
            problems.add(i, props.code, problem)
            return None
        geojson = feat.geometry
    elif level is Level.grid:
        problems.add(i, props.code, "a grid must have a polygon")
        return None
    if level is Level.city and props.parent_code:
        problems.add(i, props.code, "a city has no parent")
        return None
    if level is not Level.city and not props.parent_code:
        problems.add(i, props.code, f"a {level.value} needs a parent_code")
        return None
    extra = {k: v for k, v in feat.properties.items() if k not in FeatureProperties.model_fields}
    return _Row(i, props, geom, geojson, extra)


def _first_errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])


def _check_parent(
    row: _Row,
    parent_level: str | None,
    parent_code: str,
    problems: _Problems,
) -> None:
    level = row.props.level
    if parent_level is None:
        problems.add(row.index, row.props.code, f"unknown parent {parent_code}")
        return
    expected = level.parent_level
    if expected is None or parent_level != expected.value:
        problems.add(
            row.index,
            row.props.code,
            f"wrong level: a {level.value} must sit under a "
            f"{expected.value if expected else '-'}, not a {parent_level}",
        )
        return
    prefix = SIGNIFICANT_DIGITS[Level(parent_level)]
    if row.props.code[:prefix] != parent_code[:prefix] or row.props.code == parent_code:
        problems.add(
            row.index,
            row.props.code,
            f"code must extend its parent's code {parent_code[:prefix]}",
        )


def validate_collection(
    session: Session, raw_features: list[Any]
) -> tuple[list[_Row], dict[str, Jurisdiction], list[dict[str, Any]]]:
    """Check every feature against the file and the stored tree; return rows, the existing
    units they touch and every problem found (nothing is written here)."""
    problems = _Problems()
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_features):
        row = _check_feature(i, raw, problems)
        if row is None:
            continue
        if row.props.code in seen:
            problems.add(i, row.props.code, f"duplicate code (also feature {seen[row.props.code]})")
            continue
        seen[row.props.code] = i
        rows.append(row)

    in_file = {r.props.code: r for r in rows}
    existing = repository.get_many(
        session,
        [r.props.code for r in rows] + [r.props.parent_code for r in rows if r.props.parent_code],
    )
    for row in rows:
        old = existing.get(row.props.code)
        if old is not None:
            if old.level != row.props.level.value:
                problems.add(row.index, row.props.code, f"level cannot change ({old.level})")
                continue
            if old.parent_code != row.props.parent_code:
                problems.add(row.index, row.props.code, f"parent cannot change ({old.parent_code})")
                continue
        if row.props.parent_code:
            parent_row = in_file.get(row.props.parent_code)
            parent_old = existing.get(row.props.parent_code)
            parent_level = (
                parent_row.props.level.value
                if parent_row
                else parent_old.level
                if parent_old
                else None
            )
            _check_parent(row, parent_level, row.props.parent_code, problems)

    _check_grid_overlaps(session, rows, problems)
    problems.items.sort(key=lambda p: (p["index"], p["problem"]))
    return rows, existing, problems.items


def _check_grid_overlaps(session: Session, rows: list[_Row], problems: _Problems) -> None:
    new = [(r.props.code, r.geometry, r.index) for r in rows if r.props.level is Level.grid]
    replaced = {code for code, _, _ in new}
    stored = repository.grids_outside(session, replaced)
    codes = [c for c, _, _ in new] + [c for c, _ in stored]
    geoms: list[BaseGeometry] = [g for _, g, _ in new if g is not None] + [
        shape(g) for _, g in stored
    ]
    n_new = len(new)
    for i, j, area in geo.overlapping_pairs(geoms):
        if i >= n_new and j >= n_new:
            continue  # two stored grids: not this import's problem
        # report on the later feature of the file (or on the new one against a stored grid)
        mine, theirs = (j, i) if j < n_new else (i, j)
        where = "in this file" if j < n_new else "already stored"
        index, me, other = new[mine][2], codes[mine], codes[theirs]
        problems.add(index, me, f"overlaps grid {other} ({where}), area {area:.3g} deg²")


def fingerprint(data: Any) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()


def import_features(
    session: Session, actor: Actor, raw_features: list[Any], *, source_fingerprint: str
) -> ImportReport:
    """All or nothing: if any feature is bad, raise with every problem and write nothing."""
    rows, existing, problems = validate_collection(session, raw_features)
    if problems:
        raise ImportRejected(details=problems)
    rows.sort(key=lambda r: (r.props.level.rank, r.props.code))
    paths = {code: unit.path for code, unit in existing.items()}
    created = updated = unchanged = 0
    grids_changed = False
    for row in rows:
        p = row.props
        parent_path = paths.get(p.parent_code, "/") if p.parent_code else "/"
        path = f"{parent_path}{p.code}/"
        if not actor.covers(path):
            raise OutsideScope(details=[{"index": row.index, "code": p.code}])
        paths[p.code] = path
        values = _values(row)
        unit = existing.get(p.code)
        if unit is None:
            session.add(Jurisdiction(code=p.code, path=path, parent_code=p.parent_code, **values))
            created += 1
            grids_changed |= p.level is Level.grid
        elif any(getattr(unit, k) != v for k, v in values.items()):
            grids_changed |= p.level is Level.grid and unit.geometry != values["geometry"]
            for k, v in values.items():
                setattr(unit, k, v)
            updated += 1
        else:
            unchanged += 1
    session.flush()
    if grids_changed:
        grid_index.bump_version(session)
        # check again now (this transaction) and once more when the change is committed
        grid_index.holder.invalidate()
        txn.after_commit(session, grid_index.holder.invalidate)
    report = ImportReport(
        created=created,
        updated=updated,
        unchanged=unchanged,
        grids=sum(r.props.level is Level.grid for r in rows),
        fingerprint=source_fingerprint,
    )
    if created or updated:  # an import that changes nothing leaves no trace to audit
        _audit_import(session, actor, report, list(paths.values()))
    return report


def _audit_import(session: Session, actor: Actor, report: ImportReport, paths: list[str]) -> None:
    audit.record(
        session,
        actor=actor,
        action="jurisdiction.import",
        object_type="jurisdiction_import",
        object_id=report.fingerprint[:16],
        scope_path=_common_root(paths or [actor.scope_path]),
        extra=report.model_dump(),
    )


def _values(row: _Row) -> dict[str, Any]:
    box = geo.bbox(row.geometry) if row.geometry is not None else (None, None, None, None)
    return {
        "name": row.props.name,
        "level": row.props.level.value,
        "geometry": row.geojson,
        "min_lng": box[0],
        "min_lat": box[1],
        "max_lng": box[2],
        "max_lat": box[3],
        "properties": row.extra,
    }


def _common_root(paths: list[str]) -> str:
    parts = [path_codes(p) for p in paths]
    common: list[str] = []
    for level_codes in zip(*parts, strict=False):
        if len(set(level_codes)) != 1:
            break
        common.append(level_codes[0])
    return "/" + "".join(f"{c}/" for c in common) if common else "/"


def _to_collection(units: Any) -> FeatureCollection:
    return FeatureCollection(
        features=[
            Feature(
                properties={
                    "code": u.code,
                    "name": u.name,
                    "level": u.level,
                    "parent_code": u.parent_code,
                    **(u.properties or {}),
                },
                geometry=u.geometry,
            )
            for u in units
        ]
    )


def export(session: Session, actor: Actor, *, root: str | None = None) -> FeatureCollection:
    """The actor's subtree (or a readable unit's subtree), parents before children."""
    path = actor.scope_path
    if root:
        path = get_readable_unit(session, actor, root).path
    units = sorted(
        repository.descendants(session, path), key=lambda u: (Level(u.level).rank, u.code)
    )
    return _to_collection(units)
