from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shiyu.classify.pipeline import MAX_CHARS


class PredictIn(BaseModel):
    """One message. Texts longer than 20,000 characters are refused (422), not truncated:
    a dispatcher should know the model did not read the whole message."""

    # `pattern`: some character that is not a space (a blank title is refused: stated in the
    # schema, so a client generated from the document knows it)
    title: str = Field(max_length=MAX_CHARS, pattern=r"\S", description="subject (标题)")
    description: str = Field(default="", max_length=MAX_CHARS, description="detail (内容)")
    top_k: int = Field(default=3, ge=1, le=20)


class ClassScore(BaseModel):
    label: str
    category_code: str | None
    probability: float


class PredictOut(BaseModel):
    label: str
    category_code: str | None
    confidence: float
    top: list[ClassScore]
    model_id: int | None
    model_sha256: str


class ModelRead(BaseModel):
    id: int
    name: str
    sha256: str
    size: int
    is_active: bool
    created_at: datetime
    activated_at: datetime | None
    classes: list[str]
    rows: int
    trained_at: str
    metrics: dict[str, Any]
    libraries: dict[str, str]
    format: int | None


class ActivateIn(BaseModel):
    model_id: int


class StatusRead(BaseModel):
    active: bool
    model: dict[str, Any] | None
    auto_dispatch_threshold: float
