"""Early warning: surges of daily counts (stored and notified once), repeated appeals and hot
issues (computed for the period asked). docs/intelligence.md describes the methods."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.auth.access import Actor
from shiyu.config import Settings
from shiyu.errors import Conflict, InvalidInput, NotFound
from shiyu.jurisdiction import service as jurisdictions
from shiyu.kit.clock import utcnow
from shiyu.kit.watch import WatchedCache
from shiyu.notifications import service as notify
from shiyu.warning import countmodel, hot, repository, textsim
from shiyu.warning.enums import ALL_CATEGORIES, RepeatKind, WarningKind, WarningStatus
from shiyu.warning.models import EarlyWarning
from shiyu.warning.repository import EventText, WarningFilter
from shiyu.warning.schemas import (
    HotIssueRead,
    HotIssueReport,
    RepeatRead,
    RepeatReport,
    SurgeRunReport,
)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
#: members listed per hot issue in API answers
MAX_MEMBERS = 50


class WarningNotFound(NotFound):
    code = "warning.not_found"
    message = "预警不存在"


class AlreadyAcknowledged(Conflict):
    code = "warning.already_acknowledged"
    message = "该预警已确认"


def query_error(field: str, msg: str) -> InvalidInput:
    return InvalidInput(msg, details=[{"loc": ["query", field], "msg": msg}])


# ---------------------------------------------------------------- days and periods


def local_midnight(day: date) -> datetime:
    """The UTC instant at which a China Standard Time calendar day begins."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(LOCAL_TZ).date()


def aware(value: datetime) -> datetime:
    """Times given without a zone are China Standard Time."""
    return value.replace(tzinfo=LOCAL_TZ) if value.tzinfo is None else value


def period(
    start: datetime | None, end: datetime | None, *, default_days: int
) -> tuple[datetime, datetime]:
    """[start, end) with local defaults: end = now, start = end − default_days."""
    stop = aware(end) if end else utcnow()
    begin = aware(start) if start else stop - timedelta(days=default_days)
    if stop <= begin:
        raise query_error("end", "结束时间须晚于开始时间")
    return begin, stop


def _scope(session: Session, actor: Actor, code: str | None) -> tuple[str, str]:
    if code is None:
        return actor.jurisdiction_code, actor.scope_path
    unit = jurisdictions.get_readable_unit(session, actor, code)
    return unit.code, unit.path


# ---------------------------------------------------------------- surges


def rule_from(settings: Settings) -> countmodel.SurgeRule:
    return countmodel.SurgeRule(
        baseline_days=settings.warning_baseline_days,
        alpha=settings.warning_alpha,
        min_count=settings.warning_min_count,
        min_ratio=settings.warning_min_ratio,
        floor=settings.warning_baseline_floor,
    )


