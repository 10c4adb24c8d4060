from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, StrictBool, field_validator, model_validator
from pydantic_core import PydanticCustomError

from shiyu.auth import passwords
from shiyu.auth.enums import DepartmentLevel, GridPost
from shiyu.kit.schemas import ORMModel, PatchModel

USERNAME = r"^[A-Za-z0-9_.\-]{3,64}$"
CODE = r"^\d{12,23}$"
PHONE = r"^\+?[0-9\-]{5,20}$"


def check_password_policy(value: str) -> str:
    """shiyu.auth.passwords; the username check needs the user (model validator / service)."""
    reason = passwords.problem(value)
    if reason:
        raise ValueError(reason)
    return value


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds until the token expires.")


class DepartmentRef(ORMModel):
    id: int
    code: str
    name: str


class UserRead(ORMModel):
    id: int
    username: str
    display_name: str
    phone: str | None
    jurisdiction_code: str
    department: DepartmentRef | None
    post: GridPost | None
    is_active: bool
    role_codes: list[str]
    created_at: datetime
    last_login_at: datetime | None


class Me(UserRead):
    permissions: list[str]
    level: str
    scope_path: str


class UserPage(BaseModel):
    items: list[UserRead]
    total: int
    page: int
    size: int


class UserCreate(BaseModel):
    username: str = Field(pattern=USERNAME)
    display_name: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=128)
    phone: str | None = Field(default=None, pattern=PHONE)
    roles: list[str] = Field(min_length=1, max_length=8)
    jurisdiction_code: str | None = Field(
        default=None, pattern=CODE, description="Required unless a department is given."
    )
    department_id: int | None = None
    post: GridPost | None = None

    _policy = field_validator("password")(check_password_policy)

    @model_validator(mode="after")
    def _not_the_username(self) -> UserCreate:
        reason = passwords.problem(self.password, self.username)
        if reason:
            raise PydanticCustomError("password_policy", "password: {reason}", {"reason": reason})
        return self


class UserUpdate(PatchModel):
    nullable = frozenset({"password", "phone", "department_id", "post"})

    display_name: str | None = Field(default=None, min_length=1, max_length=64)
    password: str | None = Field(default=None, max_length=128)
    phone: str | None = Field(default=None, pattern=PHONE)
    roles: list[str] | None = Field(default=None, min_length=1, max_length=8)
    jurisdiction_code: str | None = Field(default=None, pattern=CODE)
    department_id: int | None = None
    post: GridPost | None = None
    is_active: StrictBool | None = None

    @field_validator("password")
    @classmethod
    def _policy(cls, value: str | None) -> str | None:
        return None if value is None else check_password_policy(value)


class PasswordChange(BaseModel):
    old_password: str = Field(max_length=128)
    new_password: str = Field(max_length=128)

    _policy = field_validator("new_password")(check_password_policy)


class DepartmentRead(ORMModel):
    id: int
    code: str
    name: str
    level: DepartmentLevel
    area_code: str
    is_active: bool


class DepartmentCreate(BaseModel):
    code: str = Field(pattern=r"^[A-Za-z0-9_\-]{2,32}$")
    name: str = Field(min_length=1, max_length=100)
    level: DepartmentLevel
    area_code: str = Field(pattern=CODE)


class DepartmentUpdate(PatchModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    is_active: StrictBool | None = None


class RoleRead(ORMModel):
    code: str
    name: str
    builtin: bool
    permissions: list[str]
    description: str


class RoleCreate(BaseModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    name: str = Field(min_length=1, max_length=64)
    permissions: list[str] = Field(max_length=200)
    description: str = Field(default="", max_length=500)


class RoleUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=64)
    permissions: list[str] | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=500)


class PermissionRead(BaseModel):
    code: str
    name: str
    roles: list[str]
