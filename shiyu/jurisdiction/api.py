from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from shiyu.deps import SessionDep, request_settings
from shiyu.errors import error_responses
from shiyu.jurisdiction import service
from shiyu.jurisdiction.enums import Level
from shiyu.jurisdiction.permissions import JurisdictionsRead, JurisdictionsWrite, Locate
from shiyu.jurisdiction.schemas import (
    FeatureCollection,
    FeatureCollectionIn,
    ImportReport,
    JurisdictionRead,
    JurisdictionSummary,
    LocateBatchIn,
    LocateBatchOut,
    LocateResult,
)

router = APIRouter(tags=["jurisdictions"])

CODE = r"^\d{12,23}$"
CodePath = Annotated[str, Path(pattern=CODE, description="12-digit area code or grid code")]


@router.get(
    "/jurisdictions",
    response_model=list[JurisdictionSummary],
    operation_id="jurisdictions-list_top",
)
def list_top(session: SessionDep, actor: JurisdictionsRead) -> list[JurisdictionSummary]:
    """The top units the caller may see (their own jurisdiction)."""
    return service.list_top(session, actor)


@router.get(
    "/jurisdictions/export",
    response_model=FeatureCollection,
    operation_id="jurisdictions-export",
    responses=error_responses(service.UnitNotFound),
)
def export(
    session: SessionDep,
    actor: JurisdictionsWrite,
    root: Annotated[str | None, Query(pattern=CODE)] = None,
) -> FeatureCollection:
    """GeoJSON FeatureCollection of the caller's subtree (or of `root`'s)."""
    return service.export(session, actor, root=root)


@router.post(
    "/jurisdictions/import",
    response_model=ImportReport,
    operation_id="jurisdictions-import",
    responses=error_responses(service.ImportRejected),
)
def import_features(
    session: SessionDep, actor: JurisdictionsWrite, body: FeatureCollectionIn
) -> ImportReport:
    """Import a GeoJSON FeatureCollection: every problem is listed and nothing is written
    unless every feature is valid."""
    return service.import_features(
        session,
        actor,
        body.features,
        source_fingerprint=service.fingerprint(body.model_dump(mode="json")),
    )


@router.get(
    "/jurisdictions/{code}",
    response_model=JurisdictionRead,
    operation_id="jurisdictions-get",
    responses=error_responses(service.UnitNotFound),
)
def get(
    session: SessionDep,
    actor: JurisdictionsRead,
    code: CodePath,
) -> JurisdictionRead:
    """A unit with its ancestors, its children and (for grids) its polygon."""
    return service.get(session, actor, code)


@router.get(
    "/jurisdictions/{code}/features",
    response_model=FeatureCollection,
    operation_id="jurisdictions-features",
    responses=error_responses(service.UnitNotFound),
)
def features(
    session: SessionDep,
    actor: JurisdictionsRead,
    code: CodePath,
    level: Level = Level.grid,
) -> FeatureCollection:
    """Descendants of a unit at one level (default: grids) as GeoJSON, for the map."""
    return service.features(session, actor, code, level=level)


@router.get(
    "/locate",
    response_model=LocateResult,
    operation_id="jurisdictions-locate",
    responses=error_responses(service.OutsideCity),
)
def locate(
    request: Request,
    session: SessionDep,
    _actor: Locate,
    lng: Annotated[float, Query(ge=-180, le=180, description="WGS84 longitude")],
    lat: Annotated[float, Query(ge=-90, le=90, description="WGS84 latitude")],
) -> LocateResult:
    """The grid that contains a point, with its path from the city down."""
    return service.locate(session, request_settings(request), lng=lng, lat=lat)


@router.post(
    "/locate/batch",
    response_model=LocateBatchOut,
    operation_id="jurisdictions-locate_batch",
)
def locate_batch(
    request: Request, session: SessionDep, _actor: Locate, body: LocateBatchIn
) -> LocateBatchOut:
    """Up to 10,000 points in one request; null for points outside every grid."""
    return service.locate_batch(
        session, request_settings(request), [(p.lng, p.lat) for p in body.points]
    )
