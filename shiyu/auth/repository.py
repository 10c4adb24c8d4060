from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, delete, func, or_, select
from sqlalchemy.orm import Session, selectinload

from shiyu.auth.access import Actor
from shiyu.auth.models import Department, LoginFailure, Role, User, user_roles
from shiyu.jurisdiction.models import Jurisdiction
from shiyu.kit.paths import within


def _user_loads(stmt: Select[User]) -> Select[User]:
    return stmt.options(selectinload(User.roles), selectinload(User.department))


def users_readable_by(actor: Actor) -> Select[User]:
    return select(User).where(within(User.jurisdiction_path, actor.scope_path))


def get_user(session: Session, user_id: int) -> User | None:
    return session.scalars(_user_loads(select(User).where(User.id == user_id))).first()


@dataclass(frozen=True, slots=True)
class ActorRow:
    user_id: int
    username: str
    display_name: str
    jurisdiction_code: str
    jurisdiction_path: str
    department_id: int | None
    is_active: bool
    token_version: int
    level: str
    roles: tuple[tuple[str, bool, tuple[str, ...]], ...]


# Built once: statement construction costs more than running these indexed look-ups.
_ACTOR_USER = (
    select(
        User.id,
        User.username,
        User.display_name,
        User.jurisdiction_code,
        User.jurisdiction_path,
        User.department_id,
        User.is_active,
        User.token_version,
        Jurisdiction.level,
    )
    .join(Jurisdiction, Jurisdiction.code == User.jurisdiction_code)
    .where(User.id == bindparam("uid"))
)
_ACTOR_ROLES = (
    select(Role.code, Role.builtin, Role.permissions)
    .join(user_roles, user_roles.c.role_code == Role.code)
    .where(user_roles.c.user_id == bindparam("uid"))
)


def actor_row(session: Session, user_id: int) -> ActorRow | None:
    """What every authenticated request needs: two small Core queries on the session's
    connection (no ORM objects, no statement building; this runs on every request)."""
    conn = session.connection()
    row = conn.execute(_ACTOR_USER, {"uid": user_id}).first()
    if row is None:
        return None
    roles = conn.execute(_ACTOR_ROLES, {"uid": user_id}).all()
    return ActorRow(
        *row,
        roles=tuple((code, bool(builtin), tuple(perms or ())) for code, builtin, perms in roles),
    )


def get_readable_user(session: Session, actor: Actor, user_id: int) -> User | None:
    return session.scalars(_user_loads(users_readable_by(actor).where(User.id == user_id))).first()


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.scalars(_user_loads(select(User).where(User.username == username))).first()


def page_users(
    session: Session,
    actor: Actor,
    *,
    role: str | None,
    jurisdiction_path: str | None,
    q: str | None,
    page: int,
    size: int,
) -> tuple[Sequence[User], int]:
    stmt = users_readable_by(actor)
    if role:
        stmt = stmt.where(User.roles.any(Role.code == role))
    if jurisdiction_path:
        stmt = stmt.where(within(User.jurisdiction_path, jurisdiction_path))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.username.like(like), User.display_name.like(like)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        _user_loads(stmt.order_by(User.id).offset((page - 1) * size).limit(size))
    ).all()
    return rows, total


def departments_readable_by(actor: Actor) -> Select[Department]:
    """Departments serving an area that contains the actor's jurisdiction (those the actor
    works with) or that lies inside it (those the actor oversees)."""
    return select(Department).where(
        or_(
            within(Department.area_path, actor.scope_path),
            func.substr(actor.scope_path, 1, func.length(Department.area_path))
            == Department.area_path,
        )
    )


def readable(actor: Actor, department: Department) -> bool:
    """`departments_readable_by` for one department already loaded."""
    area, scope = department.area_path, actor.scope_path
    return area.startswith(scope) or scope.startswith(area)


def get_readable_department(session: Session, actor: Actor, dep_id: int) -> Department | None:
    # by primary key: no query when the session holds it already (a batch of dispatches
    # asks for the same few departments again and again)
    department = session.get(Department, dep_id)
    return department if department is not None and readable(actor, department) else None


def get_department(session: Session, dep_id: int) -> Department | None:
    return session.get(Department, dep_id)


def department_by_code(session: Session, code: str) -> Department | None:
    return session.scalars(select(Department).where(Department.code == code)).first()


def list_departments(session: Session, actor: Actor) -> Sequence[Department]:
    return session.scalars(departments_readable_by(actor).order_by(Department.code)).all()


def roles(session: Session, codes: Sequence[str] | None = None) -> Sequence[Role]:
    stmt = select(Role).order_by(Role.builtin.desc(), Role.code)
    if codes is not None:
        stmt = stmt.where(Role.code.in_(codes))
    return session.scalars(stmt).all()


def get_role(session: Session, code: str) -> Role | None:
    return session.get(Role, code)


def count_failures(session: Session, *, username: str, ip: str, since: datetime) -> tuple[int, int]:
    by_user = session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.username == username, LoginFailure.at >= since)
    )
    by_ip = session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.ip == ip, LoginFailure.at >= since)
    )
    return by_user or 0, by_ip or 0


def clear_failures(session: Session, *, username: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
