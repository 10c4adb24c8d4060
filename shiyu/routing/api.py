"""The responsibility list (权责清单), route look-up, corrections and suggestion accuracy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from shiyu.deps import SessionDep
from shiyu.errors import error_responses
from shiyu.events.permissions import EventsAct
from shiyu.routing import service
from shiyu.routing.permissions import RoutingManage, RoutingRead
from shiyu.routing.schemas import (
    AccuracyReport,
    CategoryDecision,
    RouteRead,
    RuleIn,
    RuleRead,
    RuleUpdate,
    SuggestionRead,
)

router = APIRouter(prefix="/routing", tags=["routing"])

RuleId = Annotated[int, Path(ge=1)]


@router.get("/rules", response_model=list[RuleRead], operation_id="routing-list-rules")
def list_rules(session: SessionDep, actor: RoutingRead) -> Any:
    """The lines that apply to the caller's area (city-wide ones included) or lie inside it."""
    return service.list_rules(session, actor)


@router.post(
    "/rules",
    response_model=RuleRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="routing-create-rule",
)
def create_rule(session: SessionDep, actor: RoutingManage, body: RuleIn) -> Any:
    return service.create_rule(session, actor, body)


@router.patch(
    "/rules/{rule_id}",
    response_model=RuleRead,
    operation_id="routing-update-rule",
    responses=error_responses(service.RuleNotFound),
)
def update_rule(
    session: SessionDep, actor: RoutingManage, rule_id: RuleId, body: RuleUpdate
) -> Any:
    return service.update_rule(session, actor, rule_id, body)


@router.delete(
    "/rules/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="routing-delete-rule",
    responses=error_responses(service.RuleNotFound),
)
def delete_rule(session: SessionDep, actor: RoutingManage, rule_id: RuleId) -> None:
    service.delete_rule(session, actor, rule_id)


@router.get("/resolve", response_model=RouteRead, operation_id="routing-resolve")
def resolve(
    session: SessionDep,
    actor: RoutingRead,
    category_code: Annotated[str, Query(min_length=1, max_length=32)],
    place_code: Annotated[str, Query(min_length=1, max_length=32)],
) -> RouteRead:
    """Which department the list names for a category at a place, and why."""
    return service.route_view(session, actor, category_code, place_code)


@router.get("/accuracy", response_model=AccuracyReport, operation_id="routing-accuracy")
def accuracy(
    session: SessionDep,
    actor: RoutingRead,
    weeks: Annotated[int, Query(ge=1, le=104)] = 8,
) -> AccuracyReport:
    """Suggested category and unit against the dispatchers' final decisions, per week."""
    return service.accuracy(session, weeks=weeks)


@router.get("/corrections", operation_id="routing-corrections")
def corrections(session: SessionDep, actor: RoutingRead) -> list[dict[str, Any]]:
    """Decisions that differ from the suggestion (training rows for the next model)."""
    return service.corrections(session)


@router.post(
    "/events/{code}/category",
    response_model=SuggestionRead | None,
    operation_id="routing-set-category",
)
def set_category(
    session: SessionDep,
    actor: EventsAct,
    code: Annotated[str, Path(max_length=24)],
    body: CategoryDecision,
) -> Any:
    """The dispatcher's final category for an event waiting for dispatch; returns the
    event's suggestion (with what was suggested) for comparison."""
    event = service.set_category(session, actor, code, body.category_code)
    return service.suggestion_view(session, event.id)
