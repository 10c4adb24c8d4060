"""Schemas shared by every domain."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic_core import PydanticCustomError


def _true_or_false(value: object) -> object:
    """Query strings say `true` or `false` (what the OpenAPI document's boolean means); the
    `1`, `0`, `yes`, `off` … that FastAPI would also take are refused (found by fuzzing)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise PydanticCustomError("bool_parsing", "Input should be true or false")


#: a boolean query parameter: `true` or `false` only
QueryBool = Annotated[bool, BeforeValidator(_true_or_false)]

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _iso_text(value: object) -> object:
    """Dates in query strings are ISO 8601 text (what the document's `format: date` and
    `date-time` mean); pydantic would also read `0` or `0.5` as a Unix time (found by
    fuzzing)."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise PydanticCustomError(
            "iso_date_expected", "Input should be an ISO 8601 date or date-time, not a number"
        )
    return value


#: date and date-time query parameters: ISO 8601 text only
QueryDateTime = Annotated[datetime, BeforeValidator(_iso_text)]
QueryDate = Annotated[date, BeforeValidator(_iso_text)]


class ORMModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorDetail(BaseModel):
    loc: list[str | int] | None = None
    msg: str
    type: str | None = None
    input: Any | None = None


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]]


class ErrorResponse(BaseModel):
    error: ErrorBody


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int


def _drop_null(schema: dict[str, Any], nullable: frozenset[str]) -> None:
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf")
        if name in nullable or not options:
            continue
        kept = [o for o in options if o.get("type") != "null"]
        if len(kept) == 1:
            prop.pop("anyOf")
            prop.update(kept[0])
        else:
            prop["anyOf"] = kept


class PatchModel(BaseModel):
    """A partial update: a field left out is unchanged; `null` is accepted only for fields
    that can be cleared (listed in `nullable`), and the OpenAPI schema says so. Without
    this, `{"is_active": null}` reached a NOT NULL column (a 500 found by fuzzing)."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema: dict[str, Any] = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        _drop_null(target, cls.nullable)
        return schema

    @model_validator(mode="after")
    def _no_null_for_required_columns(self) -> PatchModel:
        for name in sorted(self.model_fields_set - self.nullable):
            if getattr(self, name) is None:
                raise PydanticCustomError("not_null", "{field} 不能为 null", {"field": name})
        return self
