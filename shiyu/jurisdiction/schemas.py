from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shiyu.jurisdiction.enums import Level
from shiyu.kit.schemas import ORMModel


class JurisdictionSummary(ORMModel):
    code: str
    name: str
    level: Level
    parent_code: str | None


class JurisdictionRead(JurisdictionSummary):
    ancestors: list[JurisdictionSummary] = Field(description="From the city down to the parent.")
    children: list[JurisdictionSummary]
    geometry: dict[str, Any] | None = Field(description="GeoJSON polygon (WGS84), grids always.")
    properties: dict[str, Any]


class LocateResult(BaseModel):
    lng: float
    lat: float
    grid: JurisdictionSummary
    path: list[JurisdictionSummary] = Field(description="From the city down to the grid.")


class LngLat(BaseModel):
    # strict: lax mode read `false` as 0° (found by fuzzing); JSON integers are still numbers
    model_config = ConfigDict(strict=True)

    lng: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


LOCATE_BATCH_MAX = 10_000


class LocateBatchIn(BaseModel):
    points: list[LngLat] = Field(min_length=1, max_length=LOCATE_BATCH_MAX)


class LocateBatchOut(BaseModel):
    grid_codes: list[str | None] = Field(description="One per point, in order; null outside.")
    located: int
    missing: int


class FeatureCollectionIn(BaseModel):
    """Validated feature by feature by the service, so every problem can be reported."""

    type: Literal["FeatureCollection"]
    features: list[Any] = Field(max_length=200_000)


class FeatureProperties(BaseModel):
    code: str = Field(pattern=r"^\d{12,23}$")
    name: str = Field(min_length=1, max_length=100)
    level: Level
    parent_code: str | None = Field(default=None, pattern=r"^\d{12,23}$")


class FeatureIn(BaseModel):
    type: Literal["Feature"]
    properties: dict[str, Any]
    geometry: dict[str, Any] | None = None


class ImportReport(BaseModel):
    created: int
    updated: int
    unchanged: int
    grids: int
    fingerprint: str


class Feature(BaseModel):
    type: Literal["Feature"] = "Feature"
    properties: dict[str, Any]
    geometry: dict[str, Any] | None


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
