from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictBool, model_validator

from shiyu.events.enums import (
    AppealKind,
    Channel,
    Light,
    Rating,
    Status,
    Urgency,
    WhistleType,
)
from shiyu.kit.schemas import ORMModel
from shiyu.routing.schemas import SuggestionRead

PHONE = r"^\+?[0-9][0-9\- ]{4,19}$"
CODE = r"^\d{12,23}$"


class _Place(BaseModel):
    lng: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    address: str = Field(default="", max_length=300)

    @model_validator(mode="after")
    def _both_or_neither(self) -> _Place:
        if (self.lng is None) != (self.lat is None):
            raise ValueError("lng and lat go together")
        return self


class EventCreate(_Place):
    """Staff and grid workers' reports (and calls typed in by the hotline centre)."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    channel: Literal["grid_patrol", "department", "hotline_12345"] = "grid_patrol"
    category_code: str | None = Field(default=None, max_length=32)
    appeal_kind: AppealKind | None = None
    urgency: Urgency = Urgency.normal
    grid_code: str | None = Field(default=None, pattern=r"^\d{15}$")
    reporter_name: str | None = Field(default=None, max_length=50)
    reporter_phone: str | None = Field(default=None, pattern=PHONE)
    client_key: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="幂等键：同一用户以同一键重复提交（如离线补发）只生成一个事件，返回原事件",
    )


class ResidentReport(_Place):
    """A resident's report from the phone page, without an account."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    category_code: str | None = Field(default=None, max_length=32)
    appeal_kind: AppealKind | None = None
    reporter_phone: str = Field(pattern=PHONE)
    reporter_name: str | None = Field(default=None, max_length=50)

    @model_validator(mode="after")
    def _somewhere(self) -> ResidentReport:
        if self.lng is None and not self.address.strip():
            raise ValueError("give a location (lng, lat) or an address")
        return self


class ResidentReceipt(BaseModel):
    code: str
    status: Status
    message: str


class IntakeData(BaseModel):
    """What every channel hands to the events service (internal)."""

    channel: Channel
    title: str
    description: str = ""
    category_code: str | None = None
    appeal_kind: AppealKind | None = None
    urgency: Urgency = Urgency.normal
    lng: float | None = None
    lat: float | None = None
    address: str = ""
    grid_code: str | None = None
    owner_code: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    source: str | None = None
    external_id: str | None = None
    reported_at: datetime | None = None


class ActionIn(BaseModel):
    """One lifecycle action; which fields are needed depends on the action (see
    GET /api/v1/events/meta/transitions)."""

    action: str = Field(min_length=1, max_length=32)
    reason: str = Field(default="", max_length=2000)
    lead_department_id: int | None = None
    assist_department_ids: list[int] = Field(default_factory=list, max_length=20)
    parent_code: str | None = Field(default=None, max_length=24)
    reply: str = Field(default="", max_length=5000)
    rating: Rating | None = None
    rating_comment: str = Field(default="", max_length=500)
    contacted: StrictBool | None = Field(default=None, description="回访: the caller was reached")
    resolved: StrictBool | None = Field(default=None, description="回访: the caller says solved")
    working_days: int | None = Field(default=None, ge=1, le=60)
    approve: StrictBool | None = None
    whistle_type: WhistleType | None = None
    department_ids: list[int] = Field(default_factory=list, max_length=20)
    department_id: int | None = None
    score: int | None = Field(default=None, ge=1, le=5)


class ResidentRating(BaseModel):
    phone: str = Field(pattern=PHONE)
    rating: Rating
    comment: str = Field(default="", max_length=500)


class AttachmentRead(ORMModel):
    id: int
    kind: str
    filename: str
    content_type: str
    size: int
    created_at: datetime


class ActionRead(ORMModel):
    action: str
    from_status: str | None
    to_status: str
    actor_name: str
    at: datetime
    note: str
    data: dict[str, object]


class AssignmentRead(ORMModel):
    department_id: int
    role: str
    dispatched_at: datetime
    signed_at: datetime | None
    replied_at: datetime | None
    reply: str
    active: bool


class EventRead(BaseModel):
    id: int
    code: str
    channel: Channel
    title: str
    description: str
    category_code: str | None
    appeal_kind: AppealKind | None
    urgency: Urgency
    lng: float | None
    lat: float | None
    address: str
    grid_code: str | None
    owner_code: str
    status: Status
    light: Light
    lead_department_id: int | None
    reporter_name: str | None
    reporter_phone: str | None
    reported_at: datetime
    accepted_at: datetime | None
    dispatched_at: datetime | None
    signed_at: datetime | None
    replied_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None
    rated_at: datetime | None
    sign_deadline: datetime | None
    finish_deadline: datetime | None
    reply: str
    rating: Rating | None
    parent_code: str | None
    rework_count: int
    reopen_count: int
    return_count: int
    escalation_count: int
    allowed_actions: list[str]


class EventDetail(EventRead):
    timeline: list[ActionRead]
    attachments: list[AttachmentRead]
    assignments: list[AssignmentRead]
    children_codes: list[str]
    #: what the classifier and the responsibility list suggested at intake (shiyu/routing)
    suggestion: SuggestionRead | None = None


class EventPage(BaseModel):
    items: list[EventRead]
    next_cursor: str | None
    total: int | None = None


class PublicEventView(BaseModel):
    """What a resident sees when following an event by code and phone."""

    code: str
    title: str
    status: Status
    status_label: str
    reported_at: datetime
    closed_at: datetime | None
    reply: str
    rating: Rating | None
    can_rate: bool
    timeline: list[dict[str, object]]


class TransitionRead(BaseModel):
    action: str
    label: str
    sources: list[Status]
    target: Status | None
    roles: list[str]
    needs_reason: bool


class CategoryRead(ORMModel):
    code: str
    name: str
    parent_code: str | None
    kind: str
    is_active: bool
