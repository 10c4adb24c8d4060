"""Logins, tokens, and the administration of users, departments and roles."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.auth import actor_cache, passwords, repository, security
from shiyu.auth.access import REGISTRY, Actor, builtin_permissions
from shiyu.auth.enums import ROLE_NAMES_ZH, DepartmentLevel, RoleCode
from shiyu.auth.models import Department, LoginFailure, Role, User
from shiyu.auth.schemas import (
    DepartmentCreate,
    DepartmentUpdate,
    PasswordChange,
    RoleCreate,
    RoleUpdate,
    Token,
    UserCreate,
    UserUpdate,
)
from shiyu.config import Settings
from shiyu.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests, Unauthorized
from shiyu.jurisdiction import service as jurisdictions
from shiyu.jurisdiction.enums import Level
from shiyu.kit.clock import utcnow


class InvalidCredentials(Unauthorized):
    code = "auth.invalid_credentials"
    message = "用户名或密码错误"
    persist = True  # keep the recorded failure so throttling works


class LoginThrottled(TooManyRequests):
    code = "auth.throttled"
    message = "登录失败次数过多，请稍后再试"


class UserNotFound(NotFound):
    code = "user.not_found"
    message = "用户不存在或不在您的管辖范围内"


class DepartmentNotFound(NotFound):
    code = "department.not_found"
    message = "部门不存在或不在您的管辖范围内"


class RoleNotFound(NotFound):
    code = "role.not_found"
    message = "角色不存在"


#: Levels at which each built-in role may be placed.
_STAFF_LEVELS = {Level.city, Level.district, Level.street, Level.community}
ROLE_LEVELS: dict[str, set[Level]] = {
    RoleCode.resident: set(Level),
    RoleCode.grid_worker: {Level.grid, Level.community},
    RoleCode.dispatcher: _STAFF_LEVELS,
    RoleCode.department_handler: {Level.city, Level.district},
    RoleCode.supervisor: _STAFF_LEVELS,
    RoleCode.leader: _STAFF_LEVELS,
    RoleCode.mediator: _STAFF_LEVELS | {Level.grid},
    RoleCode.admin: {Level.city, Level.district, Level.street},
}


# ---------------------------------------------------------------- actors and tokens


def permissions_of(roles: Sequence[Role]) -> frozenset[str]:
    perms: set[str] = set()
    for role in roles:
        perms |= builtin_permissions(role.code) if role.builtin else set(role.permissions)
    return frozenset(perms)


def actor_for(user: User, level: str, *, ip: str | None = None) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=frozenset(user.role_codes),
        permissions=permissions_of(user.roles),
        jurisdiction_code=user.jurisdiction_code,
        scope_path=user.jurisdiction_path,
        level=level,
        department_id=user.department_id,
        ip=ip,
    )


def actor_from_token(
    open_session: Callable[[], Session], settings: Settings, *, token: str, ip: str | None = None
) -> Actor:
    """The actor a token stands for. The user's row comes from the per-process cache when it
    is fresh and agrees with the token's version, else from a short session of its own."""
    claims = _claims(settings, token)
    row = _cached_row(settings, claims)
    if row is None:
        # one request reads the row, the others that missed it at the same moment wait and
        # take it from the cache: under load every request in flight when the entry expired
        # missed it, and each opened a session (beyond the pool, a new connection)
        with _LOADING[int(claims["sub"]) % len(_LOADING)]:
            row = _cached_row(settings, claims)
            if row is None:
                with open_session() as session:
                    row = repository.actor_row(session, int(claims["sub"]))
                if row is not None and settings.auth_cache_seconds > 0:
                    actor_cache.cache.put(row.user_id, row)
    return _actor(row, claims, ip)


#: locks striped by user id, for `actor_from_token`'s reads of the database
_LOADING = [threading.Lock() for _ in range(64)]


def cached_actor(settings: Settings, *, token: str, ip: str | None = None) -> Actor | None:
    """`actor_from_token` when the per-process cache can answer without the database (None
    when it cannot): the event loop may call this, not the other."""
    claims = _claims(settings, token)
    row = _cached_row(settings, claims)
    return _actor(row, claims, ip) if row is not None else None


def _claims(settings: Settings, token: str) -> dict[str, Any]:
    claims = security.decode_token(token, secret=settings.secret_key)
    if claims is None:
        raise Unauthorized()
    return claims


