"""`users_at`: who is told about a unit's events (cached per process for every unit at once)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shiyu.notifications.service import users_at
from tests.factories.auth import create_user
from tests.factories.world import World

DISPATCHER = ["dispatcher"]


def test_the_users_of_one_unit_with_the_roles(session: Session, world: World) -> None:
    dispatcher, other = world.users["dispatcher"], world.user_b
    assert other is not None
    assert users_at(session, world.street_a, DISPATCHER) == [dispatcher.id]  # uncommitted
    session.commit()
    # from the cache of every unit: each unit still gets only its own users
    assert users_at(session, world.street_a, DISPATCHER) == [dispatcher.id]
    assert users_at(session, world.street_b, DISPATCHER) == [other.id]
    assert users_at(session, world.street_a, ["grid_worker"]) == []
    assert users_at(session, world.grid_a, ["grid_worker"]) == [world.users["grid_worker"].id]


def test_a_transaction_sees_its_own_changes(session: Session, world: World) -> None:
    session.commit()
    assert users_at(session, world.street_a, DISPATCHER) == [world.users["dispatcher"].id]
    second = create_user(
        session, username="dispatcher_a2", roles=["dispatcher"], jurisdiction_code=world.street_a
    )
    world.users["dispatcher"].is_active = False
    assert users_at(session, world.street_a, DISPATCHER) == [second.id]
    session.commit()  # this process's commit clears the cache
    assert users_at(session, world.street_a, DISPATCHER) == [second.id]
