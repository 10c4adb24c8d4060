"""Builds the synthetic demo city in the database: jurisdictions and grids, departments and
an account for every role and level. Deterministic for a seed and idempotent."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.auth import service as auth_service
from shiyu.auth.access import system_actor
from shiyu.auth.enums import GRID_POST_NAMES_ZH, ROLE_NAMES_ZH, GridPost, RoleCode
from shiyu.auth.models import Department, User, user_roles
from shiyu.auth.security import hash_password, verify_password
from shiyu.config import Settings
from shiyu.demo import simulate
from shiyu.demo.citygen import CITY_CODE, DemoCity, generate_city
from shiyu.jurisdiction import service as jurisdictions
from shiyu.jurisdiction.models import Jurisdiction
from shiyu.kit.clock import utcnow
from shiyu.open311 import service as open311_service
from shiyu.routing import service as routing
from shiyu.routing.models import ResponsibilityRule
from shiyu.routing.schemas import RuleIn

ADMIN = "admin"


@dataclass
class AccountSpec:
    username: str
    display_name: str
    role: str
    unit_code: str
    department_code: str | None = None
    post: str | None = None
    #: shown in the printed table of sample accounts
    sample: bool = False


@dataclass
class BuildResult:
    seed: int
    units_created: int
    units_by_level: dict[str, int]
    departments: int
    users_created: int
    users_total: int
    samples: list[AccountSpec] = field(default_factory=list)
    #: the simulated days of city life, when this build made them
    simulation: simulate.SimulationReport | None = None


def _accounts(city: DemoCity) -> list[AccountSpec]:
    by_level: dict[str, list[Any]] = {}
    for unit in city.units:
        by_level.setdefault(unit.level, []).append(unit)
    names = {u.code: u.name for u in city.units}
    accounts = [AccountSpec(ADMIN, "系统管理员", RoleCode.admin, CITY_CODE, sample=True)]
    for role in (RoleCode.dispatcher, RoleCode.supervisor, RoleCode.leader):
        accounts.append(
            AccountSpec(f"city_{role}", f"市级{ROLE_NAMES_ZH[role]}", role, CITY_CODE, sample=True)
        )
    for i, district in enumerate(by_level["district"]):
        for role in (RoleCode.admin, RoleCode.dispatcher, RoleCode.supervisor, RoleCode.leader):
            accounts.append(
                AccountSpec(
                    f"{role}_{district.code}",
                    f"{district.name}{ROLE_NAMES_ZH[role]}",
                    role,
                    district.code,
                    sample=i == 0 and role == RoleCode.dispatcher,
                )
            )
    for i, street in enumerate(by_level["street"]):
        for role in (RoleCode.dispatcher, RoleCode.mediator):
            accounts.append(
                AccountSpec(
                    f"{role}_{street.code}",
                    f"{street.name}{ROLE_NAMES_ZH[role]}",
                    role,
                    street.code,
                    sample=i < 2,
                )
            )
    for i, community in enumerate(by_level["community"]):
        accounts.append(
            AccountSpec(
                f"dispatcher_{community.code}",
                f"{community.name}调度员",
                RoleCode.dispatcher,
                community.code,
                sample=i == 0,
            )
        )
    for i, grid in enumerate(by_level["grid"]):
        community = names[grid.parent_code]
        accounts.append(
            AccountSpec(
                f"gw_{grid.code}",
                f"{community}{grid.name}网格员",
                RoleCode.grid_worker,
                grid.code,
                sample=i == 0,
            )
        )
    posts = list(GridPost)
    for i, grid in enumerate(by_level["grid"][:24]):
        post = posts[i % len(posts)]
        accounts.append(
            AccountSpec(
                f"{post}_{grid.code}",
                f"{names[grid.parent_code]}{grid.name}{GRID_POST_NAMES_ZH[post]}",
                RoleCode.grid_worker,
                grid.code,
                post=post,
                sample=i < len(posts),
            )
        )
    first_district = by_level["district"][0].code
    for i, dep in enumerate(city.departments):
        accounts.append(
            AccountSpec(
                f"handler_{dep.code.lower()}",
                f"{dep.name}承办人",
                RoleCode.department_handler,
                dep.area_code,
                department_code=dep.code,
                sample=i == 0 or dep.code == f"D{first_district[:6]}-001",
            )
        )
    for i in range(20):
        grid = by_level["grid"][i * 97 % len(by_level["grid"])]
        accounts.append(
            AccountSpec(
                f"resident{i + 1:02d}",
                f"居民{i + 1:02d}",
                RoleCode.resident,
                grid.code,
                sample=i == 0,
            )
        )
    return accounts


def _import_units(session: Session, city: DemoCity, seed: int) -> int:
    """Import the tree unless this exact city is already there."""
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "properties": {
                "code": u.code,
                "name": u.name,
                "level": u.level,
                "parent_code": u.parent_code,
            },
            "geometry": u.geometry,
        }
        for u in city.units
    ]
    fingerprint = jurisdictions.fingerprint({"seed": seed, "features": features})
    existing = session.get(Jurisdiction, CITY_CODE)
    if existing is not None and (existing.properties or {}).get("demo") == fingerprint:
        return 0
    features[0]["properties"]["demo"] = fingerprint
    report = jurisdictions.import_features(
        session, system_actor(), features, source_fingerprint=fingerprint
    )
    return report.created


def _upsert_departments(session: Session, city: DemoCity) -> dict[str, int]:
    paths = dict(
        session.execute(
            select(Jurisdiction.code, Jurisdiction.path).where(
                Jurisdiction.level.in_(["city", "district"])
            )
        ).all()
    )
    ids = dict(session.execute(select(Department.code, Department.id)).all())
    for dep in city.departments:
        if dep.code not in ids:
            row = Department(
                code=dep.code,
                name=dep.name,
                level=dep.level,
                area_code=dep.area_code,
                area_path=paths[dep.area_code],
                is_active=True,
            )
            session.add(row)
            session.flush()
            ids[dep.code] = row.id
    return ids


#: The demo's 权责清单: first-level categories handled by each district department, by its
#: position in `citygen._DISTRICT_DEPARTMENTS` (1 城管执法局, 2 住建局, 3 生态环境分局,
#: 4 市场监管局, 5 公安分局). Everything else falls to the district's fallback (兜底) rule,
#: which the demo gives its 城管执法局 (the demo city has no government office department).
_DEMO_ROUTES: dict[int, tuple[str, ...]] = {
    1: ("SJ01", "SJ02", "SJ05", "BJ03", "BJ04", "RX01"),
    2: ("SJ03", "BJ01", "BJ05", "RX02", "RX03", "AP01"),
    3: ("AP05",),
    4: ("RX04", "AP04"),
    5: ("SJ04", "BJ02", "RX06", "AP07"),
}
_FALLBACK_DEPARTMENT = 1


def _seed_routing(session: Session, city: DemoCity, dep_ids: dict[str, int]) -> int:
    """Rules per district through the routing service (validated and audited), once: a city
    that has any rule keeps its own list."""
    if session.scalar(select(func.count()).select_from(ResponsibilityRule)):
        return 0
    actor = system_actor()
    created = 0
    for dep in city.departments:
        if dep.level != "district":
            continue
        position = int(dep.code.rsplit("-", 1)[1])
        categories: list[str | None] = list(_DEMO_ROUTES.get(position, ()))
        if position == _FALLBACK_DEPARTMENT:
            categories.append(None)
        for category in categories:
            routing.create_rule(
                session,
                actor,
                RuleIn(
                    category_code=category,
                    area_code=dep.area_code,
                    department_id=dep_ids[dep.code],
                    note="演示数据",
                ),
            )
            created += 1
    return created


def _upsert_users(
    session: Session, accounts: list[AccountSpec], dep_ids: dict[str, int], password: str
) -> int:
    """Bulk insert missing accounts. All demo accounts share one password, so the argon2 hash
    is computed once; if the demo password changed, every demo account gets the new one."""
    existing = dict(session.execute(select(User.username, User.password_hash)).all())
    demo_names = [a.username for a in accounts]
    current = existing.get(ADMIN)
    pw_hash = current if current and verify_password(password, current) else hash_password(password)
    if current and current != pw_hash:
        for start in range(0, len(demo_names), 500):
            session.execute(
                update(User)
                .where(User.username.in_(demo_names[start : start + 500]))
                .values(password_hash=pw_hash, token_version=User.token_version + 1)
            )
    paths = dict(session.execute(select(Jurisdiction.code, Jurisdiction.path)).all())
    now = utcnow()
    missing = [a for a in accounts if a.username not in existing]
    if not missing:
        return 0
    session.execute(
        insert(User),
        [
            {
                "username": a.username,
                "display_name": a.display_name[:64],
                "phone": None,
                "password_hash": pw_hash,
                "jurisdiction_code": a.unit_code,
                "jurisdiction_path": paths[a.unit_code],
                "department_id": dep_ids[a.department_code] if a.department_code else None,
                "post": a.post,
                "is_active": True,
                "token_version": 0,
                "created_at": now,
                "updated_at": now,
            }
            for a in missing
        ],
    )
    ids = dict(session.execute(select(User.username, User.id).where(User.created_at == now)).all())
    session.execute(
        insert(user_roles),
        [{"user_id": ids[a.username], "role_code": str(a.role)} for a in missing],
    )
    return len(missing)


def build(
    session: Session,
    *,
    seed: int,
    password: str,
    open311_key: str | None = None,
    settings: Settings | None = None,
) -> BuildResult:
    """The city, its departments and accounts; with `settings`, also `settings.demo_days` of
    simulated city life, once (only into a city without events, so rebuilding adds nothing)."""
    city = generate_city(seed)
    auth_service.ensure_builtin_roles(session)
    created_units = _import_units(session, city, seed)
    dep_ids = _upsert_departments(session, city)
    accounts = _accounts(city)
    created_users = _upsert_users(session, accounts, dep_ids, password)
    _seed_routing(session, city, dep_ids)
    if open311_key:
        open311_service.ensure_demo_client(session, open311_key)
    by_level: dict[str, int] = {}
    for unit in city.units:
        by_level[unit.level] = by_level.get(unit.level, 0) + 1
    result = BuildResult(
        seed=seed,
        units_created=created_units,
        units_by_level=by_level,
        departments=len(dep_ids),
        users_created=created_users,
        users_total=len(accounts),
        samples=[a for a in accounts if a.sample],
    )
    if created_units or created_users:
        audit.record(
            session,
            actor=None,
            action="demo.build",
            object_type="demo",
            object_id=str(seed),
            scope_path=f"/{CITY_CODE}/",
            extra={"units_created": created_units, "users_created": created_users},
        )
    if settings is not None and settings.demo_days > 0 and not simulate.has_events(session):
        result.simulation = simulate.simulate(
            session,
            settings,
            seed=seed,
            days=settings.demo_days,
            per_day=settings.demo_events_per_day,
        )
    return result


def describe(result: BuildResult, settings: Settings) -> str:
    lines = [
        "",
        "Shiyu 市域社会治理平台 — 演示城市已就绪 (demo city ready)",
        f"  辖区 units: {result.units_by_level}",
        f"  部门 departments: {result.departments}   账号 accounts: {result.users_total}"
        f" (新建 created {result.users_created}, 新建辖区 units created {result.units_created})",
        "",
        f"  打开 open:  http://{settings.host}:{settings.port}/   API 文档 docs: "
        f"http://{settings.host}:{settings.port}/docs",
        f"  统一演示密码 demo password: {settings.demo_password}"
        "   (设置 SHIYU_DEMO_PASSWORD 可更改 / set SHIYU_DEMO_PASSWORD to change)",
        f"  Open311 客户端 demo 的 api_key: {settings.demo_open311_key}"
        f"   (设置 SHIYU_DEMO_OPEN311_KEY 可更改)   接口 endpoint: "
        f"http://{settings.host}:{settings.port}/open311/v2/discovery.json",
        "",
        f"  {_pad('角色 role', 24)}{_pad('用户名 username', 40)}姓名 name",
    ]
    if result.simulation is not None:
        lines.insert(4, result.simulation.line())
    for a in result.samples:
        role = ROLE_NAMES_ZH[RoleCode(a.role)]
        if a.post:
            role += f"/{GRID_POST_NAMES_ZH[GridPost(a.post)]}"
        lines.append(f"  {_pad(role, 24)}{_pad(a.username, 40)}{a.display_name}")
    return "\n".join(lines)


def _pad(text: str, width: int) -> str:
    """Left-justify counting CJK characters as two columns, as terminals draw them."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - used)