def _cached_row(settings: Settings, claims: dict[str, Any]) -> repository.ActorRow | None:
    row = actor_cache.cache.get(int(claims["sub"]), ttl=settings.auth_cache_seconds)
    return row if row is not None and row.token_version == claims["tv"] else None


def _actor(row: repository.ActorRow | None, claims: dict[str, Any], ip: str | None) -> Actor:
    if row is None or not row.is_active or row.token_version != claims["tv"]:
        raise Unauthorized()
    permissions: set[str] = set()
    for code, builtin, perms in row.roles:
        permissions |= builtin_permissions(code) if builtin else set(perms)
    return Actor(
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        roles=frozenset(code for code, _, _ in row.roles),
        permissions=frozenset(permissions),
        jurisdiction_code=row.jurisdiction_code,
        scope_path=row.jurisdiction_path,
        level=row.level,
        department_id=row.department_id,
        ip=ip,
    )


def login(session: Session, settings: Settings, *, username: str, password: str, ip: str) -> Token:
    since = utcnow() - timedelta(seconds=settings.login_window_seconds)
    by_user, by_ip = repository.count_failures(session, username=username, ip=ip, since=since)
    if by_user >= settings.login_max_failures or by_ip >= settings.login_max_failures * 4:
        raise LoginThrottled(headers={"Retry-After": str(settings.login_window_seconds)})
    user = repository.get_user_by_username(session, username)
    ok = security.verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.is_active:
        session.add(LoginFailure(username=username[:64], ip=ip[:64]))
        session.flush()
        raise InvalidCredentials()
    repository.clear_failures(session, username=username)
    user.last_login_at = utcnow()
    audit.record(
        session,
        actor=actor_for(user, level="", ip=ip),
        action="auth.login",
        object_type="user",
        object_id=user.id,
        scope_path=user.jurisdiction_path,
        extra={"username": user.username, "ip": ip},
    )
    token, expires_in = security.create_token(
        user_id=user.id,
        token_version=user.token_version,
        secret=settings.secret_key,
        minutes=settings.access_token_minutes,
    )
    return Token(access_token=token, expires_in=expires_in)


def logout(session: Session, actor: Actor) -> None:
    """Revoke every token of the user (a token carries the version it was issued with)."""
    user = _own_user(session, actor)
    user.token_version += 1
    audit.record(
        session,
        actor=actor,
        action="auth.logout",
        object_type="user",
        object_id=user.id,
        scope_path=user.jurisdiction_path,
    )


def change_password(session: Session, actor: Actor, data: PasswordChange) -> None:
    user = _own_user(session, actor)
    if not security.verify_password(data.old_password, user.password_hash):
        raise InvalidInput("原密码错误", code="auth.wrong_password")
    passwords.require_acceptable(data.new_password, user.username, field="new_password")
    user.password_hash = security.hash_password(data.new_password)
    user.token_version += 1
    audit.record(
        session,
        actor=actor,
        action="auth.change_password",
        object_type="user",
        object_id=user.id,
        scope_path=user.jurisdiction_path,
    )


def _own_user(session: Session, actor: Actor) -> User:
    user = repository.get_user(session, actor.user_id) if actor.user_id else None
    if user is None:
        raise Unauthorized()
    return user


def me(session: Session, actor: Actor) -> dict[str, Any]:
    user = _own_user(session, actor)
    return {
        **_user_dict(user),
        "permissions": sorted(actor.permissions),
        "level": actor.level,
        "scope_path": actor.scope_path,
    }


def _user_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "phone": user.phone,
        "jurisdiction_code": user.jurisdiction_code,
        "department": user.department,
        "post": user.post,
        "is_active": user.is_active,
        "role_codes": user.role_codes,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    }


# ---------------------------------------------------------------- users


def _audit_view(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "jurisdiction_code": user.jurisdiction_code,
        "department_id": user.department_id,
        "roles": user.role_codes,
        "post": user.post,
        "is_active": user.is_active,
    }


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    user = repository.get_readable_user(session, actor, user_id)
    if user is None:
        raise UserNotFound()
    return user


def list_users(
    session: Session,
    actor: Actor,
    *,
    role: str | None = None,
    jurisdiction_code: str | None = None,
    q: str | None = None,
    page: int = 1,
    size: int = 50,
) -> tuple[Sequence[User], int]:
    path = None
    if jurisdiction_code:
        path = jurisdictions.get_readable_unit(session, actor, jurisdiction_code).path
    return repository.page_users(
        session, actor, role=role, jurisdiction_path=path, q=q, page=page, size=size
    )


