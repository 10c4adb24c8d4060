from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shiyu.auth.access import Actor
from shiyu.auth.service import actor_for
from shiyu.config import Settings
from shiyu.events import service
from shiyu.events.enums import Channel
from shiyu.events.models import Event
from shiyu.events.schemas import ActionIn, IntakeData
from tests.factories.world import World

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def actor_of(world: World, role: str) -> Actor:
    user = world.users[role]
    level = {
        "grid_worker": "grid",
        "resident": "grid",
        "department_handler": "district",
        "admin": "district",
    }.get(role, "street")
    return actor_for(user, level)


def create_event(session: Session, settings: Settings, world: World, **overrides: Any) -> Event:
    lng, lat = world.city.centres[world.grid_a]
    data: dict[str, Any] = {
        "channel": Channel.grid_patrol,
        "title": "人行道井盖缺失",
        "description": "解放路与和平路交叉口东侧人行道井盖缺失，行人易跌落",
        "lng": lng,
        "lat": lat,
        "address": "解放路和平路口",
        "reporter_name": "张三",
        "reporter_phone": "13800138000",
        "category_code": "BJ0101",
    }
    data.update(overrides)
    event, _ = service.create(session, settings, IntakeData(**data), actor=None)
    session.flush()
    return event


def act(
    session: Session, settings: Settings, event: Event, actor: Actor, action: str, **fields: Any
) -> Event:
    return service.apply_transition(
        session, settings, event, actor, ActionIn(action=action, **fields)
    )
