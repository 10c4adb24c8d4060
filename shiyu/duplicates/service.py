"""工单合并: suggesting open duplicates of a new event, and the dispatcher's decisions.

At intake (`flag_new_event`, called by `events.service.create` in the intake transaction) the
event's text gets 16 MinHash-LSH band keys (`similarity`); events sharing a key and reported
within the time window are scored by exact 3-gram Jaccard, kept when the score reaches the
threshold and the place agrees (same grid, or within the radius), and stored as suggestions.
The dispatcher merges (the `merge` transition: the new event becomes a 子单 of the older
主单) or rejects a suggestion, which is never suggested again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.auth.access import Actor
from shiyu.auth.enums import RoleCode
from shiyu.config import Settings
from shiyu.duplicates import repository, similarity
from shiyu.duplicates.enums import CandidateStatus
from shiyu.duplicates.models import DuplicateCandidate, MergeNotice
from shiyu.errors import Conflict, Forbidden, NotFound
from shiyu.events import repository as events_repository
from shiyu.events import service as events
from shiyu.events.models import Event
from shiyu.events.schemas import ActionIn
from shiyu.kit.clock import utcnow
from shiyu.notifications import service as notify


class SuggestionNotFound(NotFound):
    code = "duplicate.not_found"
    message = "该事件没有这条重复工单建议"


class SuggestionDecided(Conflict):
    code = "duplicate.already_decided"
    message = "该重复工单建议已处理"


@dataclass(frozen=True)
class Place:
    grid_code: str | None
    lng: float | None
    lat: float | None


@dataclass(frozen=True)
class PlaceMatch:
    ok: bool
    same_grid: bool | None
    distance_m: float | None


def place_match(a: Place, b: Place, *, radius_m: float) -> PlaceMatch:
    """Same grid, or within the radius. When one side has neither a grid nor coordinates
    (a hotline call with only an address) the place cannot refute the match: text and time
    decide, and the dispatcher sees `same_grid` and `distance_m` empty."""
    same_grid = a.grid_code == b.grid_code if a.grid_code and b.grid_code else None
    distance = None
    if None not in (a.lng, a.lat, b.lng, b.lat):
        distance = similarity.distance_m((a.lng or 0.0, a.lat or 0.0), (b.lng or 0.0, b.lat or 0.0))
    if same_grid:
        return PlaceMatch(True, True, distance)
    if distance is not None:
        return PlaceMatch(distance <= radius_m, same_grid, distance)
    return PlaceMatch(same_grid is None, same_grid, None)


def _hours(a: datetime, b: datetime) -> float:
    return abs((a - b).total_seconds()) / 3600


def _scored(
    event: Event, items: frozenset[str], other: repository.OpenText, settings: Settings
) -> DuplicateCandidate | None:
    match = place_match(
        Place(event.grid_code, event.lng, event.lat),
        Place(other.grid_code, other.lng, other.lat),
        radius_m=settings.duplicate_radius_m,
    )
    if not match.ok:  # cheaper than the text: decide on the place first
        return None
    text = similarity.clean(other.title, other.description)
    score = similarity.jaccard(items, similarity.shingles(text))
    if score < settings.duplicate_similarity:
        return None
    return DuplicateCandidate(
        event_id=event.id,
        candidate_id=other.id,
        score=round(score, 4),
        same_grid=match.same_grid,
        distance_m=round(match.distance_m, 1) if match.distance_m is not None else None,
        hours_apart=round(_hours(event.reported_at, other.reported_at), 2),
        status=CandidateStatus.suggested.value,
    )


def _near(event: Event, settings: Settings) -> repository.Near:
    return repository.Near(event.grid_code, event.lng, event.lat, settings.duplicate_radius_m)


@dataclass(frozen=True)
class _Text:
    """A new event's band keys, and its shingles (only read to score the events it hits)."""

    event: Event
    keys: list[int]

    @cached_property
    def items(self) -> frozenset[str]:
        return similarity.shingles(similarity.clean(self.event.title, self.event.description))


def _text_of(event: Event, keys: Sequence[int] | None = None) -> _Text | None:
    """`keys`: the band keys of the event's text when the caller computed them already
    (`events.service.prepare`)."""
    if keys is None:
        keys = similarity.keys_for(similarity.clean(event.title, event.description))
    return _Text(event, list(keys)) if keys else None