def _resolve_roles(session: Session, actor: Actor, codes: list[str]) -> list[Role]:
    found = list(repository.roles(session, sorted(set(codes))))
    missing = sorted(set(codes) - {r.code for r in found})
    if missing:
        raise InvalidInput("角色不存在", code="user.unknown_role", details=[{"roles": missing}])
    granted = permissions_of(found)
    if not granted <= actor.permissions:
        # nobody hands out powers they do not hold themselves
        raise Forbidden(
            "不能授予超出本人权限的角色",
            details=[{"permissions": sorted(granted - actor.permissions)}],
        )
    return found


def _placement(
    session: Session,
    actor: Actor,
    *,
    jurisdiction_code: str | None,
    department_id: int | None,
    roles: list[Role],
) -> tuple[str, str, Department | None]:
    """Where a user sits: a department user sits on the area the department serves."""
    department = None
    if department_id is not None:
        department = repository.get_readable_department(session, actor, department_id)
        if department is None:
            raise DepartmentNotFound()
        code = department.area_code
    elif jurisdiction_code is not None:
        code = jurisdiction_code
    else:
        raise InvalidInput(
            "须指定所属辖区或部门",
            code="user.placement_required",
            details=[{"loc": ["body", "jurisdiction_code"], "msg": "required"}],
        )
    unit = jurisdictions.get_readable_unit(session, actor, code)
    level = Level(unit.level)
    for role in roles:
        allowed = ROLE_LEVELS.get(role.code)
        if allowed is not None and level not in allowed:
            raise InvalidInput(
                f"角色“{role.name}”不能设在{level.label_zh}一级",
                code="user.role_level",
                details=[{"role": role.code, "level": level.value}],
            )
    if any(r.code == RoleCode.department_handler for r in roles) and department is None:
        raise InvalidInput("职能部门承办人须指定部门", code="user.department_required")
    return unit.code, unit.path, department


def create_user(session: Session, actor: Actor, data: UserCreate) -> User:
    roles = _resolve_roles(session, actor, data.roles)
    code, path, department = _placement(
        session,
        actor,
        jurisdiction_code=data.jurisdiction_code,
        department_id=data.department_id,
        roles=roles,
    )
    if repository.get_user_by_username(session, data.username):
        raise Conflict("用户名已存在", code="user.username_taken")
    user = User(
        username=data.username,
        display_name=data.display_name,
        phone=data.phone,
        password_hash=security.hash_password(data.password),
        jurisdiction_code=code,
        jurisdiction_path=path,
        department_id=department.id if department else None,
        post=data.post.value if data.post else None,
        roles=roles,
        is_active=True,
        token_version=0,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
        scope_path=path,
        after=_audit_view(user),
    )
    return _reload(session, user.id)


def update_user(session: Session, actor: Actor, user_id: int, data: UserUpdate) -> User:
    user = get_user(session, actor, user_id)
    before = _audit_view(user)
    fields = data.model_dump(exclude_unset=True)
    roles = _resolve_roles(session, actor, fields["roles"]) if "roles" in fields else user.roles
    if {"roles", "jurisdiction_code", "department_id"} & fields.keys():
        code, path, department = _placement(
            session,
            actor,
            jurisdiction_code=fields.get("jurisdiction_code", user.jurisdiction_code),
            department_id=fields.get("department_id", user.department_id),
            roles=list(roles),
        )
        user.jurisdiction_code, user.jurisdiction_path = code, path
        user.department_id = department.id if department else None
        user.roles = list(roles)
    for key in ("display_name", "phone", "is_active"):
        if key in fields:
            setattr(user, key, fields[key])
    if "post" in fields:
        user.post = fields["post"].value if fields["post"] else None
    if fields.get("password"):
        passwords.require_acceptable(fields["password"], user.username, field="password")
        user.password_hash = security.hash_password(fields["password"])
    if fields.get("password") or fields.get("is_active") is False:
        user.token_version += 1  # sign the user out everywhere
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.update",
        object_type="user",
        object_id=user.id,
        scope_path=user.jurisdiction_path,
        before=before,
        after=_audit_view(user),
        extra={"password_changed": bool(fields.get("password"))},
    )
    return _reload(session, user.id)


def _reload(session: Session, user_id: int) -> User:
    session.expire_all()
    user = repository.get_user(session, user_id)
    assert user is not None
    return user


# ---------------------------------------------------------------- departments


def list_departments(session: Session, actor: Actor) -> Sequence[Department]:
    return repository.list_departments(session, actor)


