"""Routing by the responsibility list (权责清单), intake suggestions, automatic dispatch,
dispatchers' corrections and the weekly accuracy of suggestions.

Resolution of (category, place) → department:
- candidate rules: active, for the category or one of its ancestors, whose area contains the
  place (a rule without area covers the whole city);
- 数字城管 rule: for a component (部件, kind `component`) owner rules (权属) are tried before
  territory rules (属地), "先属主、后属地"; for events and appeals territory first;
- within one basis the most specific area wins, then the most specific category;
- nothing matched: the area's fallback rule (a rule without category, normally the district
  government, 兜底), deepest area first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.auth import service as auth_service
from shiyu.auth.access import Actor, system_actor
from shiyu.auth.enums import RoleCode
from shiyu.auth.models import Department
from shiyu.classify import service as classifier
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.errors import Forbidden, InvalidInput, NotFound
from shiyu.events.enums import CategoryKind, Status
from shiyu.events.models import Action, Category, Event
from shiyu.jurisdiction import service as jurisdictions
from shiyu.kit.clock import utcnow
from shiyu.kit.watch import WatchedCache
from shiyu.routing.models import ResponsibilityRule, Suggestion
from shiyu.routing.schemas import (
    AccuracyReport,
    Basis,
    RouteRead,
    RuleIn,
    RuleRead,
    RuleUpdate,
    SuggestionRead,
    TopClass,
    WeekAccuracy,
)

_SUGGESTIONS = cast(Table, Suggestion.__table__)

if TYPE_CHECKING:  # events.service imports this module
    from shiyu.events.service import Predicted, Prepared, Writes

log = logging.getLogger("shiyu.routing")


class RuleNotFound(NotFound):
    code = "routing.rule_not_found"
    message = "权责清单条目不存在"


def _field(field: str, msg: str, code: str) -> InvalidInput:
    return InvalidInput(msg, code=code, details=[{"loc": ["body", field], "msg": msg}])


# ---------------------------------------------------------------- categories


def _category_chain(session: Session, code: str) -> list[Category]:
    """The category and its ancestors, most specific first."""
    chain: list[Category] = []
    current = session.get(Category, code)
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = session.get(Category, current.parent_code) if current.parent_code else None
    return chain


#: every intake maps the model's top classes to categories
_label_categories: WatchedCache[str, str | None] = WatchedCache(
    "category-labels", (Category,), ttl=300.0
)


def category_for_label(session: Session, label: str) -> str | None:
    """The catalogue category a model class stands for: its code, or its unique name."""

    def load() -> str | None:
        if session.get(Category, label) is not None:
            return label
        codes = session.scalars(select(Category.code).where(Category.name == label)).all()
        return codes[0] if len(codes) == 1 else None

    return _label_categories.get_or_load(session, label, load)


# ---------------------------------------------------------------- resolution


@dataclass(frozen=True)
class Route:
    department_id: int | None
    basis: str | None
    rule_id: int | None
    explanation: str


def _depth(path: str) -> int:
    return path.count("/")


@dataclass(frozen=True)
class _Rule:
    id: int
    category_code: str | None
    area_code: str | None
    area_path: str
    basis: str
    department_id: int


@dataclass(frozen=True)
class _Candidates:
    """What routing needs of a category, whatever the place: its chain's ranks and kind and
    the active rules for it (and the fallbacks)."""

    rank: dict[str, int]
    kind: str | None
    rules: tuple[_Rule, ...]


#: every intake resolves its suggested category; the place is applied in memory
_candidates: WatchedCache[str | None, _Candidates] = WatchedCache(
    "routing-rules", (Category, ResponsibilityRule), ttl=60.0
)


def _load_candidates(session: Session, category_code: str | None) -> _Candidates:
    chain = _category_chain(session, category_code) if category_code else []
    rank = {c.code: i for i, c in enumerate(chain)}
    rules = session.scalars(
        select(ResponsibilityRule).where(
            ResponsibilityRule.is_active,
            (ResponsibilityRule.category_code.in_(list(rank)))
            | ResponsibilityRule.category_code.is_(None),
        )
    ).all()
    return _Candidates(
        rank,
        chain[-1].kind if chain else None,
        tuple(
            _Rule(r.id, r.category_code, r.area_code, r.area_path, r.basis, r.department_id)
            for r in rules
        ),
    )


def resolve(session: Session, category_code: str | None, place_path: str) -> Route:
    """The responsible department by the 权责清单: the most local rule covering the place,
    by basis in the order the category's kind asks for, else the most local fallback. The
    rules of a category are cached per process (cleared when this process changes
    categories or rules)."""
    found = _candidates.get_or_load(
        session, category_code, lambda: _load_candidates(session, category_code)
    )
    rank = found.rank
    covering = [r for r in found.rules if place_path.startswith(r.area_path)]
    order = (
        [Basis.owner, Basis.territory]
        if found.kind == CategoryKind.component
        else [Basis.territory, Basis.owner]
    )
    for basis in order:
        hits = [r for r in covering if r.category_code is not None and r.basis == basis]
        if hits:
            best = min(hits, key=lambda r: (-_depth(r.area_path), rank[r.category_code or ""]))
            return Route(
                best.department_id,
                basis.value,
                best.id,
                f"{best.category_code}@{best.area_code or 'city'} ({basis.value})",
            )
    fallbacks = [r for r in covering if r.category_code is None]
    if fallbacks:
        best = max(fallbacks, key=lambda r: _depth(r.area_path))
        return Route(
            best.department_id,
            Basis.fallback.value,
            best.id,
            f"兜底 fallback@{best.area_code or 'city'}",
        )
    return Route(None, None, None, "no rule covers this category and place")


def route_view(session: Session, actor: Actor, category_code: str, place_code: str) -> RouteRead:
    place = jurisdictions.get_readable_unit(session, actor, place_code)
    if session.get(Category, category_code) is None:
        raise _field("category_code", "事件分类不存在", "event.unknown_category")
    route = resolve(session, category_code, place.path)
    dep = session.get(Department, route.department_id) if route.department_id else None
    return RouteRead(
        department_id=route.department_id,
        department_name=dep.name if dep else None,
        basis=route.basis,
        rule_id=route.rule_id,
        explanation=route.explanation,
    )


# ---------------------------------------------------------------- the list (admin)


def _area(session: Session, actor: Actor, area_code: str | None) -> tuple[str, str]:
    """(path, level) of a rule's area; the actor must cover it (a city-wide rule needs the
    whole tree)."""
    if area_code is None:
        root = jurisdictions.get_root(session)
        if root is None or not actor.covers(root.path):
            raise Forbidden("只有市级管理员可以维护全市范围的条目", code="routing.city_only")
        return "/", "city"
    try:
        unit = jurisdictions.get_readable_unit(session, actor, area_code)
    except NotFound as exc:
        raise _field("area_code", "辖区不存在或不在您的管辖范围内", "routing.unknown_area") from exc
    return unit.path, unit.level


def _department(session: Session, actor: Actor, dep_id: int) -> Department:
    try:
        return auth_service.get_department(session, actor, dep_id)
    except NotFound as exc:
        raise _field(
            "department_id", "部门不存在或不在您的管辖范围内", "routing.unknown_department"
        ) from exc


def _rule_fields(rule: ResponsibilityRule) -> dict[str, Any]:
    return RuleRead.model_validate(rule).model_dump(mode="json", exclude={"updated_at"})


def list_rules(session: Session, actor: Actor) -> list[RuleRead]:
    rows = session.scalars(
        select(ResponsibilityRule).order_by(
            ResponsibilityRule.category_code, ResponsibilityRule.area_path, ResponsibilityRule.id
        )
    ).all()
    # lines of areas containing the actor's (those that apply to it) or inside it
    visible = [
        r for r in rows if actor.covers(r.area_path) or actor.scope_path.startswith(r.area_path)
    ]
    return [RuleRead.model_validate(r) for r in visible]


def create_rule(session: Session, actor: Actor, data: RuleIn) -> RuleRead:
    if data.category_code is not None and session.get(Category, data.category_code) is None:
        raise _field("category_code", "事件分类不存在", "event.unknown_category")
    if data.category_code is None and data.basis != Basis.territory:
        raise _field("basis", "兜底条目须按属地（territory）", "routing.fallback_basis")
    if data.basis == Basis.fallback:
        raise _field("basis", "basis 只能是 territory 或 owner", "routing.bad_basis")
    path, level = _area(session, actor, data.area_code)
    dep = _department(session, actor, data.department_id)
    rule = ResponsibilityRule(
        category_code=data.category_code,
        area_code=data.area_code,
        area_path=path,
        level=level,
        basis=data.basis.value,
        department_id=dep.id,
        note=data.note,
        is_active=True,
    )
    session.add(rule)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="routing.rule_create",
        object_type="routing_rule",
        object_id=rule.id,
        scope_path=path,
        after=_rule_fields(rule),
    )
    return RuleRead.model_validate(rule)


def _get_rule(session: Session, actor: Actor, rule_id: int) -> ResponsibilityRule:
    rule = session.get(ResponsibilityRule, rule_id)
    if rule is None or not (rule.area_path == "/" or actor.covers(rule.area_path)):
        raise RuleNotFound()
    _area(session, actor, rule.area_code)  # editing needs the same coverage as creating
    return rule


def update_rule(session: Session, actor: Actor, rule_id: int, data: RuleUpdate) -> RuleRead:
    rule = _get_rule(session, actor, rule_id)
    before = _rule_fields(rule)
    if data.department_id is not None:
        rule.department_id = _department(session, actor, data.department_id).id
    if data.basis is not None:
        if data.basis == Basis.fallback or (
            rule.category_code is None and data.basis != Basis.territory
        ):
            raise _field("basis", "basis 只能是 territory 或 owner", "routing.bad_basis")
        rule.basis = data.basis.value
    if data.note is not None:
        rule.note = data.note
    if data.is_active is not None:
        rule.is_active = data.is_active
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="routing.rule_update",
        object_type="routing_rule",
        object_id=rule.id,
        scope_path=rule.area_path,
        before=before,
        after=_rule_fields(rule),
    )
    return RuleRead.model_validate(rule)


def delete_rule(session: Session, actor: Actor, rule_id: int) -> None:
    rule = _get_rule(session, actor, rule_id)
    audit.record(
        session,
        actor=actor,
        action="routing.rule_delete",
        object_type="routing_rule",
        object_id=rule.id,
        scope_path=rule.area_path,
        before=_rule_fields(rule),
    )
    session.delete(rule)
    session.flush()


# ---------------------------------------------------------------- intake


def _dispatcher_actor() -> Actor:
    """The system acting as the centre's dispatcher for automatic dispatch (audited as
    `system`)."""
    base = system_actor()
    return replace(base, roles=frozenset({RoleCode.admin, RoleCode.dispatcher}))


def on_intake_many(
    session: Session, settings: Settings, new: Sequence[Event], *, dispatch: bool = True
) -> int:
    """`plan_intake` for stored events, its rows written at once. Returns how many."""
    from shiyu.events import service as events  # late: events.service calls this module

    writes = events.Writes()
    planned = plan_intake(session, settings, new, writes, dispatch=dispatch)
    events.write_batch(session, writes)
    return planned


def plan_intake(
    session: Session,
    settings: Settings,
    new: Sequence[Event],
    writes: Writes,
    *,
    dispatch: bool = True,
    ahead: Sequence[Predicted | None] = (),
) -> int:
    """Suggest a category and a unit for each new event; dispatch it at once when the model
    is confident enough (and `dispatch`). In memory: the events (stored or not yet) are
    changed without a flush, and the suggestions, timeline entries, assignments and notices
    are left in `writes` (`events.service.write_batch` stores them). Called by
    `events.service.create_many` in the intake transaction: the model reads the batch at once
    (a third of the cost of one message at a time). `ahead`: per event, what the model
    predicted for its text before it queued (`predict_ahead`), used when that model is still
    the active one. Returns how many."""
    with session.no_autoflush:
        model = classifier.active(session, settings)
        if model is None or not new:
            # no model, no suggestion: intake costs one cached check, nothing more
            return 0
        tops = _predictions(model, new, ahead)
        rows = [
            _suggestion(session, model, event, top) for event, top in zip(new, tops, strict=True)
        ]
        # the suggested units in one query (they stay in the session for the dispatches)
        units = _departments(session, {r["suggested_department_id"] for r in rows} - {None})
        for event, row in zip(new, rows, strict=True):
            dep = _auto_dispatch_to(settings, event, row, units) if dispatch else None
            if dep is not None:
                row["auto_dispatched"] = True
                _auto_dispatch(session, settings, event, row, dep, writes)
    writes.add(_SUGGESTIONS, rows)
    return len(rows)


def _predictions(
    model: classifier.LoadedModel, new: Sequence[Event], ahead: Sequence[Predicted | None]
) -> list[list[classifier.Prediction]]:
    """The model's top 3 for each event: those predicted ahead by this model as they were,
    the others in one run (the stored text, normalised at intake)."""
    tops: list[list[classifier.Prediction] | None] = [
        [classifier.Prediction(label, p) for label, p in made[1]]
        if made is not None and made[0] == model.token
        else None
        for made in [*ahead, *[None] * (len(new) - len(ahead))]
    ]
    missing = [i for i, top in enumerate(tops) if top is None]
    if missing:
        texts = [(new[i].title, new[i].description) for i in missing]
        made_now = _top_classes(model, texts)
        for i, top in zip(missing, made_now, strict=True):
            tops[i] = top
    return [top for top in tops if top is not None]


def _top_classes(
    model: classifier.LoadedModel, texts: list[tuple[str, str]]
) -> list[list[classifier.Prediction]]:
    """The model's top 3 for normalised texts, whether the writer predicts them or the web
    process did ahead (`plan_intake` takes those as they are)."""
    return model.predict_many(texts, top_k=3, normalised=True)


def predict_ahead(
    session: Session, settings: Settings, prepared: Sequence[Prepared]
) -> list[Prepared]:
    """The reports' texts classified before they queue for the writer, in one run: a web
    process with a core to spare does what the writer would (`plan_intake` uses it when the
    same model is still active then). Unchanged without an active model."""
    model = classifier.active(session, settings)
    if model is None or not prepared:
        return list(prepared)
    texts = [(p.title, p.description) for p in prepared]  # normalised by `events.prepare`
    tops = _top_classes(model, texts)
    return [
        replace(p, predicted=(model.token, tuple((t.label, t.probability) for t in top)))
        for p, top in zip(prepared, tops, strict=True)
    ]


def predict_queued(db: Database, settings: Settings, jobs: Sequence[Any]) -> list[Any]:
    """`predict_ahead` for intake jobs that carry their `prepared` text (staff and resident
    reports), the others as they are: what a web process does with the reports it sends to
    its writer process (`writer_process.WriterProcess`)."""
    at = [i for i, job in enumerate(jobs) if getattr(job, "prepared", None) is not None]
    out = list(jobs)
    if not at:
        return out
    with db.session(write=False) as session:
        made = predict_ahead(session, settings, [jobs[i].prepared for i in at])
    for i, prepared in zip(at, made, strict=True):
        out[i] = replace(jobs[i], prepared=prepared)
    return out


def load_classifier(db: Database, settings: Settings) -> None:
    """Load the active model now (at start), not while the first reports wait; a database
    not reachable yet leaves it to the first bundle."""
    try:
        with db.session(write=False) as session:
            classifier.active(session, settings)
    except SQLAlchemyError as exc:
        log.warning("classifier not loaded at start: %s", exc)


def suggest_missing(
    session: Session, settings: Settings, *, after_id: int, limit: int
) -> tuple[int, int]:
    """Suggestions for the first `limit` events after `after_id` still waiting to be accepted
    that have none (a 12345 import stores its rows without them, to keep its speed; or no
    model was active at intake): how many, and the last id looked at. Suggestions only: an
    import may be a backlog of old calls, and dispatching it is a dispatcher's decision."""
    pending = session.scalars(
        select(Event)
        .where(
            Event.id > after_id,
            Event.status == Status.reported.value,
            ~select(Suggestion.id).where(Suggestion.event_id == Event.id).exists(),
        )
        .order_by(Event.id)
        .limit(limit)
    ).all()
    if not pending:
        return 0, after_id
    return on_intake_many(session, settings, pending, dispatch=False), pending[-1].id