def flag_new_events(
    session: Session,
    settings: Settings,
    new: Sequence[Event],
    *,
    fresh: bool = True,
    band_keys: Sequence[Sequence[int]] | None = None,
) -> list[DuplicateCandidate]:
    """Intake hook for flushed events (one report, or a batch of them): store their band keys
    and suggestions, and tell each receiving centre's dispatchers when there are any.
    `fresh`: created in this transaction (no decisions about them can exist yet).
    `band_keys`: each event's keys, in order, when the caller computed them already."""
    if not settings.duplicate_enabled:
        return []
    given: Sequence[Sequence[int] | None] = [None] * len(new) if band_keys is None else band_keys
    texts = [
        t
        for e, keys in zip(new, given, strict=True)
        if e.id is not None and (t := _text_of(e, keys)) is not None
    ]
    if not texts:
        return []
    bands = [
        repository.Bands(t.event.id, t.event.reported_at, t.keys, _near(t.event, settings))
        for t in texts
    ]
    window = timedelta(hours=settings.duplicate_window_hours)
    found_ids = repository.band_hits_many(session, bands, window)
    hits = {t.event.id: ids for t, ids in zip(texts, found_ids, strict=True)}
    repository.insert_bands(session, bands)
    if not fresh:  # decisions may exist: never suggest a pair again
        for t in texts:
            decided = repository.decided_with(session, t.event.id, hits[t.event.id])
            hits[t.event.id] = [h for h in hits[t.event.id] if h not in decided]
    others = {
        row.id: row
        for row in repository.open_texts(session, sorted({h for ids in hits.values() for h in ids}))
    }
    found: list[DuplicateCandidate] = []
    notices: list[tuple[list[int], str, int | None]] = []
    for t in texts:
        mine = [
            cand
            for h in hits[t.event.id]
            if h in others and (cand := _scored(t.event, t.items, others[h], settings)) is not None
        ]
        if not mine:
            continue
        mine.sort(key=lambda c: (-c.score, c.hours_apart))
        mine = mine[: settings.duplicate_max_candidates]
        found.extend(mine)
        notices.append(
            (
                notify.users_at(session, t.event.owner_code, [RoleCode.dispatcher]),
                f"疑似重复工单（{len(mine)}件）：{t.event.title}",
                t.event.id,
            )
        )
    session.add_all(found)
    notify.notify_many(session, kind="event.possible_duplicate", messages=notices)
    return found


def flag_new_event(
    session: Session, settings: Settings, event: Event, *, fresh: bool = True
) -> list[DuplicateCandidate]:
    """`flag_new_events` for one event."""
    return flag_new_events(session, settings, [event], fresh=fresh)


def index_open_events(session: Session, settings: Settings, *, batch: int = 500) -> int:
    """Backfill: band keys (and suggestions) for open events created before duplicate search
    existed or while it was disabled. Idempotent."""
    done, after = 0, 0
    while True:
        indexed, after = index_batch(session, settings, after_id=after, limit=batch)
        if not indexed:
            return done
        done += indexed


def index_batch(
    session: Session, settings: Settings, *, after_id: int, limit: int
) -> tuple[int, int]:
    """Band keys and suggestions for the first `limit` open events without band keys after
    `after_id` (a 12345 import stores its rows without them, to keep its speed): how many,
    and the last id looked at."""
    events = repository.open_without_bands(session, after_id, limit)
    if not events:
        return 0, after_id
    flag_new_events(session, settings, events, fresh=False)
    session.flush()
    return len(events), events[-1].id


# ---------------------------------------------------------------- the dispatcher's decisions


def _event(session: Session, actor: Actor, code: str) -> Event:
    return events.get_event(session, actor, code)


def list_for(session: Session, actor: Actor, code: str) -> list[dict[str, Any]]:
    """The event's suggestions that the actor may see, best first, with the candidates'
    codes, titles and statuses."""
    event = _event(session, actor, code)
    rows = repository.candidates_of(session, event.id)
    out: list[dict[str, Any]] = []
    for row in rows:
        try:
            other = events.get_event(session, actor, _code_of(session, row.candidate_id))
        except NotFound:
            continue  # outside the actor's jurisdiction
        out.append(
            {
                "candidate_code": other.code,
                "title": other.title,
                "status": other.status,
                "reported_at": other.reported_at,
                "grid_code": other.grid_code,
                "score": row.score,
                "same_grid": row.same_grid,
                "distance_m": row.distance_m,
                "hours_apart": row.hours_apart,
                # merged through the generic actions route: the suggestion is not updated there
                "decision": CandidateStatus.merged.value
                if event.parent_id == row.candidate_id
                else row.status,
                "decided_at": row.decided_at,
                "reason": row.reason,
            }
        )
    return out