def get_department(session: Session, actor: Actor, dep_id: int) -> Department:
    dep = repository.get_readable_department(session, actor, dep_id)
    if dep is None:
        raise DepartmentNotFound()
    return dep


def _department_view(dep: Department) -> dict[str, Any]:
    return {
        "code": dep.code,
        "name": dep.name,
        "level": dep.level,
        "area_code": dep.area_code,
        "is_active": dep.is_active,
    }


def create_department(session: Session, actor: Actor, data: DepartmentCreate) -> Department:
    if repository.department_by_code(session, data.code):
        raise Conflict("部门编码已存在", code="department.code_taken")
    area = jurisdictions.get_readable_unit(session, actor, data.area_code)
    expected = Level.city if data.level is DepartmentLevel.municipal else Level.district
    if area.level != expected:
        raise InvalidInput(
            f"{'市级' if expected is Level.city else '区级'}部门的服务范围须为{expected.label_zh}",
            code="department.area_level",
        )
    dep = Department(
        code=data.code,
        name=data.name,
        level=data.level.value,
        area_code=area.code,
        area_path=area.path,
        is_active=True,
    )
    session.add(dep)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="department.create",
        object_type="department",
        object_id=dep.id,
        scope_path=dep.area_path,
        after=_department_view(dep),
    )
    return dep


def update_department(
    session: Session, actor: Actor, dep_id: int, data: DepartmentUpdate
) -> Department:
    dep = get_department(session, actor, dep_id)
    if not actor.covers(dep.area_path):
        raise Forbidden("只能修改本辖区内的部门")
    before = _department_view(dep)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(dep, key, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="department.update",
        object_type="department",
        object_id=dep.id,
        scope_path=dep.area_path,
        before=before,
        after=_department_view(dep),
    )
    return dep


# ---------------------------------------------------------------- roles


def role_view(role: Role) -> dict[str, Any]:
    perms = builtin_permissions(role.code) if role.builtin else frozenset(role.permissions)
    return {
        "code": role.code,
        "name": role.name,
        "builtin": role.builtin,
        "permissions": sorted(perms),
        "description": role.description,
    }


def list_roles(session: Session) -> list[dict[str, Any]]:
    return [role_view(r) for r in repository.roles(session)]


def _check_codes(codes: list[str]) -> list[str]:
    unknown = sorted(set(codes) - REGISTRY.keys())
    if unknown:
        raise InvalidInput(
            "权限编码不存在", code="role.unknown_permission", details=[{"permissions": unknown}]
        )
    return sorted(set(codes))


def _check_city_level(actor: Actor) -> None:
    """Roles apply city-wide, so only someone whose jurisdiction is the whole city may
    define or change them."""
    if actor.level != Level.city:
        raise Forbidden("自定义角色全市通用，只有市级管理员可以维护", code="role.city_only")


def create_role(session: Session, actor: Actor, data: RoleCreate) -> dict[str, Any]:
    _check_city_level(actor)
    if repository.get_role(session, data.code):
        raise Conflict("角色编码已存在", code="role.code_taken")
    role = Role(
        code=data.code,
        name=data.name,
        builtin=False,
        permissions=_check_codes(data.permissions),
        description=data.description,
    )
    session.add(role)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="role.create",
        object_type="role",
        object_id=role.code,
        scope_path=actor.scope_path,
        after=role_view(role),
    )
    return role_view(role)


def update_role(session: Session, actor: Actor, code: str, data: RoleUpdate) -> dict[str, Any]:
    _check_city_level(actor)
    role = repository.get_role(session, code)
    if role is None:
        raise RoleNotFound()
    if role.builtin:
        raise Conflict("内置角色不可修改，请新建自定义角色", code="role.builtin")
    before = role_view(role)
    fields = data.model_dump(exclude_unset=True)
    if "permissions" in fields:
        role.permissions = _check_codes(fields.pop("permissions"))
    for key, value in fields.items():
        setattr(role, key, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="role.update",
        object_type="role",
        object_id=role.code,
        scope_path=actor.scope_path,
        before=before,
        after=role_view(role),
    )
    return role_view(role)


def ensure_builtin_roles(session: Session) -> None:
    """Built-in roles exist as rows (for user_roles); their permissions come from code."""
    existing = {r.code for r in repository.roles(session)}
    for code in RoleCode:
        if code.value not in existing:
            session.add(
                Role(
                    code=code.value,
                    name=ROLE_NAMES_ZH[code],
                    builtin=True,
                    permissions=[],
                    description="",
                )
            )
    session.flush()
