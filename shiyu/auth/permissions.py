from __future__ import annotations

from typing import Annotated

from shiyu.auth.access import Actor, define, requires
from shiyu.auth.enums import RoleCode as R

_STAFF_READERS = {R.dispatcher, R.supervisor, R.leader}

USER_READ = define("user:read", "查看用户", roles=_STAFF_READERS)
USER_WRITE = define("user:write", "管理用户", roles=set())
DEPARTMENT_READ = define(
    "department:read", "查看职能部门", roles={*_STAFF_READERS, R.department_handler}
)
DEPARTMENT_WRITE = define("department:write", "管理职能部门", roles=set())
ROLE_READ = define("role:read", "查看角色", roles=set())
ROLE_WRITE = define("role:write", "管理角色", roles=set())

UsersRead = Annotated[Actor, requires(USER_READ)]
UsersWrite = Annotated[Actor, requires(USER_WRITE)]
DepartmentsRead = Annotated[Actor, requires(DEPARTMENT_READ)]
DepartmentsWrite = Annotated[Actor, requires(DEPARTMENT_WRITE)]
RolesRead = Annotated[Actor, requires(ROLE_READ)]
RolesWrite = Annotated[Actor, requires(ROLE_WRITE)]
