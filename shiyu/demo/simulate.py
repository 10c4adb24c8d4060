"""The last days of a busy city, replayed through the real services so that every list and
figure of the demo has data: every channel (grid patrol, residents, 12345, departments,
sensors, Open311) and every path of the lifecycle (normal, self-resolved, overdue, returned and
re-dispatched or ruled final, extended, escalated community → street → district, whistled with
check-ins, reopened after a dissatisfied rating, merged, reworked, rejected, suspended,
cancelled), with some still open at each stage today.

Every step goes through `events.service.create`, `events.service.apply_transition` and
`events.attachments.add` with the demo accounts as actors and `now=` the simulated time, so
timestamps, deadlines, lights, the timeline and the audit chain agree with each other. The
deadline sweep runs at the end of every simulated day (lights, supervision, its escalation)
and once at the real now.

Each event's life is a generator that yields the simulated time of its next step; one heap
runs all of them in time order. Deterministic for a seed: every random draw comes from a
generator seeded by (seed, day) or (seed, case), and cases run in one total order (time, then
order of scheduling).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import struct
import time
import zlib
from collections import Counter
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from shiyu.auth.access import Actor
from shiyu.auth.enums import RoleCode
from shiyu.auth.models import Department, User
from shiyu.auth.service import actor_for
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.errors import ShiyuError
from shiyu.events import attachments, jobs
from shiyu.events import service as events
from shiyu.events.deadlines import CHINA
from shiyu.events.enums import (
    OPEN_STATUSES,
    AppealKind,
    AttachmentKind,
    Channel,
    Rating,
    Status,
    Urgency,
    WhistleType,
)
from shiyu.events.models import Category, Event
from shiyu.events.schemas import ActionIn, IntakeData
from shiyu.jurisdiction import service as jurisdictions
from shiyu.jurisdiction.models import Jurisdiction
from shiyu.kit.clock import utcnow

log = logging.getLogger("shiyu.demo")

# --------------------------------------------------------------------------------------------
# What a day looks like

#: events a day, before the weekday factor and the noise
EVENTS_PER_DAY = 16
#: Monday .. Sunday
WEEKDAY_FACTOR = (1.05, 1.1, 1.0, 1.0, 0.95, 0.7, 0.65)
#: reports per local hour of the day (residents and the hotline day and evening, patrols by day)
HOUR_WEIGHTS = (
    *(0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 3.0, 2.5),
    *(1.5, 1.5, 2.5, 3.0, 2.5, 2.0, 1.5, 1.5, 1.2, 0.8, 0.5, 0.3),
)
PATROL_HOURS = range(8, 18)

CHANNEL_WEIGHTS: dict[Channel, float] = {
    Channel.grid_patrol: 38,
    Channel.hotline_12345: 28,
    Channel.resident: 16,
    Channel.department: 7,
    Channel.sensor: 6,
    Channel.open311: 5,
}

#: path -> (weight, the channels it happens on; empty: any)
PATHS: dict[str, tuple[float, tuple[Channel, ...]]] = {
    "normal": (40, ()),
    "self_resolve": (14, (Channel.grid_patrol,)),
    "late": (6, ()),
    "stall": (5, ()),
    "returned": (5, ()),
    "extension": (4, ()),
    "escalate": (3, (Channel.grid_patrol, Channel.resident)),
    "whistle": (4, (Channel.hotline_12345,)),
    "reopen": (3, (Channel.hotline_12345, Channel.resident, Channel.open311)),
    "merge": (4, (Channel.grid_patrol, Channel.resident, Channel.hotline_12345)),
    "rework": (3, ()),
    "assist": (3, ()),
    "reject": (3, (Channel.resident, Channel.hotline_12345, Channel.open311)),
    "suspend": (2, ()),
    "cancel": (1, ()),
}
PATH_NAMES = list(PATHS)
PATH_WEIGHTS = [w for w, _ in PATHS.values()]
PATH_CHANNELS = {p: list(chans) for p, (_, chans) in PATHS.items()}

#: department name keywords by top-level category, the first one found in the area wins
ROUTES: dict[str, tuple[str, ...]] = {
    "SJ01": ("城管执法",),
    "SJ02": ("城管执法",),
    "SJ03": ("住建",),
    "SJ04": ("水务", "应急管理"),
    "SJ05": ("城管执法",),
    "BJ01": ("水务", "住建"),
    "BJ02": ("交通运输",),
    "BJ03": ("城管执法",),
    "BJ04": ("园林",),
    "BJ05": ("住建",),
    "BJ06": ("城管执法",),
    "RX01": ("城管执法",),
    "RX02": ("水务",),
    "RX03": ("房屋管理", "住建"),
    "RX04": ("市场监管",),
    "RX05": ("人力资源",),
    "RX06": ("公安",),
    "RX07": ("政务服务",),
    "AP01": ("住建",),
    "AP02": ("人力资源",),
    "AP03": ("教育",),
    "AP04": ("商务",),
    "AP05": ("生态环境",),
    "AP06": ("卫生健康",),
    "AP07": ("交通运输",),
}
#: the categories each channel reports in (by top-level code)
CHANNEL_CATEGORIES: dict[Channel, tuple[str, ...]] = {
    Channel.grid_patrol: ("SJ01", "SJ02", "SJ03", "SJ05", "BJ01", "BJ02", "BJ03", "BJ04", "BJ05"),
    Channel.hotline_12345: ("RX01", "RX02", "RX03", "RX04", "RX05", "RX06", "AP01", "AP05"),
    Channel.resident: ("SJ01", "SJ05", "RX01", "RX03", "BJ01", "BJ04", "RX06"),
    Channel.department: ("SJ03", "BJ01", "BJ02", "BJ05"),
    Channel.sensor: ("SJ04", "BJ01"),
    Channel.open311: ("SJ01", "BJ01", "BJ02", "BJ03", "SJ05"),
}

ROADS = (
    "解放大道", "中山路", "建设大道", "和平大道", "友谊路", "沿江大道", "青年路", "光谷大道",
    "民主路", "胜利街", "黄浦大街", "珞喻路", "武珞路", "江汉路", "长江二路", "汉阳大道",
)  # fmt: skip
DETAILS = (
    "已持续数日，影响居民出行",
    "附近居民多次反映",
    "存在安全隐患，请尽快处理",
    "夜间尤为严重",
    "影响周边商户正常经营",
    "老人小孩经过时容易发生危险",
    "现场照片已上传",
)
REPLIES = (
    "已安排执法队员到场处置，现场已恢复正常。",
    "经现场核实，已联系责任单位完成整改。",
    "已派维修人员处理完毕，并加强日常巡查。",
    "已约谈相关责任人，问题已整改到位。",
    "已清理完毕，后续将纳入常态化管理。",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚"
RETURN_REASONS = ("不属于本单位职责范围", "该路段养护权属为其他单位", "地址不清，无法派员")
REJECT_REASONS = ("不属于受理范围，已告知诉求人向法院起诉", "诉求人撤回诉求", "信息不全，无法核实")
SENSOR_TITLES = {"SJ04": "积水监测告警：水位超过警戒值", "BJ01": "井盖位移告警"}


def _png(rgb: tuple[int, int, int]) -> bytes:
    """A valid 1×1 PNG of one colour (photos of the self-resolved cases)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes(rgb))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PHOTO_BEFORE = _png((128, 96, 64))
