"""Which departments an actor may dispatch to: the check on one loaded department
(`repository.readable`, used on every dispatch) agrees with the query that lists them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.auth import repository
from shiyu.auth.models import Department
from tests.factories.events import actor_of
from tests.factories.world import World


def test_one_department_check_agrees_with_the_list_query(session: Session, world: World) -> None:
    departments = session.scalars(select(Department)).all()
    assert len(departments) >= 2
    seen: set[bool] = set()
    for role in world.users:
        actor = actor_of(world, role)
        listed = {d.id for d in session.scalars(repository.departments_readable_by(actor))}
        for department in departments:
            verdict = repository.readable(actor, department)
            assert verdict == (department.id in listed), (role, department.code)
            got = repository.get_readable_department(session, actor, department.id)
            assert (got is not None) == verdict
            seen.add(verdict)
    assert seen == {True, False}  # the world has departments in and out of some actor's reach
    assert repository.get_readable_department(session, actor_of(world, "dispatcher"), 10**9) is None