def ancestor_paths(path: str) -> list[str]:
    """'/a/b/c/' -> ['/a/', '/a/b/', '/a/b/c/']."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _series(
    session: Session, settings: Settings, day: date, baseline_days: int
) -> tuple[list[tuple[str, str]], np.ndarray, dict[str, tuple[str, str, str, str]], dict[str, str]]:
    """Counts per (unit code, category) for the baseline days and the judged day (last column).

    One grouped query gives counts per (place, category, day); they are added up into every
    watched unit above the place and into its first-level category and "*" (all)."""
    first = day - timedelta(days=baseline_days)
    rows = repository.daily_counts(
        session, start=local_midnight(first), end=local_midnight(day + timedelta(days=1))
    )
    parents = repository.category_parents(session)
    units = {
        u.path: (u.code, u.path, u.level, u.name)
        for u in repository.units_at_levels(session, settings.warning_levels)
    }
    # only series with enough events on the judged day can surge: find them first, then
    # accumulate baselines for those alone
    width = baseline_days + 1
    expanded: list[tuple[tuple[str, str], int, int]] = []
    for r in rows:
        offset = (r.day - first).days
        if not 0 <= offset < width:
            continue
        cats = [ALL_CATEGORIES]
        if r.category_code and r.category_code in parents:
            cats.append(parents[r.category_code][0])
        for path in ancestor_paths(r.scope_path):
            unit = units.get(path)
            if unit is None:
                continue
            for cat in cats:
                expanded.append(((unit[0], cat), offset, r.count))
    today: dict[tuple[str, str], int] = defaultdict(int)
    for key, offset, n in expanded:
        if offset == baseline_days:
            today[key] += n
    keys = sorted(k for k, n in today.items() if n >= settings.warning_min_count)
    index = {k: i for i, k in enumerate(keys)}
    counts = np.zeros((len(keys), width), dtype=np.int64)
    for key, offset, n in expanded:
        i = index.get(key)
        if i is not None:
            counts[i, offset] += n
    by_code = {u[0]: u for u in units.values()}
    names = {code: name for code, (_, name) in parents.items() if code == parents[code][0]}
    names[ALL_CATEGORIES] = "全部"
    return keys, counts, by_code, names


def run_surges(session: Session, settings: Settings, *, day: date) -> SurgeRunReport:
    """Judge `day` for every watched unit × category; store new surges and notify each once.
    Safe to repeat: a surge already stored is neither stored nor announced again."""
    report, rows = detect_surges(session, settings, day=day)
    created, notified = store_surges(session, settings, rows)
    report.created, report.notified = created, notified
    return report


def detect_surges(
    session: Session, settings: Settings, *, day: date
) -> tuple[SurgeRunReport, list[dict[str, object]]]:
    """Read-only part: the surges of `day` as rows ready to insert (the job runs this in a
    reading transaction, so SQLite's single writer is not held while it computes)."""
    rule = rule_from(settings)
    keys, counts, units, names = _series(session, settings, day, rule.baseline_days)
    found = countmodel.detect(counts[:, -1], counts[:, :-1], rule) if keys else []
    rows: list[dict[str, object]] = []
    for i, verdict in found:
        unit_code, category = keys[i]
        _, path, level, unit_name = units[unit_code]
        rows.append(
            {
                "kind": WarningKind.surge.value,
                "unit_code": unit_code,
                "unit_path": path,
                "unit_level": level,
                "category_code": category,
                "day": day,
                "count": verdict.count,
                "baseline_mean": round(verdict.mean, 4),
                "baseline_var": round(verdict.var, 4),
                "baseline_days": rule.baseline_days,
                "model": verdict.model.value,
                "p_value": verdict.p_value,
                "title": _title(unit_name, names.get(category, category), day, verdict, rule),
                "status": WarningStatus.open.value,
                "notified": 0,
                "created_at": utcnow(),
                "ack_note": "",
            }
        )
    return SurgeRunReport(ran=True, days=[day], series=len(keys), surges=len(found)), rows


def store_surges(
    session: Session, settings: Settings, rows: list[dict[str, object]]
) -> tuple[int, int]:
    """Insert the surges not stored yet and notify those alone: (created, notifications)."""
    created = repository.insert_warnings(session, rows)
    return len(created), _announce(session, settings, created)


def _title(
    unit: str, category: str, day: date, v: countmodel.Verdict, rule: countmodel.SurgeRule
) -> str:
    what = "事件" if category == "全部" else f"“{category}”类事件"
    return (
        f"{unit}{what}激增：{day.month}月{day.day}日 {v.count} 件，"
        f"前{rule.baseline_days}日日均 {v.mean:.1f} 件"
    )


def _announce(session: Session, settings: Settings, warning_ids: list[int]) -> int:
    """Tell the dispatchers and leaders responsible for each new warning's unit: those sitting
    on the unit, else on the nearest unit above it that has any (a grid has no centre of its
    own; its street's does the work)."""
    warnings = repository.get_many(session, warning_ids)
    if not warnings:
        return 0
    roles = settings.warning_notify_roles
    total = 0
    for w in sorted(warnings, key=lambda x: x.id):
        users: list[int] = []
        for code in reversed(_path_codes(w.unit_path)):
            users = notify.users_at(session, code, roles)  # every unit's, in one cached read
            if users:
                break
        total += notify.notify_users(
            session,
            users,
            kind="warning.surge",
            title=f"预警：{w.title}",
            body=f"p = {w.p_value:.2g}（{w.model}），请研判处置。",
        )
        w.notified = len(set(users))
    return total


def _path_codes(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


# ---------------------------------------------------------------- listing and acknowledging


def list_warnings(
    session: Session,
    actor: Actor,
    f: WarningFilter,
    *,
    jurisdiction_code: str | None,
    limit: int,
    offset: int,
) -> tuple[list[EarlyWarning], int]:
    if jurisdiction_code:
        _, path = _scope(session, actor, jurisdiction_code)
        f = replace(f, path=path)
    return repository.list_readable(session, actor, f, limit=limit, offset=offset)


def acknowledge(session: Session, actor: Actor, warning_id: int, *, note: str) -> EarlyWarning:
    warning = repository.get_readable(session, actor, warning_id)
    if warning is None:
        raise WarningNotFound()
    if not repository.mark_acknowledged(
        session, warning.id, user_id=actor.user_id, at=utcnow(), note=note
    ):
        raise AlreadyAcknowledged()
    session.refresh(warning)
    audit.record(
        session,
        actor=actor,
        action="warning.acknowledge",
        object_type="warning",
        object_id=warning.id,
        scope_path=warning.unit_path,
        before={"status": WarningStatus.open.value},
        after={"status": warning.status, "note": note},
    )
    return warning


def warnings_between(
    session: Session, actor: Actor, *, path: str, day_from: date, day_to: date, limit: int = 50
) -> list[EarlyWarning]:
    """For reports: surges of units inside `path` judged on days in [day_from, day_to]."""
    rows, _ = repository.list_readable(
        session,
        actor,
        WarningFilter(path=path, day_from=day_from, day_to=day_to),
        limit=limit,
        offset=0,
    )
    return rows


# ---------------------------------------------------------------- hot issues


def hot_params(settings: Settings) -> hot.HotParams:
    return hot.HotParams(
        link=settings.hot_link, attach=settings.hot_attach, merge=settings.hot_merge
    )


def hot_issue_read(issue: hot.HotIssue) -> HotIssueRead:
    return HotIssueRead(
        rank=issue.rank,
        score=issue.score,
        title=issue.title,
        representative=issue.representative_key,
        place=issue.place,
        first_at=issue.first_at,
        last_at=issue.last_at,
        messages=issue.messages,
        people=issue.people,
        places=issue.places,
        likes=issue.likes,
        dislikes=issue.dislikes,
        keywords=issue.keywords,
        members=issue.keys[:MAX_MEMBERS],
    )


def hot_issues(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    start: datetime | None,
    end: datetime | None,
    jurisdiction_code: str | None,
    top: int,
) -> HotIssueReport:
    """Hot issues among the events placed in the scope and reported in [start, end) (default:
    the last 30 days). The newest `hot_max_messages` events are clustered. A result is kept
    for `hot_cache_seconds` per process and scope (segmenting and clustering ten thousand
    messages takes seconds; the command centre asks every few)."""
    code, path = _scope(session, actor, jurisdiction_code)  # may the caller read it: first
    key = (code, start, end, top)
    if settings.hot_cache_seconds <= 0:
        return _hot_issues(session, settings, (code, path), start, end, top)
    cached = _hot_reports.get(key, ttl=settings.hot_cache_seconds)
    if cached is None:
        cached = _hot_issues(session, settings, (code, path), start, end, top)
        _hot_reports.put(key, cached)
    return cached


#: hot-issue reports by (scope, start, end, top); no rows are watched, only the time to live
_hot_reports: WatchedCache[tuple[str, datetime | None, datetime | None, int], HotIssueReport] = (
    WatchedCache("hot-issues", (), ttl=0.0, max_entries=1000)
)


def _hot_issues(
    session: Session,
    settings: Settings,
    scope: tuple[str, str],
    start: datetime | None,
    end: datetime | None,
    top: int,
) -> HotIssueReport:
    begin, stop = period(start, end, default_days=30)
    code, path = scope
    events = repository.events_in(
        session, path=path, start=begin, end=stop, limit=settings.hot_max_messages
    )
    grid_names = repository.unit_names(
        session, sorted({e.grid_code for e in events if e.grid_code})
    )
    messages = [
        hot.Message(
            key=e.code,
            subject=e.title,
            detail=e.description,
            at=e.reported_at,
            person=e.reporter,
            place=grid_names.get(e.grid_code or "") or e.address or None,
            area=e.grid_code,
        )
        for e in events
    ]
    issues = hot.find(messages, params=hot_params(settings), top=top)
    return HotIssueReport(
        start=begin,
        end=stop,
        scope_code=code,
        messages=len(messages),
        truncated=len(events) >= settings.hot_max_messages,
        items=[hot_issue_read(i) for i in issues],
    )


def hot_issues_from_csv(
    settings: Settings,
    path: Path,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    top: int = 10,
) -> list[HotIssueRead]:
    """The same clustering on a CSV of messages (evaluation on hot.csv); times are naive."""
    messages = hot.within(hot.read_csv(path), start, end)
    return [hot_issue_read(i) for i in hot.find(messages, params=hot_params(settings), top=top)]


# ---------------------------------------------------------------- repeated appeals


def repeats(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    start: datetime | None,
    end: datetime | None,
    jurisdiction_code: str | None,
    kind: RepeatKind | None = None,
) -> RepeatReport:
    """重复投诉 among the appeals reported in [start, end) (default: the last 7 days): an appeal
    is flagged when an earlier one within `repeat_window_days` came from the same reporter, or
    from the same place (same grid, or within `repeat_radius_m`), with similar text."""
    begin, stop = period(start, end, default_days=7)
    code, path = _scope(session, actor, jurisdiction_code)
    window = timedelta(days=settings.repeat_window_days)
    events = repository.events_in(
        session, path=path, start=begin - window, end=stop, limit=settings.hot_max_messages
    )
    events.sort(key=lambda e: (e.reported_at, e.id))
    items = find_repeats(
        events,
        start=begin,
        window=window,
        similarity=settings.repeat_similarity,
        radius_m=settings.repeat_radius_m,
    )
    if kind is not None:
        items = [i for i in items if i.kind == kind]
    return RepeatReport(
        start=begin,
        end=stop,
        scope_code=code,
        truncated=len(events) >= settings.hot_max_messages,
        items=items,
    )


def find_repeats(
    events: Sequence[EventText],
    *,
    start: datetime,
    window: timedelta,
    similarity: float,
    radius_m: float,
) -> list[RepeatRead]:
    """Events (oldest first) reported from `start` on that repeat an earlier similar one."""
    texts = [textsim.Bigrams.of(f"{e.title} {e.description[: hot.DETAIL_CHARS]}") for e in events]
    by_reporter: dict[str, list[int]] = defaultdict(list)
    for k, e in enumerate(events):
        if e.reporter:
            by_reporter[e.reporter].append(k)
    places = _Places(events, radius_m)
    out: list[RepeatRead] = []
    for k, e in enumerate(events):
        if e.reported_at < start:
            continue
        earlier = [
            j
            for j in by_reporter.get(e.reporter or "", [])
            if j < k and e.reported_at - events[j].reported_at <= window
        ]
        found = _similar(texts, k, earlier, similarity)
        kind = RepeatKind.same_reporter
        if not found:
            others = [
                j
                for j in places.near(k)
                if j < k
                and e.reported_at - events[j].reported_at <= window
                and events[j].reporter != e.reporter
            ]
            found = _similar(texts, k, others, similarity)
            kind = RepeatKind.same_place
        if found:
            out.append(
                RepeatRead(
                    kind=kind,
                    event_code=e.code,
                    title=e.title,
                    reported_at=e.reported_at,
                    previous_codes=[events[j].code for j, _ in found],
                    similarity=round(max(s for _, s in found), 4),
                    grid_code=e.grid_code,
                )
            )
    out.reverse()  # newest first
    return out


def _similar(
    texts: list[textsim.Bigrams], k: int, others: list[int], threshold: float
) -> list[tuple[int, float]]:
    scored = [(j, texts[k].cosine(texts[j])) for j in others]
    return [(j, s) for j, s in scored if s >= threshold]


class _Places:
    """Who is near whom: events by grid, and by a coordinate bucket `radius_m` wide (so only the
    9 buckets around an event need a distance check)."""

    def __init__(self, events: Sequence[EventText], radius_m: float) -> None:
        self.events, self.radius_m = events, radius_m
        self.by_grid: dict[str, list[int]] = defaultdict(list)
        self.buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.dlat = radius_m / 111_320.0
        # one bucket width in longitude for all, sized at the largest latitude (wider is safe)
        lats = [abs(e.lat) for e in events if e.lat is not None and e.lng is not None]
        self.dlng = self.dlat / max(math.cos(math.radians(min(max(lats, default=0.0), 89.0))), 0.01)
        for k, e in enumerate(events):
            if e.grid_code:
                self.by_grid[e.grid_code].append(k)
            key = self._bucket(e)
            if key is not None:
                self.buckets[key].append(k)

    def _bucket(self, e: EventText) -> tuple[int, int] | None:
        if e.lat is None or e.lng is None:
            return None
        return math.floor(e.lat / self.dlat), math.floor(e.lng / self.dlng)

    def near(self, k: int) -> list[int]:
        """Events in k's grid or within the radius of it (k excluded), in input order."""
        e = self.events[k]
        found = set(self.by_grid.get(e.grid_code, [])) if e.grid_code else set()
        key = self._bucket(e)
        if key is not None:
            bi, bj = key
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    for m in self.buckets.get((bi + di, bj + dj), []):
                        if _metres(e, self.events[m]) <= self.radius_m:
                            found.add(m)
        found.discard(k)
        return sorted(found)


def _metres(a: EventText, b: EventText) -> float:
    """Equirectangular distance: exact enough within a few hundred metres."""
    assert a.lat is not None and a.lng is not None and b.lat is not None and b.lng is not None
    x = math.radians(b.lng - a.lng) * math.cos(math.radians((a.lat + b.lat) / 2))
    y = math.radians(b.lat - a.lat)
    return 6_371_000.0 * math.hypot(x, y)