PHOTO_AFTER = _png((96, 160, 96))


# --------------------------------------------------------------------------------------------
# The city's people and places


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str
    level: str
    parent_code: str | None
    path: str
    bbox: tuple[float, float, float, float] | None


@dataclass(frozen=True, slots=True)
class Dep:
    id: int
    name: str
    area_path: str
    level: str


@dataclass
class Cast:
    units: dict[str, Unit]
    grids: list[str]
    grid_weights: list[float]
    dispatchers: dict[str, Actor]
    grid_workers: dict[str, Actor]
    handlers: dict[int, Actor]
    residents: list[Actor]
    departments: list[Dep]
    #: leaf categories by top-level code: (code, name)
    categories: dict[str, list[tuple[str, str]]]

    def ancestor(self, code: str, level: str) -> Unit | None:
        unit: Unit | None = self.units.get(code)
        while unit is not None and unit.level != level:
            unit = self.units.get(unit.parent_code) if unit.parent_code else None
        return unit

    def dispatcher_over(self, code: str) -> Actor:
        """The dispatcher of the unit, else of the nearest unit above it (who covers it)."""
        unit: Unit | None = self.units.get(code)
        while unit is not None:
            if unit.code in self.dispatchers:
                return self.dispatchers[unit.code]
            unit = self.units.get(unit.parent_code) if unit.parent_code else None
        raise LookupError(f"no dispatcher over {code}")

    def departments_for(self, scope_path: str) -> list[Dep]:
        """Departments serving an area that contains the place, with a handler; district ones
        first (属地), then municipal."""
        found = [d for d in self.departments if scope_path.startswith(d.area_path)]
        return sorted(found, key=lambda d: (-len(d.area_path), d.id))