def _code_of(session: Session, event_id: int) -> str:
    return events_repository.codes_of(session, [event_id]).get(event_id, "")


def _suggestion(
    session: Session, actor: Actor, code: str, candidate_code: str
) -> tuple[Event, DuplicateCandidate]:
    event = _event(session, actor, code)
    if RoleCode.dispatcher not in actor.roles and RoleCode.admin not in actor.roles:
        raise Forbidden("只有综治中心调度员可以处理重复工单建议", code="duplicate.role")
    if not actor.covers(event.owner_path):
        raise Forbidden("该事件已由上级或其他单位负责", code="event.not_owner")
    candidate_id = repository.event_id_of(session, candidate_code)
    row = repository.pair(session, event.id, candidate_id) if candidate_id else None
    if row is None:
        raise SuggestionNotFound(details=[{"loc": ["path", "candidate_code"]}])
    if row.status != CandidateStatus.suggested:
        raise SuggestionDecided(details=[{"decision": row.status}])
    return event, row


def reject(
    session: Session, actor: Actor, code: str, candidate_code: str, *, reason: str
) -> DuplicateCandidate:
    """不是重复: stored, audited, and the pair is never suggested again."""
    event, row = _suggestion(session, actor, code, candidate_code)
    row.status = CandidateStatus.rejected.value
    row.decided_by_id, row.decided_at, row.reason = actor.user_id, utcnow(), reason
    audit.record(
        session,
        actor=actor,
        action="event.duplicate_reject",
        object_type="event",
        object_id=event.code or str(event.id),
        scope_path=event.scope_path,
        before={"decision": CandidateStatus.suggested.value},
        after={"decision": row.status, "candidate": candidate_code, "score": row.score},
        extra={"note": reason} if reason else None,
    )
    session.flush()
    return row


def merge(
    session: Session, settings: Settings, actor: Actor, code: str, candidate_code: str
) -> Event:
    """Merge the event into the suggested 主单 through the lifecycle's `merge` transition."""
    event, row = _suggestion(session, actor, code, candidate_code)
    events.apply_transition(
        session, settings, event, actor, ActionIn(action="merge", parent_code=candidate_code)
    )
    row.status = CandidateStatus.merged.value
    row.decided_by_id, row.decided_at = actor.user_id, utcnow()
    session.flush()
    return event


# ---------------------------------------------------------------- after the 主单 closes


def announce_closed_parents(session: Session, settings: Settings, *, limit: int = 500) -> int:
    """Every reporter is informed: when a 主单 closes, each 子单's reporter gets the result
    (SMS to the phone, an in-app notice to a registered resident). Once per 子单."""
    cipher = events.cipher_for(settings)
    told = 0
    for child, parent in repository.unannounced_children(session, limit):
        phone = cipher.decrypt(child.reporter_phone)
        body = (
            f"【市域治理】您反映的问题（编号{child.code}）已并入{parent.code}统一办理，"
            f"现已办结：{parent.reply[:200]}"
        )
        if phone:
            notify.send_outbound(
                session, cipher, channel="sms", recipient=phone, event_id=child.id, body=body
            )
        if child.reporter_user_id is not None:
            notify.notify_users(
                session,
                [child.reporter_user_id],
                kind="event.merged_closed",
                title=f"您反映的问题已办结：{child.title}",
                body=body,
                event_id=child.id,
            )
        session.add(MergeNotice(child_id=child.id, parent_id=parent.id, sms_sent=bool(phone)))
        audit.record(
            session,
            actor=None,
            action="event.merged_closed_notice",
            object_type="event",
            object_id=child.code or str(child.id),
            scope_path=child.scope_path,
            after={"parent": parent.code, "sms": bool(phone)},
        )
        told += 1
    session.flush()
    return told