def _suggestion(
    session: Session,
    model: classifier.LoadedModel,
    event: Event,
    top: Sequence[classifier.Prediction],
) -> dict[str, Any]:
    """The columns of an event's suggestion."""
    label, confidence = top[0].label, top[0].probability
    suggested = category_for_label(session, label)
    top_view = [
        {
            "label": p.label,
            "category_code": category_for_label(session, p.label),
            "probability": p.probability,
        }
        for p in top
    ]
    route = resolve(session, event.category_code or suggested, event.scope_path)
    return {
        "event_id": event.id,
        "model_id": model.model_id,
        "model_sha256": model.sha256,
        "label": label[:64],
        "suggested_category": suggested,
        "confidence": confidence,
        "top": top_view,
        "suggested_department_id": route.department_id,
        "route_basis": route.basis,
        "rule_id": route.rule_id,
        "auto_dispatched": False,
        "created_at": utcnow(),
    }


def _departments(session: Session, ids: set[int]) -> dict[int, Department]:
    if not ids:
        return {}
    return {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(ids)))}


def _auto_dispatch_to(
    settings: Settings, event: Event, row: dict[str, Any], units: dict[int, Department]
) -> Department | None:
    """The active unit the event is dispatched to at once, if the model is confident enough."""
    if row["confidence"] < settings.auto_dispatch_threshold or event.status != Status.reported:
        return None
    dep = units.get(row["suggested_department_id"] or 0)
    return dep if dep is not None and dep.is_active else None