def _load_cast(session: Session, seed: int) -> Cast:
    units = {
        code: Unit(code, name, level, parent, path, _bbox(a, b, c, d))
        for code, name, level, parent, path, a, b, c, d in session.execute(
            select(
                Jurisdiction.code,
                Jurisdiction.name,
                Jurisdiction.level,
                Jurisdiction.parent_code,
                Jurisdiction.path,
                Jurisdiction.min_lng,
                Jurisdiction.min_lat,
                Jurisdiction.max_lng,
                Jurisdiction.max_lat,
            ).order_by(Jurisdiction.code)
        )
    }
    dispatchers: dict[str, Actor] = {}
    grid_workers: dict[str, Actor] = {}
    handlers: dict[int, Actor] = {}
    residents: list[Actor] = []
    rows = session.execute(
        select(User, Jurisdiction.level)
        .options(selectinload(User.roles))
        .join(Jurisdiction, Jurisdiction.code == User.jurisdiction_code)
        .where(User.is_active.is_(True))
        .order_by(User.id)
    ).all()
    for user, level in rows:
        actor = actor_for(user, level)
        roles = actor.roles
        if RoleCode.dispatcher in roles:
            dispatchers.setdefault(user.jurisdiction_code, actor)
        if RoleCode.grid_worker in roles and (
            user.post is None or user.jurisdiction_code not in grid_workers
        ):
            grid_workers[user.jurisdiction_code] = actor
        if RoleCode.department_handler in roles and user.department_id is not None:
            handlers.setdefault(user.department_id, actor)
        if RoleCode.resident in roles:
            residents.append(actor)
    departments = [
        Dep(d.id, d.name, d.area_path, d.level)
        for d in session.scalars(
            select(Department).where(Department.is_active.is_(True)).order_by(Department.id)
        )
        if d.id in handlers
    ]
    categories: dict[str, list[tuple[str, str]]] = {}
    for cat in session.scalars(
        select(Category).where(Category.is_active.is_(True)).order_by(Category.code)
    ):
        if cat.parent_code:
            categories.setdefault(cat.parent_code, []).append((cat.code, cat.name))
    grids = [
        u.code
        for u in units.values()
        if u.level == "grid" and u.bbox is not None and u.code in grid_workers
    ]
    # hot spots: a few grids (markets, old quarters, stations) report far more than the rest
    rng = random.Random(f"{seed}:grids")
    weights = [1.0 + 30.0 * rng.random() ** 12 for _ in grids]
    return Cast(
        units,
        grids,
        list(itertools.accumulate(weights)),
        dispatchers,
        grid_workers,
        handlers,
        residents,
        departments,
        categories,
    )


def _bbox(
    a: float | None, b: float | None, c: float | None, d: float | None
) -> tuple[float, float, float, float] | None:
    if a is None or b is None or c is None or d is None:
        return None
    return a, b, c, d


# --------------------------------------------------------------------------------------------
# The simulation


@dataclass
class SimulationReport:
    days: int
    events: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    #: successful lifecycle actions by name (plus "report" and "attach")
    actions: dict[str, int] = field(default_factory=dict)
    supervisions: int = 0
    supervision_escalations: int = 0
    #: steps refused by the services (a bug in the simulation or in the rules): "path:action"
    failures: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    #: CPU seconds of this process (SQLite works in-process): what a busy machine does not inflate
    cpu_seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        open_ = sum(n for s, n in self.by_status.items() if Status(s) in OPEN_STATUSES)
        return (
            f"  模拟 simulated: 近{self.days}天 {self.events} 件事件 events "
            f"({open_} 办理中 open, {self.supervisions} 次督办 supervisions, "
            f"{sum(self.actions.values())} 个办理环节 steps; "
            f"{self.seconds:.0f} s, CPU {self.cpu_seconds:.0f} s, "
            f"{self.events_per_second:.1f} events/s)"
        )


@dataclass
class Case:
    """One event's story: what happens to it is drawn when the case is made."""

    no: int
    #: this is the nth case of its path (branches alternate by it, so short runs show each)
    nth: int
    rng: random.Random
    path: str
    channel: Channel
    grid: str
    category: tuple[str, str]
    top: str
    urgency: Urgency
    reported_at: datetime
    parent: Case | None = None
    #: held here so that the session keeps it loaded between steps
    event: Event | None = None
    lead: Dep | None = None
    assist: Dep | None = None
    summoned: list[Dep] = field(default_factory=list)
    reopened: bool = False


