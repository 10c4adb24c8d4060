"""A fixed, hand-built data set for the metrics tests: March 2025 (China time), two departments
in district A (甲区城管局 = world.dep_a, 甲区水务局 = dep_c), events in street A, one in the
other street of district A (street A2) and one in street B (district B).

Every timestamp is set explicitly through `now=` of `service.apply_transition`. Deadlines use
the default rule (sign within 2 h, finish within 5 working days; no holidays in March 2025).

| event | where    | lead  | story (2025, China time)                                              |
|-------|----------|-------|-----------------------------------------------------------------------|
| E1    | street A | A     | dispatched 03-01 00:00 (= period start), signed +1 h, replied 03-03, |
|       |          |       | closed; rated satisfied 03-04                                         |
| E2    | street A | A     | dispatched 03-03 09:00, signed +0.5 h, replied 03-12 (deadline 03-10: |
|       |          |       | late), closed; rated basically satisfied 03-14                        |
| E3    | street A | A     | dispatched 03-05, signed, replied, rework 03-07, replied, closed;     |
|       |          |       | rated dissatisfied 03-20 10:00 → 重办: re-dispatched to A 03-20 10:00 |
|       |          |       | (clock restarts, deadline 03-27 10:00), still open                    |
| E4    | street A | A → C | dispatched to A 03-12, returned by A 03-12, dispatched to C 03-13,    |
|       |          |       | signed, replied 03-14, closed; rated satisfied 03-15                  |
| E5    | street A | A     | dispatched 03-14 09:00, signed 15:00 (deadline 11:00: late), open     |
|       |          |       | (deadline 03-21 09:00)                                                |
| E6    | street A | A     | dispatched 03-20, cancelled 03-21                                     |
| E7    | street A | A     | dispatched 02-26 (before the period), closed 02-28; rated satisfied   |
|       |          |       | 03-02 (a callback inside the period)                                  |
| E8    | street A | A     | dispatched 04-01 00:00 (= period end, excluded)                       |
| E9    | street A | C     | dispatched 03-25, signed, replied 03-26, closed; rated basically      |
|       |          |       | satisfied 03-27, caller NOT contacted, not resolved                   |
| E11   | street A | A     | dispatched 03-10, signed, replied 03-11, closed; rated satisfied      |
|       |          |       | 03-12, contacted, NOT resolved                                        |
| E12   | street A2| A     | dispatched 03-05, signed, replied 03-06, closed; rated satisfied 03-07|
| E13   | street B | B     | dispatched 03-05 09:00, never signed (deadline 03-12 09:00)           |

The world's own two events are dispatched at the real "now" (2026), outside every period used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shiyu.auth.access import Actor
from shiyu.auth.models import Department
from shiyu.auth.service import actor_for
from shiyu.config import Settings
from shiyu.events import service
from shiyu.events.models import Event
from shiyu.events.schemas import ActionIn
from tests.factories.auth import create_department, create_user
from tests.factories.events import actor_of, create_event
from tests.factories.world import World

CST = ZoneInfo("Asia/Shanghai")
FROM = datetime(2025, 3, 1, tzinfo=CST)
TO = datetime(2025, 4, 1, tzinfo=CST)
PERIOD = {"from": "2025-03-01", "to": "2025-04-01"}


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=CST)


@dataclass
class DataSet:
    world: World
    dep_c: Department
    street_a2: str
    events: dict[str, Event] = field(default_factory=dict)


class _Builder:
    def __init__(self, session: Session, settings: Settings, world: World) -> None:
        self.session, self.settings, self.world = session, settings, world
        district_a = world.dep_a.area_code
        self.dep_c = create_department(session, code="DC", area_code=district_a, name="甲区水务局")
        centre = create_user(
            session, username="centre_a", roles=["dispatcher"], jurisdiction_code=district_a
        )
        handler_c = create_user(
            session,
            username="handler_c",
            roles=["department_handler"],
            jurisdiction_code=district_a,
            department=self.dep_c,
        )
        self.centre = actor_for(centre, "district")
        self.handler = {
            world.dep_a.id: actor_of(world, "department_handler"),
            self.dep_c.id: actor_for(handler_c, "district"),
        }
        assert world.user_b is not None
        self.centre_b = actor_for(world.user_b, "street")

    def step(self, event: Event, actor: Actor, action: str, when: datetime, **kw: Any) -> None:
        service.apply_transition(
            self.session, self.settings, event, actor, ActionIn(action=action, **kw), now=when
        )

    def new(self, when: datetime, grid: str | None = None) -> Event:
        lng, lat = self.world.city.centres[grid or self.world.grid_a]
        return create_event(
            self.session,
            self.settings,
            self.world,
            lng=lng,
            lat=lat,
            reported_at=when - timedelta(hours=1),
        )

    def dispatch(self, when: datetime, dep_id: int, *, grid: str | None = None) -> Event:
        event = self.new(when, grid)
        centre = self.centre_b if grid == self.world.grid_b else self.centre
        self.step(event, centre, "accept", when - timedelta(minutes=30))
        self.step(event, centre, "dispatch", when, lead_department_id=dep_id)
        return event

    def sign(self, event: Event, when: datetime) -> None:
        assert event.lead_department_id is not None
        self.step(event, self.handler[event.lead_department_id], "sign", when)

    def reply(self, event: Event, when: datetime) -> None:
        assert event.lead_department_id is not None
        self.step(event, self.handler[event.lead_department_id], "reply", when, reply="已处理")

    def close(self, event: Event, when: datetime) -> None:
        self.step(event, self.centre, "verify", when)
        self.step(event, self.centre, "close", when + timedelta(minutes=10))

    def rate(self, event: Event, when: datetime, rating: str, **kw: Any) -> None:
        self.step(event, self.centre, "rate", when, rating=rating, **kw)

    def finished(
        self, dispatched: datetime, dep_id: int, replied: datetime, *, grid: str | None = None
    ) -> Event:
        """Dispatched, signed an hour later, replied at `replied`, verified and closed."""
        event = self.dispatch(dispatched, dep_id, grid=grid)
        self.sign(event, dispatched + timedelta(hours=1))
        self.reply(event, replied)
        self.close(event, replied + timedelta(hours=1))
        return event


def build(session: Session, settings: Settings, world: World) -> DataSet:
    b = _Builder(session, settings, world)
    dep_a, dep_c = world.dep_a.id, b.dep_c.id
    street_a2 = world.city.streets[1]
    grid_a2 = next(g for g in world.city.grids if g.startswith(street_a2[:9]))
    ev: dict[str, Event] = {}

    ev["E1"] = b.finished(FROM, dep_a, at(3, 3, 10))
    b.rate(ev["E1"], at(3, 4), "satisfied")

    e2 = ev["E2"] = b.dispatch(at(3, 3), dep_a)
    b.sign(e2, at(3, 3, 9, 30))
    assert e2.finish_deadline == at(3, 10)
    b.reply(e2, at(3, 12))
    b.close(e2, at(3, 13))
    b.rate(e2, at(3, 14), "basically_satisfied")

    e3 = ev["E3"] = b.dispatch(at(3, 5), dep_a)
    b.sign(e3, at(3, 5, 10))
    b.reply(e3, at(3, 6))
    b.step(e3, b.centre, "rework", at(3, 7), reason="现场未整改到位")
    b.reply(e3, at(3, 10))
    b.close(e3, at(3, 11))
    b.rate(e3, at(3, 20, 10), "dissatisfied")
    assert e3.status == "dispatched" and e3.dispatched_at == at(3, 20, 10)
    assert e3.finish_deadline == at(3, 27, 10)

    e4 = ev["E4"] = b.dispatch(at(3, 12), dep_a)
    b.step(e4, b.handler[dep_a], "return", at(3, 12, 10), reason="不属于本单位职责")
    b.step(e4, b.centre, "dispatch", at(3, 13), lead_department_id=dep_c)
    b.sign(e4, at(3, 13, 10))
    b.reply(e4, at(3, 14))
    b.close(e4, at(3, 14, 12))
    b.rate(e4, at(3, 15), "satisfied")

    e5 = ev["E5"] = b.dispatch(at(3, 14), dep_a)
    b.sign(e5, at(3, 14, 15))
    assert e5.signed_on_time is False and e5.finish_deadline == at(3, 21)

    e6 = ev["E6"] = b.dispatch(at(3, 20), dep_a)
    b.step(e6, b.centre, "cancel", at(3, 21), reason="重复上报")

    ev["E7"] = b.finished(at(2, 26), dep_a, at(2, 27))
    b.rate(ev["E7"], at(3, 2, 10), "satisfied")

    ev["E8"] = b.dispatch(TO, dep_a)

    ev["E9"] = b.finished(at(3, 25), dep_c, at(3, 26))
    b.rate(ev["E9"], at(3, 27), "basically_satisfied", contacted=False, resolved=False)

    ev["E11"] = b.finished(at(3, 10), dep_a, at(3, 11))
    b.rate(ev["E11"], at(3, 12), "satisfied", resolved=False)

    ev["E12"] = b.finished(at(3, 5), dep_a, at(3, 6), grid=grid_a2)
    b.rate(ev["E12"], at(3, 7), "satisfied")

    ev["E13"] = b.dispatch(at(3, 5), world.dep_b.id, grid=world.grid_b)

    session.commit()
    return DataSet(world=world, dep_c=b.dep_c, street_a2=street_a2, events=ev)