def _auto_dispatch(
    session: Session,
    settings: Settings,
    event: Event,
    row: dict[str, Any],
    dep: Department,
    writes: Writes,
) -> None:
    """Accept and dispatch the event, leaving the changes pending and the rows in `writes`
    (the caller writes them)."""
    from shiyu.events import service as events  # late: events.service calls this module
    from shiyu.events.schemas import ActionIn

    actor = _dispatcher_actor()
    if event.category_code is None and row["suggested_category"] is not None:
        event.category_code = row["suggested_category"]
        audit.record(
            session,
            actor=actor,
            action="routing.auto_category",
            object_type="event",
            object_id=event.code or str(event.id),
            scope_path=event.scope_path,
            after={"category_code": row["suggested_category"], "confidence": row["confidence"]},
        )
    events.apply_transition(
        session, settings, event, actor, ActionIn(action="accept"), batch=writes
    )
    events.apply_transition(
        session,
        settings,
        event,
        actor,
        ActionIn(
            action="dispatch",
            lead_department_id=dep.id,
            reason=f"自动派遣：置信度 {row['confidence']:.2f}（{row['route_basis']}）",
        ),
        batch=writes,
    )


def suggestion_view(session: Session, event_id: int) -> SuggestionRead | None:
    row = session.scalar(select(Suggestion).where(Suggestion.event_id == event_id))
    if row is None:
        return None
    category = session.get(Category, row.suggested_category) if row.suggested_category else None
    department = (
        session.get(Department, row.suggested_department_id)
        if row.suggested_department_id
        else None
    )
    return SuggestionRead(
        suggested_category=row.suggested_category,
        suggested_category_name=category.name if category else None,
        label=row.label,
        confidence=row.confidence,
        top=[TopClass(**t) for t in row.top],
        suggested_department_id=row.suggested_department_id,
        suggested_department_name=department.name if department else None,
        route_basis=row.route_basis,
        model_id=row.model_id,
        auto_dispatched=row.auto_dispatched,
        created_at=row.created_at,
        decided_category=row.decided_category,
        decided_department_id=row.decided_department_id,
        decided_at=row.decided_at,
    )