class _InTransaction(Database):
    """The sweep opens its own units of work; here they all join the demo build's one
    transaction (each becomes a flush), so the build stays all-or-nothing and SQLite's single
    writer is not asked for a second connection."""

    def __init__(self, session: Session) -> None:  # no engines of its own
        self._session = session

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        yield self._session
        self._session.flush()


#: an event's life (or a part of it): yields the simulated time of its next step
Life = Generator[datetime, None, None]


class Simulation:
    def __init__(
        self,
        session: Session,
        settings: Settings,
        cast: Cast,
        *,
        seed: int,
        days: int,
        per_day: int,
        end: datetime,
    ) -> None:
        self.session = session
        self.settings = settings
        self.cast = cast
        self.seed = seed
        self.days = days
        self.per_day = per_day
        self.end = end
        self.now = end
        self.report = SimulationReport(days=days)
        self.actions: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self._heap: list[tuple[datetime, int, Case, Life]] = []
        self._order = itertools.count()
        self._cases = itertools.count(1)
        self._nth: Counter[str] = Counter()
        self._unseen = list(PATH_NAMES)
        self._db = _InTransaction(session)

    # ---------------------------------------------------------------- the clock

    def run(self) -> SimulationReport:
        started, cpu = time.perf_counter(), time.process_time()
        first = (self.end.astimezone(CHINA) - timedelta(days=self.days)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        self.now = first
        for day in range(self.days + 1):
            day_start = first + timedelta(days=day)
            if day_start >= self.end:
                break
            day_end = min(day_start + timedelta(days=1), self.end)
            for case in self._cases_of(day, day_start, day_end):
                self._schedule(case, self._life(case))
            self._run_until(day_end)
            self._sweep(day_end)
        self._sweep(self.end)
        self.report.actions = dict(sorted(self.actions.items()))
        self.report.failures = dict(sorted(self.failures.items()))
        self.report.seconds = time.perf_counter() - started
        self.report.cpu_seconds = time.process_time() - cpu
        return self.report

    def _schedule(self, case: Case, life: Life) -> None:
        try:
            at = next(life)
        except StopIteration:
            return
        at = max(at, self.now)
        if at < self.end:  # a step due after today has not happened: the case stays open there
            heapq.heappush(self._heap, (at, next(self._order), case, life))

    def _run_until(self, until: datetime) -> None:
        while self._heap and self._heap[0][0] < until:
            at, _, case, life = heapq.heappop(self._heap)
            self.now = at
            try:
                self._schedule(case, life)
            except ShiyuError as exc:
                # the case stops here; the report says so (the tests require none)
                self.failures[f"{case.path}:{exc.code}"] += 1
                log.warning("demo step refused", extra={"case": case.no, "error": exc.code})

    def _sweep(self, at: datetime) -> None:
        self.session.flush()
        result = jobs.sweep(self._db, self.settings, now=at, use_lease=False)
        self.report.supervisions += result.supervisions
        self.report.supervision_escalations += result.escalations
        # the sweep set lights behind the ORM's back: read them again when next needed
        for obj in list(self.session.identity_map.values()):
            if isinstance(obj, Event):
                self.session.expire(obj, ["light"])

    # ---------------------------------------------------------------- the day's cases

    def _cases_of(self, day: int, start: datetime, end: datetime) -> list[Case]:
        rng = random.Random(f"{self.seed}:day:{day}")
        trend = 0.85 + 0.3 * day / max(self.days, 1)  # a city whose reporting keeps growing
        count = self.per_day * WEEKDAY_FACTOR[start.weekday()] * trend * rng.uniform(0.85, 1.15)
        storm = rng.random() < 0.06  # a rainstorm: water logging and burst pipes pile up
        cases: list[Case] = []
        for _ in range(max(1, round(count))):
            # the first cases take every path once, so even a short run shows them all
            forced = bool(self._unseen)
            path = self._unseen.pop(0) if forced else rng.choices(PATH_NAMES, PATH_WEIGHTS)[0]
            allowed = PATH_CHANNELS[path] or list(CHANNEL_WEIGHTS)
            channel = rng.choices(allowed, [CHANNEL_WEIGHTS[c] for c in allowed])[0]
            hours = PATROL_HOURS if channel is Channel.grid_patrol else range(24)
            hour = rng.choices(list(hours), [HOUR_WEIGHTS[h] for h in hours])[0]
            at = start + timedelta(hours=hour, seconds=rng.randrange(3600))
            if at >= end:  # later today: has not happened yet
                if forced:
                    self._unseen.insert(0, path)
                continue
            case = self._new_case(rng, channel, at, storm=storm, path=path)
            cases.append(case)
            if case.path == "merge":
                cases.extend(self._duplicates(case))
        return sorted(cases, key=lambda c: (c.reported_at, c.no))

    def _new_case(
        self,
        rng: random.Random,
        channel: Channel,
        at: datetime,
        *,
        storm: bool,
        path: str,
        grid: str | None = None,
    ) -> Case:
        no = next(self._cases)
        self._nth[path] += 1
        if grid is None:
            grid = rng.choices(self.cast.grids, cum_weights=self.cast.grid_weights)[0]
        tops = [t for t in CHANNEL_CATEGORIES[channel] if self.cast.categories.get(t)]
        if storm and channel in (Channel.sensor, Channel.hotline_12345, Channel.resident):
            tops = [t for t in ("SJ04", "RX02") if self.cast.categories.get(t)] or tops
        top = rng.choice(tops)
        urgency = rng.choices(list(Urgency), [85, 12, 3])[0]
        if channel is Channel.sensor:
            urgency = Urgency.urgent
        return Case(
            no=no,
            nth=self._nth[path],
            rng=random.Random(f"{self.seed}:case:{no}"),
            path=path,
            channel=channel,
            grid=grid,
            category=rng.choice(self.cast.categories[top]),
            top=top,
            urgency=urgency,
            reported_at=at,
        )

    def _duplicates(self, main: Case) -> list[Case]:
        """The same problem reported again by others within hours: merged into the first."""
        out = []
        for _ in range(main.rng.randint(1, 3)):
            channel = main.rng.choice([Channel.resident, Channel.hotline_12345])
            at = main.reported_at + timedelta(minutes=main.rng.randint(20, 300))
            dup = self._new_case(
                main.rng, channel, at, storm=False, path="duplicate", grid=main.grid
            )
            dup.category, dup.top, dup.parent = main.category, main.top, main
            out.append(dup)
        main.path = "normal"
        return out

    # ---------------------------------------------------------------- helpers

    def _after(self, case: Case, low: float, high: float) -> datetime:
        """Now plus a random delay of `low`..`high` minutes."""
        return self.now + timedelta(minutes=case.rng.uniform(low, high))

    def _event(self, case: Case) -> Event:
        assert case.event is not None
        return case.event

    def _act(self, case: Case, actor: Actor, action: str, **fields: Any) -> Event:
        event = events.apply_transition(
            self.session,
            self.settings,
            self._event(case),
            actor,
            ActionIn(action=action, **fields),
            now=self.now,
        )
        self.actions[action] += 1
        return event

    def _centre(self, case: Case) -> Actor:
        return self.cast.dispatcher_over(self._event(case).owner_code)

    def _person(self, rng: random.Random) -> tuple[str, str]:
        """A reporter's name and mobile number."""
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        return rng.choice(SURNAMES) + given, f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"

    def _route(self, case: Case, *, avoid: Dep | None = None) -> Dep:
        """The department the category belongs to where the event is (or, with `avoid`,
        another one: a mis-dispatch, a co-handling unit)."""
        path = self.cast.units[case.grid].path
        serving = self.cast.departments_for(path)
        if avoid is not None:
            others = [d for d in serving if d.id != avoid.id]
            return case.rng.choice(others[:8] or serving)
        for word in ROUTES.get(case.top, ()):
            for dep in serving:
                if word in dep.name:
                    return dep
        return serving[0]

    # ---------------------------------------------------------------- intake

    def _create(self, case: Case) -> None:
        rng, cast = case.rng, self.cast
        grid = cast.units[case.grid]
        assert grid.bbox is not None
        x0, y0, x1, y1 = grid.bbox
        lng = round(x0 + (x1 - x0) * rng.uniform(0.35, 0.65), 6)
        lat = round(y0 + (y1 - y0) * rng.uniform(0.35, 0.65), 6)
        located = jurisdictions.locate_grid_code(self.session, self.settings, lng=lng, lat=lat)
        if located is not None and located in cast.grid_workers:
            case.grid = located
        community = cast.units.get(cast.units[case.grid].parent_code or "")
        road = rng.choice(ROADS)
        address = f"{community.name if community else ''}{road}{rng.randint(1, 300)}号附近"
        code, name = case.category
        title = f"{road}{name}"
        if case.channel is Channel.sensor:
            title = SENSOR_TITLES.get(case.top, name)
        person, phone = self._person(rng)
        data: dict[str, Any] = {
            "channel": case.channel,
            "title": title,
            "description": f"{address}{name}，{rng.choice(DETAILS)}。",
            "category_code": code,
            "urgency": case.urgency,
            "lng": lng,
            "lat": lat,
            "grid_code": case.grid,
            "address": address,
            "reported_at": self.now,
        }
        actor: Actor | None = None
        if case.channel is Channel.grid_patrol:
            actor = cast.grid_workers[case.grid]
        elif case.channel is Channel.department:
            actor = cast.handlers[self._route(case).id]
        elif case.channel is Channel.sensor:
            data.update(source="iot", external_id=f"IOT-{self.seed}-{case.no}", address=address)
        elif case.channel is Channel.hotline_12345:
            # 12345 work orders go to the street's centre (首接负责 at street level)
            street = cast.ancestor(case.grid, "street")
            data.update(
                source="12345",
                external_id=f"GD{self.now.astimezone(CHINA):%Y%m%d}{case.no:06d}",
                appeal_kind=rng.choices(list(AppealKind), [10, 25, 45, 10, 10])[0],
                reporter_name=person,
                reporter_phone=phone,
                owner_code=street.code if street else None,
            )
        else:  # resident page, Open311 clients
            if case.channel is Channel.open311:
                data.update(source="open311:jiangcheng-app", external_id=f"req-{case.no}")
            data.update(reporter_name=person, reporter_phone=phone)
        event, _ = events.create(self.session, self.settings, IntakeData(**data), actor=actor)
        case.event = event
        self.actions["report"] += 1
        self.report.events += 1
        self.report.by_channel[case.channel.value] = (
            self.report.by_channel.get(case.channel.value, 0) + 1
        )

    def _photo(self, case: Case, actor: Actor, kind: AttachmentKind, data: bytes) -> None:
        attachments.add(
            self.session,
            self.settings,
            actor,
            self._event(case),
            kind=kind,
            filename=f"{kind.value}.png",
            data=data,
        )
        self.actions["attach"] += 1

    # ---------------------------------------------------------------- lives

    def _life(self, case: Case) -> Life:
        yield case.reported_at
        self._create(case)
        if case.path == "self_resolve":
            yield from self._self_resolve(case)
            return
        if case.path == "duplicate":
            yield from self._merge(case)
            return
        if case.path == "escalate":
            yield from self._escalate(case)
        yield self._after(case, 5, 90)
        if case.path == "reject":
            self._act(case, self._centre(case), "reject", reason=case.rng.choice(REJECT_REASONS))
            return
        self._act(case, self._centre(case), "accept")
        if case.path == "cancel":
            yield self._after(case, 60, 48 * 60)
            self._act(case, self._centre(case), "cancel", reason="经核实为重复上报，予以作废")
            return
        if case.path == "suspend":
            yield self._after(case, 60, 24 * 60)
            self._act(case, self._centre(case), "suspend", reason="需纳入年度改造计划，暂缓办理")
            if case.nth % 2 == 0:
                return  # 挂账: stays in the problem register
            yield self._after(case, 2 * 24 * 60, 10 * 24 * 60)
            self._act(case, self._centre(case), "resume")
        if case.path == "whistle":
            yield from self._whistle(case)
        yield from self._dispatch(case)
        yield from self._finish(case)

    def _finish(self, case: Case) -> Life:
        """From dispatch to the rating, again after a dissatisfied one (重办)."""
        while True:
            yield from self._handle(case)
            yield from self._verify_and_close(case)
            again = yield from self._rate(case)
            if not again:
                return

    def _self_resolve(self, case: Case) -> Life:
        worker = self.cast.grid_workers[case.grid]
        self._photo(case, worker, AttachmentKind.before, PHOTO_BEFORE)
        yield self._after(case, 10, 60)
        self._photo(case, worker, AttachmentKind.after, PHOTO_AFTER)
        self._act(case, worker, "self_resolve", reply="网格员现场劝导并清理完毕")
        yield self._after(case, 30, 8 * 60)
        centre = self._centre(case)
        if case.nth % 7 == 2:  # about one in seven is not accepted
            self._act(
                case, centre, "reject_self_resolution", reason="照片显示仍未处置到位，转派部门"
            )
            yield self._after(case, 10, 120)
            yield from self._dispatch(case)
            yield from self._finish(case)
            return
        self._act(case, centre, "verify")
        yield self._after(case, 10, 6 * 60)
        self._act(case, self._centre(case), "close")

    def _merge(self, case: Case) -> Life:
        yield self._after(case, 10, 60)
        main = case.parent
        parent = main.event if main else None
        centre = self._centre(case)
        if (
            parent is not None
            and Status(parent.status) in OPEN_STATUSES
            and parent.parent_id is None
            and centre.covers(parent.scope_path)
        ):
            self._act(case, centre, "merge", parent_code=parent.code)
        else:
            self._act(case, centre, "cancel", reason="与已办结事件重复，予以作废")

    def _escalate(self, case: Case) -> Life:
        """网格发现 → 社区呼叫 → 街道 → 区: beyond the community, then the street."""
        yield self._after(case, 10, 60)
        worker = self.cast.grid_workers[case.grid]
        self._act(case, worker, "escalate", reason="涉及多个产权单位，社区无法协调，上报街道")
        yield self._after(case, 20, 180)
        self._act(case, self._centre(case), "escalate", reason="需区级部门联合处置，上报区")

    def _whistle(self, case: Case) -> Life:
        """街道吹哨、部门报到: most within 30 minutes, some late."""
        yield self._after(case, 10, 60)
        centre = self._centre(case)
        serving = [
            d
            for d in self.cast.departments_for(self._event(case).scope_path)
            if d.level != "municipal"
        ] or self.cast.departments_for(self._event(case).scope_path)
        right = self._route(case)
        others = [d for d in serving if d.id != right.id]
        summoned = [right, *case.rng.sample(others, k=min(len(others), case.rng.randint(1, 2)))]
        kind = case.rng.choices(list(WhistleType), [60, 30, 10])[0]
        self._act(
            case,
            centre,
            "whistle",
            whistle_type=kind,
            department_ids=[d.id for d in summoned],
            reason="多部门职责交叉，街道吹哨召集",
        )
        case.summoned = summoned
        whistled = self.now
        offsets = sorted(
            (case.rng.uniform(5, 28) if case.rng.random() < 0.8 else case.rng.uniform(31, 90), d.id)
            for d in summoned
        )
        for minutes, dep_id in offsets:
            yield whistled + timedelta(minutes=minutes)
            self._act(case, self.cast.handlers[dep_id], "checkin")
        case.lead = right

    def _dispatch(self, case: Case) -> Life:
        yield self._after(case, 10, 120)
        centre = self._centre(case)
        right = case.lead or self._route(case)
        if case.path == "assist":
            helper = self._route(case, avoid=right)
            case.assist = helper if helper.id != right.id else None
        if case.path == "returned":
            wrong = self._route(case, avoid=right)
            self._act(case, centre, "dispatch", lead_department_id=wrong.id)
            yield self._after(case, 15, 180)
            self._act(
                case, self.cast.handlers[wrong.id], "return", reason=case.rng.choice(RETURN_REASONS)
            )
            yield self._after(case, 20, 240)
            if case.nth % 2 == 0:  # re-dispatched to the right unit, else ruled final
                self._act(case, centre, "dispatch", lead_department_id=right.id)
                case.lead = right
            else:
                self._act(
                    case,
                    centre,
                    "rule_final",
                    lead_department_id=wrong.id,
                    reason="经中心审定，该事项属于该单位职责，须予办理",
                )
                case.lead = wrong
            return
        self._act(
            case,
            centre,
            "dispatch",
            lead_department_id=right.id,
            assist_department_ids=[case.assist.id] if case.assist else [],
        )
        case.lead = right

    def _handle(self, case: Case) -> Life:
        assert case.lead is not None
        rng, handler = case.rng, self.cast.handlers[case.lead.id]
        event = self._event(case)
        sign_minutes = ((event.sign_deadline or self.now) - self.now).total_seconds() / 60
        if rng.random() < 0.1:  # signed late
            yield self._after(case, sign_minutes * 1.1, sign_minutes * 3)
        else:
            yield self._after(case, 2, max(3.0, sign_minutes * 0.8))
        self._act(case, handler, "sign")
        yield self._after(case, 5, 120)
        self._act(case, handler, "start")
        if case.assist is not None and not case.reopened:
            yield self._after(case, 60, 12 * 60)
            helper = self.cast.handlers[case.assist.id]
            self._act(case, helper, "assist_reply", reply="已派员配合完成现场处置")
        refused = False
        due = self._event(case).finish_deadline
        if (
            case.path == "extension"
            and not case.reopened
            and due
            and due > self.now + timedelta(minutes=30)
        ):
            yield self.now + (due - self.now) * rng.uniform(0.3, 0.7)
            self._act(
                case,
                handler,
                "request_extension",
                working_days=rng.randint(2, 5),
                reason="需等待配件到货，申请延期",
            )
            yield self._after(case, 30, 6 * 60)
            approve = case.nth % 4 != 2  # three in four approved
            self._act(case, self._centre(case), "decide_extension", approve=approve)
            refused = not approve
        yield self._reply_time(case, refused=refused)
        self._act(case, handler, "reply", reply=rng.choice(REPLIES))

    def _reply_time(self, case: Case, *, refused: bool) -> datetime:
        rng, event = case.rng, self._event(case)
        due = event.finish_deadline or self.now + timedelta(days=3)
        if case.path == "stall" and not case.reopened:
            # left lying: red, supervised, escalated, finally done (or still open today)
            return due + timedelta(days=rng.uniform(2, 25))
        if (case.path == "late" and not case.reopened) or (refused and rng.random() < 0.5):
            return due + timedelta(hours=rng.uniform(1, 48))
        soon = self.now + timedelta(minutes=5)
        return max(soon, self.now + (due - self.now) * rng.uniform(0.15, 0.95))

    def _verify_and_close(self, case: Case) -> Life:
        rng = case.rng
        worker = self.cast.grid_workers.get(self._event(case).grid_code or "")
        yield self._after(case, 60, 20 * 60)
        checker = worker if worker and rng.random() < 0.7 else self._centre(case)
        if case.path == "rework" and not case.reopened:
            self._act(case, checker, "rework", reason="现场核查未整改到位，退回返工")
            yield self._after(case, 4 * 60, 2 * 24 * 60)
            assert case.lead is not None
            self._act(case, self.cast.handlers[case.lead.id], "reply", reply="已返工整改完毕。")
            yield self._after(case, 60, 20 * 60)
        self._act(case, checker, "verify")
        yield self._after(case, 10, 8 * 60)
        self._act(case, self._centre(case), "close")
        for dep in case.summoned:
            yield self._after(case, 5, 60)
            self._act(
                case,
                self._centre(case),
                "rate_checkin",
                department_id=dep.id,
                score=rng.choices([5, 4, 3, 2], [50, 30, 15, 5])[0],
                reason="到场及时，配合积极" if rng.random() < 0.8 else "到场较晚",
            )
        case.summoned = []

    def _rate(self, case: Case) -> Generator[datetime, None, bool]:
        """回访; True when a dissatisfied rating sent the event back to its unit (重办)."""
        rng = case.rng
        asked = case.channel in (Channel.hotline_12345, Channel.resident, Channel.open311)
        if case.path != "reopen" and rng.random() > (0.92 if asked else 0.35):
            return False
        yield self._after(case, 60, 3 * 24 * 60)
        if case.path == "reopen" and not case.reopened:
            rating = Rating.dissatisfied
        else:
            rating = rng.choices(list(Rating), [72, 22, 6 if not case.reopened else 0])[0]
        fields: dict[str, Any] = {"rating": rating}
        if case.channel in (Channel.resident, Channel.open311) and self.cast.residents:
            actor = rng.choice(self.cast.residents)
        else:
            actor = self._centre(case)
            fields.update(contacted=True, resolved=rating is not Rating.dissatisfied)
        if rating is Rating.dissatisfied:
            fields["rating_comment"] = "问题反复出现，并未真正解决"
        self._act(case, actor, "rate", **fields)
        if rating is Rating.dissatisfied:
            case.reopened = True
            return True
        return False


# --------------------------------------------------------------------------------------------


def has_events(session: Session) -> bool:
    return session.scalar(select(Event.id).limit(1)) is not None


def simulate(
    session: Session,
    settings: Settings,
    *,
    seed: int,
    days: int = 90,
    per_day: int = EVENTS_PER_DAY,
    now: datetime | None = None,
) -> SimulationReport:
    """Replay `days` days up to `now` in the caller's transaction (flushed day by day)."""
    cast = _load_cast(session, seed)
    if not cast.grids or not cast.departments:
        raise ValueError("the city has no staffed grids or departments to simulate")
    sim = Simulation(
        session, settings, cast, seed=seed, days=days, per_day=per_day, end=now or utcnow()
    )
    report = sim.run()
    report.by_status = {
        status: int(n)
        for status, n in session.execute(
            select(Event.status, func.count()).group_by(Event.status).order_by(Event.status)
        )
    }
    return report
