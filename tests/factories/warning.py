"""Hand-checkable daily series for surge tests, written through the events service.

Judged day D = 2025-03-29 (China Standard Time); its baseline is the 28 days before it.

- surge grid (street A, community 1), SJ0501 占道经营 (→ SJ05): 1 a day (mean 1, var 0), then 9
  on D → surge, Poisson(1) P(X ≥ 9) ≈ 1.1e-6.
- noisy grid (street A, community 2), SJ0101 暴露垃圾 (→ SJ01): 0, 6, 0, 6 … (mean 3,
  var 9.33), then 7 on D → no surge, negative binomial P(X ≥ 7) ≈ 0.12.
- quiet grid (street A, community 2), SJ0201 非法小广告 (→ SJ02): nothing, then 4 on D → no
  surge, 4 < min_count 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shiyu.config import Settings
from shiyu.events import service
from shiyu.events.enums import Channel
from shiyu.events.schemas import IntakeData
from tests.factories.world import World

DAY = date(2025, 3, 29)
CST = ZoneInfo("Asia/Shanghai")


@dataclass
class Series:
    surge_grid: str
    noisy_grid: str
    quiet_grid: str


def grids_of_street(world: World, street: str) -> list[str]:
    return [g for g in world.city.grids if g.startswith(street[:9])]


def add_events(
    session: Session,
    settings: Settings,
    world: World,
    *,
    grid: str,
    day: date,
    n: int,
    category: str,
    title: str = "占道经营",
    phone: str | None = None,
) -> None:
    lng, lat = world.city.centres[grid]
    for k in range(n):
        at = datetime.combine(day, time(9, 0), tzinfo=CST) + timedelta(minutes=k)
        service.create(
            session,
            settings,
            IntakeData(
                channel=Channel.grid_patrol,
                title=title,
                description=f"{title}，第{k + 1}起",
                category_code=category,
                lng=lng,
                lat=lat,
                reported_at=at,
                reporter_phone=phone,
            ),
            actor=None,
        )


def create_series(session: Session, settings: Settings, world: World) -> Series:
    grids = grids_of_street(world, world.street_a)
    surge, noisy, quiet = grids[0], grids[2], grids[3]
    for back in range(1, 29):
        day = DAY - timedelta(days=back)
        add_events(session, settings, world, grid=surge, day=day, n=1, category="SJ0501")
        add_events(
            session,
            settings,
            world,
            grid=noisy,
            day=day,
            n=6 if back % 2 else 0,
            category="SJ0101",
            title="暴露垃圾",
        )
    add_events(session, settings, world, grid=surge, day=DAY, n=9, category="SJ0501")
    add_events(
        session, settings, world, grid=noisy, day=DAY, n=7, category="SJ0101", title="暴露垃圾"
    )
    add_events(
        session, settings, world, grid=quiet, day=DAY, n=4, category="SJ0201", title="非法小广告"
    )
    session.flush()
    return Series(surge, noisy, quiet)
