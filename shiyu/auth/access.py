"""Permission codes, the acting user, and the declarative checks routes attach.

Each domain's `permissions.py` defines its codes with `define(...)`, naming the built-in roles
that hold them; routes declare `Annotated[Actor, Depends(Authorize(code))]` aliases. Jurisdiction
scoping is not done here but in repositories (`readable_by(actor)`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer

from shiyu.auth.enums import RoleCode
from shiyu.deps import get_database
from shiyu.errors import Forbidden, Unauthorized


@dataclass(frozen=True, slots=True)
class PermissionDef:
    code: str
    name: str
    roles: frozenset[str]


REGISTRY: dict[str, PermissionDef] = {}


def define(code: str, name: str, *, roles: set[RoleCode] | frozenset[RoleCode]) -> str:
    """Register a permission code; admins always hold every code."""
    REGISTRY[code] = PermissionDef(code, name, frozenset({*roles, RoleCode.admin}))
    return code


def builtin_permissions(role: str) -> frozenset[str]:
    return frozenset(p.code for p in REGISTRY.values() if role in p.roles)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting, what they may do and the subtree they may see (`scope_path`)."""

    user_id: int | None
    username: str
    display_name: str
    roles: frozenset[str]
    permissions: frozenset[str]
    jurisdiction_code: str
    scope_path: str
    level: str
    department_id: int | None = None
    ip: str | None = field(default=None, compare=False)

    def can(self, code: str) -> bool:
        return code in self.permissions

    def covers(self, path: str) -> bool:
        """True when `path` lies inside this actor's jurisdiction subtree."""
        return path.startswith(self.scope_path)


def system_actor(city_code: str = "", city_path: str = "/") -> Actor:
    """The actor of CLI commands and jobs: every permission, the whole tree."""
    return Actor(
        user_id=None,
        username="system",
        display_name="系统",
        roles=frozenset({RoleCode.admin}),
        permissions=frozenset(REGISTRY),
        jurisdiction_code=city_code,
        scope_path=city_path,
        level="city",
    )


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def current_actor(
    request: Request,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Actor:
    """In the event loop when the per-process cache knows the user (no worker thread for
    the commonest check of all); otherwise in a worker thread, with a short reading session
    of its own: on SQLite the request's writing session takes the database's single write
    lock at its first statement, so checking the token there would hold every writer back."""
    from shiyu.auth import service  # late: service imports this module's types

    if not token:
        raise Unauthorized()
    settings = request.app.state.settings
    ip = client_ip(request)
    actor = service.cached_actor(settings, token=token, ip=ip)
    if actor is None:
        db = get_database(request)
        actor = await run_in_threadpool(
            functools.partial(
                service.actor_from_token,
                lambda: db.session(write=False),
                settings,
                token=token,
                ip=ip,
            )
        )
    request.state.actor = actor
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


class Authorize:
    """Route dependency: the actor must hold every listed permission code (403 otherwise)."""

    def __init__(self, *codes: str) -> None:
        unknown = [c for c in codes if c not in REGISTRY]
        if unknown:
            raise ValueError(f"undefined permission codes: {unknown}")
        self.codes = codes

    async def __call__(self, actor: CurrentActor) -> Actor:
        # async: a pure check, no need for a worker thread
        missing = [c for c in self.codes if not actor.can(c)]
        if missing:
            raise Forbidden(details=[{"missing_permissions": missing}])
        return actor


def requires(*codes: str) -> object:
    """`Annotated[Actor, requires("x:read")]`."""
    return Depends(Authorize(*codes))


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
