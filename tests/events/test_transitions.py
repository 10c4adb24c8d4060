"""Every lifecycle action from every status: allowed pairs succeed (with the preconditions
their guards need), every other pair answers 409 with the actions that are allowed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from shiyu.auth.access import Actor
from shiyu.config import Settings
from shiyu.errors import Forbidden
from shiyu.events import attachments, service
from shiyu.events.enums import AttachmentKind, Status
from shiyu.events.models import Assignment, Event, Extension, Whistle, WhistleCall
from shiyu.events.transitions import TABLE, allowed_actions
from shiyu.kit.clock import utcnow
from tests.factories.events import JPEG, act, actor_of, create_event
from tests.factories.world import World

Setup = Callable[[Session, Settings, World, Event], dict[str, Any]]


def _lead(session: Session, world: World, event: Event) -> None:
    event.lead_department_id = world.dep_a.id
    session.add(Assignment(event_id=event.id, department_id=world.dep_a.id, role="lead"))
    session.flush()


def _merge(session: Session, settings: Settings, world: World, event: Event) -> dict[str, Any]:
    main = create_event(session, settings, world, title="主单")
    return {"parent_code": main.code}


def _handler(session: Session, settings: Settings, world: World, event: Event) -> dict[str, Any]:
    _lead(session, world, event)
    return {}


def _assist(session: Session, settings: Settings, world: World, event: Event) -> dict[str, Any]:
    session.add(Assignment(event_id=event.id, department_id=world.dep_a.id, role="assist"))
    session.flush()
    return {"reply": "已配合清理"}


def _photos(session: Session, settings: Settings, world: World, event: Event) -> dict[str, Any]:
    for kind in (AttachmentKind.before, AttachmentKind.after):
        attachments.add(session, settings, None, event, kind=kind, filename="x.jpg", data=JPEG)
    return {}


def _extension(session: Session, settings: Settings, world: World, event: Event) -> dict[str, Any]:
    session.add(Extension(event_id=event.id, working_days=2, reason="需协调"))
    session.flush()
    return {"approve": True}


def _call(session: Session, settings: Settings, world: World, event: Event) -> dict[str, Any]:
    whistle = Whistle(event_id=event.id, street_code=world.street_a, type="daily", reason="r")
    session.add(whistle)
    session.flush()
    session.add(
        WhistleCall(
            whistle_id=whistle.id,
            department_id=world.dep_a.id,
            checkin_deadline=utcnow() + timedelta(minutes=30),
        )
    )
    session.flush()
    return {"department_id": world.dep_a.id, "score": 5}


# action -> (role acting, extra fields, setup)
CASES: dict[str, tuple[str, dict[str, Any], Setup | None]] = {
    "accept": ("dispatcher", {}, None),
    "reject": ("dispatcher", {"reason": "不属于受理范围"}, None),
    "merge": ("dispatcher", {}, _merge),
    "dispatch": ("dispatcher", {"lead_department_id": "dep_a"}, None),
    "rule_final": ("dispatcher", {"reason": "属于该部门职责", "lead_department_id": "dep_a"}, None),
    "return": ("department_handler", {"reason": "不属于本部门职责"}, _handler),
    "sign": ("department_handler", {}, _handler),
    "start": ("department_handler", {}, _handler),
    "assist_reply": ("department_handler", {}, _assist),
    "reply": ("department_handler", {"reply": "已处理完毕"}, _handler),
    "verify": ("dispatcher", {}, None),
    "rework": ("grid_worker", {"reason": "现场仍有垃圾"}, None),
    "self_resolve": ("grid_worker", {}, _photos),
    "reject_self_resolution": ("dispatcher", {"reason": "未处理到位"}, None),
    "close": ("dispatcher", {}, None),
    "rate": ("dispatcher", {"rating": "satisfied"}, None),
    "suspend": ("dispatcher", {"reason": "需纳入年度计划"}, None),
    "resume": ("dispatcher", {}, None),
    "cancel": ("dispatcher", {"reason": "重复录入"}, None),
    "escalate": ("dispatcher", {"reason": "社区无法解决"}, None),
    "request_extension": (
        "department_handler",
        {"reason": "需采购配件", "working_days": 3},
        _handler,
    ),
    "decide_extension": ("dispatcher", {}, _extension),
    "whistle": (
        "dispatcher",
        {"reason": "需执法部门到场", "whistle_type": "tough", "department_ids": ["dep_a"]},
        None,
    ),
    "checkin": ("department_handler", {}, _call),
    "rate_checkin": ("dispatcher", {"reason": "到场及时"}, _call),
}


def test_every_action_has_a_case() -> None:
    assert CASES.keys() == TABLE.keys()


def _fields(world: World, fields: dict[str, Any]) -> dict[str, Any]:
    def resolve(v: Any) -> Any:
        if v == "dep_a":
            return world.dep_a.id
        if isinstance(v, list):
            return [resolve(x) for x in v]
        return v

    return {k: resolve(v) for k, v in fields.items()}


def _event_in(session: Session, settings: Settings, world: World, status: Status) -> Event:
    event = create_event(session, settings, world)
    event.status = status.value
    if status in (Status.dispatched, Status.signed, Status.handling):
        event.dispatched_at = utcnow()
        event.finish_deadline = utcnow() + timedelta(days=3)
    session.flush()
    return event


@pytest.mark.parametrize("action", sorted(TABLE))
def test_action_from_every_status(
    session: Session, settings: Settings, world: World, action: str
) -> None:
    transition = TABLE[action]
    role, fields, setup = CASES[action]
    actor: Actor = actor_of(world, role)
    for status in Status:
        nested = session.begin_nested()
        try:
            event = _event_in(session, settings, world, status)
            extra = setup(session, settings, world, event) if setup else {}
            payload = {**_fields(world, fields), **extra}
            if status in transition.sources:
                act(session, settings, event, actor, action, **payload)
                expected = transition.target.value if transition.target else status.value
                assert event.status == expected, (action, status)
                assert service.repository.timeline(session, event.id)[-1].action == action
            else:
                with pytest.raises(service.TransitionNotAllowed) as info:
                    act(session, settings, event, actor, action, **payload)
                assert info.value.status_code == 409
                assert info.value.details[0]["allowed_actions"] == allowed_actions(
                    status.value, actor.roles
                )
                assert event.status == status.value
        finally:
            nested.rollback()


@pytest.mark.parametrize("action", sorted(TABLE))
def test_roles_outside_the_table_are_refused(
    session: Session, settings: Settings, world: World, action: str
) -> None:
    transition = TABLE[action]
    status = sorted(transition.sources)[0]
    event = _event_in(session, settings, world, Status(status))
    for role in (
        "supervisor",
        "leader",
        "mediator",
        "grid_worker",
        "department_handler",
        "dispatcher",
    ):
        if role in transition.roles:
            continue
        with pytest.raises(Forbidden):
            act(session, settings, event, actor_of(world, role), action, reason="x")
    assert event.status == status


def test_reason_is_required_where_the_table_says(
    session: Session, settings: Settings, world: World
) -> None:
    event = create_event(session, settings, world)
    with pytest.raises(service.InvalidInput) as info:
        act(session, settings, event, actor_of(world, "dispatcher"), "reject")
    assert info.value.details[0]["loc"] == ["body", "reason"]
    assert event.status == "reported"