def set_category(session: Session, actor: Actor, event_code: str, category_code: str) -> Event:
    """The dispatcher confirms or corrects the category of an event waiting for dispatch
    (the final category counted against the suggestion). Audited."""
    from shiyu.events import service as events  # late: events.service calls this module
    from shiyu.events.transitions import PENDING_DISPATCH

    event = events.get_event(session, actor, event_code)
    if RoleCode.dispatcher not in actor.roles or not actor.covers(event.owner_path):
        raise Forbidden("只有负责该事件的调度员可以修改分类", code="routing.not_dispatcher")
    if event.status not in PENDING_DISPATCH:
        raise events.TransitionNotAllowed("事件已派遣，不能再修改分类")
    if session.get(Category, category_code) is None:
        raise _field("category_code", "事件分类不存在", "event.unknown_category")
    before = event.category_code
    event.category_code = category_code
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="routing.set_category",
        object_type="event",
        object_id=event.code or str(event.id),
        scope_path=event.scope_path,
        before={"category_code": before},
        after={"category_code": category_code},
    )
    return event


# ---------------------------------------------------------------- decisions and accuracy


def sync_decisions(session: Session) -> int:
    """Record what dispatchers finally decided: the category of the event and the lead unit
    of its latest dispatch by a person (dispatch or 审定派遣). Automatic dispatches are the
    model's own decision and are not counted until a person re-dispatches. An event
    dispatched without a category keeps the suggested one (the dispatcher accepted it).
    Returns the
    number of suggestions updated."""
    rows = session.execute(
        select(Suggestion, Event.category_code)
        .join(Event, Event.id == Suggestion.event_id)
        .where(Event.dispatched_at.is_not(None))
    ).all()
    changed = 0
    for sug, category in rows:
        last = session.scalars(
            select(Action)
            .where(
                Action.event_id == sug.event_id,
                Action.action.in_(["dispatch", "rule_final"]),
                Action.actor_id.is_not(None),
            )
            .order_by(Action.at.desc(), Action.id.desc())
            .limit(1)
        ).first()
        if last is None or (sug.decided_at is not None and last.at <= sug.decided_at):
            continue
        # dispatching without setting a category accepts the suggested one
        sug.decided_category = category or sug.suggested_category
        sug.decided_department_id = last.data.get("lead_department_id")
        sug.decided_by_id = last.actor_id
        sug.decided_at = last.at
        changed += 1
    session.flush()
    return changed


