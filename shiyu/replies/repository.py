from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from shiyu.auth.access import Actor
from shiyu.auth.enums import RoleCode
from shiyu.auth.models import Role, User
from shiyu.events.models import Event
from shiyu.kit.paths import within
from shiyu.replies.models import ReplyScore


def unscored_replies(session: Session, *, since: datetime, limit: int) -> Sequence[Event]:
    """Events replied by a handling unit since `since` whose current reply has no score."""
    scored = select(ReplyScore.id).where(
        and_(ReplyScore.event_id == Event.id, ReplyScore.replied_at == Event.replied_at)
    )
    return session.scalars(
        select(Event)
        .where(
            Event.replied_at >= since,
            Event.lead_department_id.is_not(None),
            Event.reply != "",
            ~scored.exists(),
        )
        .order_by(Event.replied_at, Event.id)
        .limit(limit)
    ).all()


def supervisors_over(session: Session, path: str) -> list[int]:
    """Active supervisors whose jurisdiction contains `path` (their unit or an ancestor)."""
    parts = [p for p in path.split("/") if p]
    ancestors = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    return list(
        session.scalars(
            select(User.id).where(
                User.is_active.is_(True),
                User.jurisdiction_path.in_(ancestors),
                User.roles.any(Role.code == RoleCode.supervisor),
            )
        )
    )


def readable_scores(
    session: Session, actor: Actor, *, flagged: bool | None, limit: int
) -> Sequence[tuple[ReplyScore, Event]]:
    stmt = (
        select(ReplyScore, Event)
        .join(Event, Event.id == ReplyScore.event_id)
        .where(within(Event.owner_path, actor.scope_path))
    )
    if flagged is not None:
        stmt = stmt.where(ReplyScore.flagged.is_(flagged))
    rows = session.execute(stmt.order_by(ReplyScore.id.desc()).limit(limit)).all()
    return [(score, event) for score, event in rows]
