from __future__ import annotations

from functools import lru_cache

import httpx
from sqlalchemy.orm import Session

from shiyu.auth import repository as auth_repo
from shiyu.auth.models import Department, User
from shiyu.auth.security import hash_password
from shiyu.jurisdiction.models import Jurisdiction

PASSWORD = "Passw0rd-test"


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)


def create_department(
    session: Session, *, code: str, area_code: str, level: str = "district", name: str = "测试局"
) -> Department:
    area = session.get(Jurisdiction, area_code)
    assert area is not None
    dep = Department(
        code=code, name=name, level=level, area_code=area_code, area_path=area.path, is_active=True
    )
    session.add(dep)
    session.flush()
    return dep


def create_user(
    session: Session,
    *,
    username: str,
    roles: list[str],
    jurisdiction_code: str,
    department: Department | None = None,
    display_name: str | None = None,
) -> User:
    unit = session.get(Jurisdiction, jurisdiction_code)
    assert unit is not None
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=_password_hash(),
        jurisdiction_code=unit.code,
        jurisdiction_path=unit.path,
        department_id=department.id if department else None,
        roles=list(auth_repo.roles(session, roles)),
        is_active=True,
        token_version=0,
    )
    session.add(user)
    session.flush()
    return user


def login(client: httpx.Client, username: str, password: str = PASSWORD) -> dict[str, str]:
    resp = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}
