from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from shiyu.auth import service
from shiyu.auth.access import REGISTRY, CurrentActor, client_ip
from shiyu.auth.permissions import (
    DepartmentsRead,
    DepartmentsWrite,
    RolesRead,
    RolesWrite,
    UsersRead,
    UsersWrite,
)
from shiyu.auth.schemas import (
    DepartmentCreate,
    DepartmentRead,
    DepartmentUpdate,
    Me,
    PasswordChange,
    PermissionRead,
    RoleCreate,
    RoleRead,
    RoleUpdate,
    Token,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
)
from shiyu.deps import SessionDep
from shiyu.errors import error_responses

#: The only routes reachable without a token.
public_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(tags=["auth"])


@public_router.post(
    "/token",
    response_model=Token,
    operation_id="auth-token",
    responses=error_responses(service.InvalidCredentials, service.LoginThrottled),
)
def token(
    request: Request,
    session: SessionDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """OAuth2 password login; the same 401 for an unknown user and a wrong password."""
    return service.login(
        session,
        request.app.state.settings,
        username=form.username,
        password=form.password,
        ip=client_ip(request),
    )


@router.get("/auth/me", response_model=Me, operation_id="auth-me")
def me(session: SessionDep, actor: CurrentActor) -> Any:
    """The signed-in user, their permission codes (for menus and buttons) and scope."""
    return service.me(session, actor)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, operation_id="auth-logout")
def logout(session: SessionDep, actor: CurrentActor) -> Response:
    """Revoke every token of the signed-in user."""
    service.logout(session, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/auth/password", status_code=status.HTTP_204_NO_CONTENT, operation_id="auth-change_password"
)
def change_password(session: SessionDep, actor: CurrentActor, body: PasswordChange) -> Response:
    """Change one's own password; every existing token stops working."""
    service.change_password(session, actor, body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users", response_model=UserPage, operation_id="users-list")
def list_users(
    session: SessionDep,
    actor: UsersRead,
    role: Annotated[str | None, Query(max_length=32)] = None,
    jurisdiction_code: Annotated[str | None, Query(pattern=r"^\d{12,23}$")] = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> UserPage:
    """Users inside the caller's jurisdiction."""
    rows, total = service.list_users(
        session, actor, role=role, jurisdiction_code=jurisdiction_code, q=q, page=page, size=size
    )
    return UserPage(
        items=[UserRead.model_validate(u) for u in rows], total=total, page=page, size=size
    )


@router.post(
    "/users",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="users-create",
)
def create_user(session: SessionDep, actor: UsersWrite, body: UserCreate) -> Any:
    return service.create_user(session, actor, body)


@router.get(
    "/users/{user_id}",
    response_model=UserRead,
    operation_id="users-get",
    responses=error_responses(service.UserNotFound),
)
def get_user(session: SessionDep, actor: UsersRead, user_id: int) -> Any:
    return service.get_user(session, actor, user_id)


@router.patch(
    "/users/{user_id}",
    response_model=UserRead,
    operation_id="users-update",
    responses=error_responses(service.UserNotFound),
)
def update_user(session: SessionDep, actor: UsersWrite, user_id: int, body: UserUpdate) -> Any:
    return service.update_user(session, actor, user_id, body)


@router.get("/departments", response_model=list[DepartmentRead], operation_id="departments-list")
def list_departments(session: SessionDep, actor: DepartmentsRead) -> Any:
    """Departments serving the caller's area, or inside it."""
    return service.list_departments(session, actor)


@router.post(
    "/departments",
    response_model=DepartmentRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="departments-create",
)
def create_department(session: SessionDep, actor: DepartmentsWrite, body: DepartmentCreate) -> Any:
    return service.create_department(session, actor, body)


@router.get(
    "/departments/{department_id}",
    response_model=DepartmentRead,
    operation_id="departments-get",
    responses=error_responses(service.DepartmentNotFound),
)
def get_department(session: SessionDep, actor: DepartmentsRead, department_id: int) -> Any:
    return service.get_department(session, actor, department_id)


@router.patch(
    "/departments/{department_id}",
    response_model=DepartmentRead,
    operation_id="departments-update",
    responses=error_responses(service.DepartmentNotFound),
)
def update_department(
    session: SessionDep, actor: DepartmentsWrite, department_id: int, body: DepartmentUpdate
) -> Any:
    return service.update_department(session, actor, department_id, body)


@router.get("/roles", response_model=list[RoleRead], operation_id="roles-list")
def list_roles(session: SessionDep, _actor: RolesRead) -> Any:
    return service.list_roles(session)


@router.post(
    "/roles",
    response_model=RoleRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="roles-create",
)
def create_role(session: SessionDep, actor: RolesWrite, body: RoleCreate) -> Any:
    return service.create_role(session, actor, body)


@router.patch(
    "/roles/{code}",
    response_model=RoleRead,
    operation_id="roles-update",
    responses=error_responses(service.RoleNotFound),
)
def update_role(session: SessionDep, actor: RolesWrite, code: str, body: RoleUpdate) -> Any:
    return service.update_role(session, actor, code, body)


@router.get("/permissions", response_model=list[PermissionRead], operation_id="roles-permissions")
def list_permissions(_actor: RolesRead) -> list[PermissionRead]:
    """Every permission code and the built-in roles that hold it."""
    return [
        PermissionRead(code=p.code, name=p.name, roles=sorted(p.roles))
        for p in sorted(REGISTRY.values(), key=lambda p: p.code)
    ]
