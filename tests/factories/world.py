"""A tiny city with one user per role, all in street A (or a grid of it), plus a second street
B with its own dispatcher, so tests can check both what a role may do and where."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import httpx
from sqlalchemy.orm import Session

from shiyu.auth.models import Department, User
from shiyu.config import Settings
from shiyu.events.models import Event
from tests.factories.auth import create_department, create_user, login
from tests.factories.jurisdiction import CITY, TinyCity, create_tiny_city

ROLES = [
    "resident",
    "grid_worker",
    "dispatcher",
    "department_handler",
    "supervisor",
    "leader",
    "mediator",
    "admin",
]


@dataclass
class World:
    city: TinyCity
    street_a: str
    street_b: str
    grid_a: str
    grid_b: str
    dep_a: Department
    dep_b: Department
    #: role -> user in street A (department handler and admin: district A)
    users: dict[str, User] = field(default_factory=dict)
    user_b: User | None = None
    city_admin: User | None = None
    #: an event in street A dispatched to department A (with one photo), one in street B
    event_a: Event | None = None
    event_b: Event | None = None
    photo_id: int | None = None
    photo_b_id: int | None = None

    def headers(self, client: httpx.Client, role: str) -> dict[str, str]:
        return login(client, self.users[role].username)


def create_world(session: Session, settings: Settings) -> World:
    city = create_tiny_city(session)
    street_a, street_b = city.streets[0], city.streets[2]  # different districts
    grid_a = next(g for g in city.grids if g.startswith(street_a[:9]))
    grid_b = next(g for g in city.grids if g.startswith(street_b[:9]))
    dep_a = create_department(session, code="DA", area_code=city.districts[0], name="甲区城管局")
    dep_b = create_department(session, code="DB", area_code=city.districts[1], name="乙区城管局")
    world = World(city, street_a, street_b, grid_a, grid_b, dep_a, dep_b)
    for role in ROLES:
        # the department handler and the admin sit on district A (departments serve districts)
        where = {"grid_worker": grid_a, "resident": grid_a}.get(role, street_a)
        if role in ("department_handler", "admin"):
            where = dep_a.area_code
        world.users[role] = create_user(
            session,
            username=f"{role}_a",
            roles=[role],
            jurisdiction_code=where,
            department=dep_a if role == "department_handler" else None,
        )
    world.user_b = create_user(
        session, username="dispatcher_b", roles=["dispatcher"], jurisdiction_code=street_b
    )
    world.city_admin = create_user(
        session, username="city_admin", roles=["admin"], jurisdiction_code=CITY
    )
    _add_events(session, settings, world)
    session.commit()
    return world


def _add_events(session: Session, settings: Settings, world: World) -> None:
    from shiyu.auth.access import system_actor
    from shiyu.events import attachments, service
    from shiyu.events.enums import AttachmentKind, Channel
    from shiyu.events.schemas import ActionIn, IntakeData

    system = system_actor()
    system = replace(system, roles=frozenset({"dispatcher"}))
    for grid, dep, attr in (
        (world.grid_a, world.dep_a, "event_a"),
        (world.grid_b, world.dep_b, "event_b"),
    ):
        lng, lat = world.city.centres[grid]
        event, _ = service.create(
            session,
            settings,
            IntakeData(
                channel=Channel.grid_patrol,
                title="占道经营",
                lng=lng,
                lat=lat,
                reporter_phone="13900000000",
            ),
            actor=None,
        )
        service.apply_transition(session, settings, event, system, ActionIn(action="accept"))
        service.apply_transition(
            session,
            settings,
            event,
            system,
            ActionIn(action="dispatch", lead_department_id=dep.id),
        )
        setattr(world, attr, event)
    for attr, event in (("photo_id", world.event_a), ("photo_b_id", world.event_b)):
        assert event is not None
        photo = attachments.add(
            session,
            settings,
            None,
            event,
            kind=AttachmentKind.photo,
            filename="a.png",
            data=b"\x89PNG\r\n\x1a\n" + b"\x00" * 32,
        )
        setattr(world, attr, photo.id)
