"""答复质量: score each reply a handling unit gives (relevance, completeness, timeliness; see
`scoring`) and flag low scores to the supervisors over the event's owner."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shiyu.auth.access import Actor
from shiyu.config import Settings
from shiyu.events.models import Event
from shiyu.kit.clock import utcnow
from shiyu.notifications import service as notify
from shiyu.replies import repository, scoring
from shiyu.replies.models import ReplyScore

#: replies older than this are not picked up by the periodic job (a backlog after downtime
#: is still scored; a database restored from an old dump is not)
LOOKBACK = timedelta(days=7)
_WEAK = {
    "relevance": "与诉求关联度低",
    "answers": "未说明核查情况或政策依据",
    "action": "未说明处理措施或结果",
    "substance": "内容空泛",
    "timeliness": "答复超期",
}


def weaknesses(result: scoring.ReplyScore) -> list[str]:
    """Plain-language reasons for a low score, shown to the supervisor."""
    found = []
    if result.relevance < 0.4:
        found.append(_WEAK["relevance"])
    for part in ("answers", "action"):
        if not result.features.get(part):
            found.append(_WEAK[part])
    if result.features.get("substance", 1.0) < 0.3:
        found.append(_WEAK["substance"])
    if result.timeliness < 1.0:
        found.append(_WEAK["timeliness"])
    return found


def score_event(session: Session, settings: Settings, event: Event) -> ReplyScore:
    """Score the event's current reply, store it, and notify supervisors when it is low."""
    assert event.replied_at is not None
    result = scoring.score_reply(
        subject=event.title,
        detail=event.description,
        reply=event.reply,
        asked_at=event.dispatched_at or event.reported_at,
        replied_at=event.replied_at,
        deadline=event.finish_deadline,
    )
    flagged = result.score < settings.reply_quality_threshold
    reasons = weaknesses(result)
    row = ReplyScore(
        event_id=event.id,
        replied_at=event.replied_at,
        score=result.score,
        relevance=result.relevance,
        completeness=result.completeness,
        timeliness=result.timeliness,
        flagged=flagged,
        details={**result.features, "weaknesses": reasons},
    )
    session.add(row)
    if flagged:
        notify.notify_users(
            session,
            repository.supervisors_over(session, event.owner_path),
            kind="reply.low_quality",
            title=f"答复质量偏低（{result.score:.0f}分）：{event.title}",
            body="；".join(reasons),
            event_id=event.id,
        )
    return row


def score_recent(
    session: Session, settings: Settings, *, now: datetime | None = None, limit: int = 500
) -> list[ReplyScore]:
    """Score replies given since the lookback that have no score yet (idempotent)."""
    since = (now or utcnow()) - LOOKBACK
    rows = [
        score_event(session, settings, event)
        for event in repository.unscored_replies(session, since=since, limit=limit)
    ]
    session.flush()
    return rows


def list_scores(
    session: Session, actor: Actor, *, flagged: bool | None, limit: int
) -> Sequence[tuple[ReplyScore, Event]]:
    return repository.readable_scores(session, actor, flagged=flagged, limit=limit)
