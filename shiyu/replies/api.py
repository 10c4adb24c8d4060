from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from shiyu.deps import SessionDep
from shiyu.kit.schemas import QueryBool
from shiyu.replies import service
from shiyu.replies.permissions import ReplyQualityRead
from shiyu.replies.schemas import ReplyScorePage

router = APIRouter(prefix="/replies", tags=["replies"])


@router.get("/scores", response_model=ReplyScorePage, operation_id="replies-scores")
def list_scores(
    session: SessionDep,
    actor: ReplyQualityRead,
    flagged: Annotated[QueryBool | None, Query(description="only flagged (true) or not")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """Reply quality scores of events in the actor's jurisdiction, newest first."""
    rows = service.list_scores(session, actor, flagged=flagged, limit=limit)
    return {
        "items": [
            {
                "event_code": event.code or "",
                "title": event.title,
                "replied_at": score.replied_at,
                "score": score.score,
                "relevance": score.relevance,
                "completeness": score.completeness,
                "timeliness": score.timeliness,
                "flagged": score.flagged,
                "weaknesses": list(score.details.get("weaknesses", [])),
            }
            for score, event in rows
        ]
    }