def _monday(moment: datetime) -> datetime:
    day = moment.astimezone(_china()).date()
    return datetime.combine(day - timedelta(days=day.weekday()), datetime.min.time(), _china())


def _china() -> Any:
    from shiyu.events.deadlines import CHINA

    return CHINA


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def accuracy(session: Session, *, weeks: int, now: datetime | None = None) -> AccuracyReport:
    """Suggestions against final decisions, per ISO week (China time) of the decision, for the
    last `weeks` weeks including the current one."""
    sync_decisions(session)
    now = now or utcnow()
    start = _monday(now) - timedelta(weeks=weeks - 1)
    rows = session.scalars(
        select(Suggestion).where(Suggestion.decided_at.is_not(None), Suggestion.decided_at >= start)
    ).all()
    buckets: dict[datetime, list[Suggestion]] = {
        start + timedelta(weeks=i): [] for i in range(weeks)
    }
    for row in rows:
        assert row.decided_at is not None
        buckets.setdefault(_monday(row.decided_at), []).append(row)
    out: list[WeekAccuracy] = []
    for monday in sorted(buckets):
        items = buckets[monday]
        cat = sum(1 for r in items if r.suggested_category == r.decided_category)
        dep = sum(1 for r in items if r.suggested_department_id == r.decided_department_id)
        both = sum(
            1
            for r in items
            if r.suggested_category == r.decided_category
            and r.suggested_department_id == r.decided_department_id
        )
        year, week, _ = monday.isocalendar()
        out.append(
            WeekAccuracy(
                week=f"{year}-W{week:02d}",
                week_start=monday.date().isoformat(),
                decided=len(items),
                category_correct=cat,
                department_correct=dep,
                both_correct=both,
                category_accuracy=_rate(cat, len(items)),
                department_accuracy=_rate(dep, len(items)),
                auto_dispatched=sum(1 for r in items if r.auto_dispatched),
            )
        )
    decided = sum(w.decided for w in out)
    return AccuracyReport(
        weeks=out,
        decided=decided,
        category_accuracy=_rate(sum(w.category_correct for w in out), decided),
        department_accuracy=_rate(sum(w.department_correct for w in out), decided),
    )


def corrections(session: Session) -> list[dict[str, Any]]:
    """Decisions that differ from the suggestion, as training rows: the event's title and
    description with the decided category (code and name)."""
    sync_decisions(session)
    rows = session.execute(
        select(Suggestion, Event.title, Event.description, Category.name)
        .join(Event, Event.id == Suggestion.event_id)
        .join(Category, Category.code == Suggestion.decided_category)
        .where(Suggestion.decided_category.is_not(None))
        .order_by(Suggestion.decided_at)
    ).all()
    return [
        {
            "event_id": sug.event_id,
            "subject": title,
            "detail": description,
            "category_code": sug.decided_category,
            "category_name": name,
            "suggested_category": sug.suggested_category,
            "decided_department_id": sug.decided_department_id,
            "suggested_department_id": sug.suggested_department_id,
        }
        for sug, title, description, name in rows
        if sug.suggested_category != sug.decided_category
        or sug.suggested_department_id != sug.decided_department_id
    ]
