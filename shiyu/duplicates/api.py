from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from shiyu.deps import SessionDep, request_settings
from shiyu.duplicates import service
from shiyu.duplicates.permissions import DuplicatesDecide, DuplicatesRead
from shiyu.duplicates.schemas import DecisionRead, DuplicateList, RejectIn
from shiyu.errors import error_responses
from shiyu.events import service as events
from shiyu.events.schemas import EventRead

router = APIRouter(prefix="/events", tags=["duplicates"])
#: event codes: SY + the China date + the zero-padded id
CandidateCode = Annotated[str, Path(pattern=r"^SY\d{15,20}$", description="the suggested 主单")]


@router.get(
    "/{code}/duplicates",
    response_model=DuplicateList,
    operation_id="duplicates-list",
    responses=error_responses(events.EventNotFound),
)
def list_duplicates(session: SessionDep, actor: DuplicatesRead, code: str) -> Any:
    """Open events that the event probably repeats (工单合并 suggestions), best first."""
    return {"code": code, "items": service.list_for(session, actor, code)}


@router.post(
    "/{code}/duplicates/{candidate_code}/reject",
    response_model=DecisionRead,
    operation_id="duplicates-reject",
    responses=error_responses(
        events.EventNotFound, service.SuggestionNotFound, service.SuggestionDecided
    ),
)
def reject_duplicate(
    session: SessionDep,
    actor: DuplicatesDecide,
    code: str,
    candidate_code: CandidateCode,
    body: RejectIn | None = None,
) -> Any:
    """不是重复: the pair is never suggested again."""
    reason = body.reason if body else ""
    row = service.reject(session, actor, code, candidate_code, reason=reason)
    return {"code": code, "candidate_code": candidate_code, "decision": row.status}


@router.post(
    "/{code}/duplicates/{candidate_code}/merge",
    response_model=EventRead,
    operation_id="duplicates-merge",
    responses=error_responses(
        events.EventNotFound,
        events.TransitionNotAllowed,
        service.SuggestionNotFound,
        service.SuggestionDecided,
    ),
)
def merge_duplicate(
    request: Request,
    session: SessionDep,
    actor: DuplicatesDecide,
    code: str,
    candidate_code: CandidateCode,
) -> Any:
    """合并: the event becomes a 子单 of the suggested 主单 (one handling; its reporter is
    told when the 主单 closes; only the 主单 is counted in the rates)."""
    settings = request_settings(request)
    event = service.merge(session, settings, actor, code, candidate_code)
    return events.to_read(session, settings, event, actor)
