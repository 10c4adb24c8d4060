"""Open311 GeoReport v2: the service catalogue, intake of service requests from api clients,
their public status, and the management of api clients.

Decisions (see docs of the task):
- services are the active leaf categories of the event catalogue (小类, and 大类 without
  children); `group` is the parent's name (a top-level leaf is its own group);
- reports are created synchronously, so POST answers with `service_request_id` (the event
  code) and also a `token` that GET tokens/{token} resolves;
- GET requests publishes only events of `settings.open311_public_channels` (default: the ones
  that came in through Open311) and never the reporter's name, phone or e-mail.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.auth.access import Actor
from shiyu.config import Settings
from shiyu.errors import Conflict, NotFound, ShiyuError
from shiyu.events import service as events
from shiyu.events.deadlines import CHINA
from shiyu.events.enums import OPEN_STATUSES, Channel, Status
from shiyu.events.models import Category, Event
from shiyu.events.schemas import PHONE, IntakeData
from shiyu.jurisdiction import service as jurisdictions
from shiyu.kit.clock import utcnow
from shiyu.open311 import repository
from shiyu.open311.models import Open311Client, Open311Submission
from shiyu.open311.schemas import ClientCreate

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: when this implementation of the API last changed (discovery `changeset`)
CHANGESET = "2026-11-22T04:00:00+08:00"
MAX_SPAN = timedelta(days=90)
MAX_ROWS = 1000
MAX_DESCRIPTION = 4000
#: non-standard but common ways for a client to send its own id of the report (FixMyStreet
#: sends attribute[fixmystreet_id]); re-sending the same id never creates a second event
EXTERNAL_ID_FIELDS = ("attribute[external_id]", "attribute[fixmystreet_id]")
KIND_LABELS = {"event": "事件", "component": "部件", "appeal": "诉求"}
#: 挂账 is unresolved, hence open; everything else outside OPEN_STATUSES is finished
OPEN_FOR_OPEN311 = frozenset({*OPEN_STATUSES, Status.suspended})
CLOSED_FOR_OPEN311 = frozenset(Status) - OPEN_FOR_OPEN311
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CJK = re.compile(r"[\u3400-\u9fff]")

Form = Mapping[str, Sequence[str]]


class Open311Error(ShiyuError):
    """An error in GeoReport form: an HTTP status and one or more descriptions."""

    code = "open311.error"

    def __init__(self, status_code: int, *descriptions: str) -> None:
        super().__init__(descriptions[0], details=[{"description": d} for d in descriptions])
        self.status_code = status_code
        self.descriptions = list(descriptions)


def bad_request(*descriptions: str) -> Open311Error:
    return Open311Error(400, *descriptions)


def not_found(description: str) -> Open311Error:
    return Open311Error(404, description)


class ClientNotFound(NotFound):
    code = "open311.client_not_found"
    message = "Open311 客户端不存在或不在您的管辖范围内"


class ClientNameTaken(Conflict):
    code = "open311.client_exists"
    message = "同名的 Open311 客户端已存在"


# ---------------------------------------------------------------- formatting helpers


def w3c(value: datetime | None) -> str | None:
    """W3C datetime with an offset, in the city's time zone."""
    return value.astimezone(CHINA).isoformat(timespec="seconds") if value else None


def open311_status(status: str) -> str:
    return "open" if status in OPEN_FOR_OPEN311 else "closed"


def check_jurisdiction(session: Session, jurisdiction_id: str | None) -> None:
    """One endpoint serves one city: jurisdiction_id is optional, but if given it must be the
    city's code (404 otherwise, per spec)."""
    if not jurisdiction_id:
        return
    root = jurisdictions.get_root(session)
    if root is None or root.code != jurisdiction_id:
        raise not_found(f"jurisdiction_id: 未知的辖区 {jurisdiction_id[:40]}")


# ---------------------------------------------------------------- discovery and services


def discovery(settings: Settings, url: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": settings.open311_contact,
        "key_service": "api_key 由平台管理员签发：shiyu open311 create-client NAME，"
        "或 POST /api/v1/open311/clients",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": CHANGESET,
                "type": "production" if settings.environment == "production" else "test",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def _published(session: Session) -> tuple[dict[str, Category], dict[str, Category]]:
    """(services by code, every category by code): active leaves whose parent is active."""
    every = {c.code: c for c in repository.categories(session)}
    parents = {c.parent_code for c in every.values() if c.parent_code and c.is_active}
    services = {
        code: c
        for code, c in every.items()
        if c.is_active
        and code not in parents
        and (c.parent_code is None or every[c.parent_code].is_active)
    }
    return services, every


def _service_view(category: Category, every: dict[str, Category]) -> dict[str, Any]:
    parent = every.get(category.parent_code) if category.parent_code else None
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{parent.name} / {category.name}" if parent else category.name,
        "metadata": False,
        "type": "realtime",
        "keywords": f"{KIND_LABELS.get(category.kind, category.kind)},{category.kind}",
        "group": parent.name if parent else category.name,
    }


def list_services(session: Session) -> list[dict[str, Any]]:
    services, every = _published(session)
    return [_service_view(c, every) for c in services.values()]


def service_definition(session: Session, service_code: str) -> dict[str, Any]:
    services, _ = _published(session)
    if service_code not in services:
        raise not_found(f"service_code: 服务类型不存在 {service_code[:40]}")
    # no extra attributes: a service request needs only the standard fields
    return {"service_code": service_code, "attributes": []}


# ---------------------------------------------------------------- api keys


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def authenticate(session: Session, api_key: str | None) -> Open311Client:
    if not api_key:
        raise Open311Error(403, "api_key: 缺少 api_key")
    client = repository.client_by_key_hash(session, hash_key(api_key))
    if client is None or not client.is_active:
        raise Open311Error(403, "api_key: api_key 无效或已停用")
    return client


def _client_actor(client: Open311Client) -> Actor:
    """Who the timeline and the audit trail name for a client's reports."""
    return Actor(
        user_id=None,
        username=f"open311:{client.name}",
        display_name=f"Open311 {client.name}"[:64],
        roles=frozenset(),
        permissions=frozenset(),
        jurisdiction_code=client.jurisdiction_code,
        scope_path=client.jurisdiction_path,
        level="client",
    )


# ---------------------------------------------------------------- POST requests


class _Fields:
    """Reads a form where an empty parameter counts as a missing one, collecting every
    problem so that one answer lists them all."""

    def __init__(self, form: Form) -> None:
        self.form = form
        self.problems: list[str] = []

    def get(self, name: str, *, max_length: int) -> str | None:
        values = self.form.get(name) or []
        value = values[0].strip() if values else ""
        if not value:
            return None
        if _CONTROL.search(value):
            self.problems.append(f"{name}: 含有不允许的控制字符")
            return None
        if len(value) > max_length:
            self.problems.append(f"{name}: 不得超过 {max_length} 个字符")
            return None
        return value

    def number(self, name: str, low: float, high: float) -> float | None:
        raw = self.get(name, max_length=32)
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not low <= value <= high:
            self.problems.append(f"{name}: 须为 {low:g} 到 {high:g} 之间的数")
            return None
        return value


def _full_name(first: str | None, last: str | None) -> str | None:
    parts = [p for p in (first, last) if p]
    if not parts:
        return None
    if all(_CJK.search(p) for p in parts):
        return "".join(reversed(parts))  # 姓 (last_name) before 名 (first_name)
    return " ".join(parts)


def _title(service_name: str, description: str | None) -> str:
    first_line = (description or "").strip().splitlines()[0][:60] if description else ""
    return first_line or service_name


def _check_place(
    session: Session,
    settings: Settings,
    client: Open311Client,
    lat: float | None,
    lng: float | None,
) -> str | None:
    """The grid of the point, refusing points inside the city but outside the client's unit."""
    if lat is None or lng is None:
        return None
    grid_code = jurisdictions.locate_grid_code(session, settings, lng=lng, lat=lat)
    grid = jurisdictions.get_unit(session, grid_code) if grid_code else None
    if grid is not None and not grid.path.startswith(client.jurisdiction_path):
        raise bad_request("lat/long: 位置不在该客户端的受理范围内")
    return grid_code


def _parse_intake(
    session: Session, settings: Settings, client: Open311Client, form: Form
) -> IntakeData:
    fields = _Fields(form)
    service_code = fields.get("service_code", max_length=32)
    lat = fields.number("lat", -90, 90)
    lng = fields.number("long", -180, 180)
    address = fields.get("address_string", max_length=300)
    address_id = fields.get("address_id", max_length=64)
    description = fields.get("description", max_length=MAX_DESCRIPTION)
    first = fields.get("first_name", max_length=25)
    last = fields.get("last_name", max_length=25)
    phone = fields.get("phone", max_length=20)
    external_id = next(
        (v for v in (fields.get(f, max_length=128) for f in EXTERNAL_ID_FIELDS) if v), None
    )
    for name in ("email", "device_id", "account_id", "media_url"):
        # accepted but not kept: e-mail is personal data we have no use for, and media URLs
        # are not fetched (no requests to addresses a client chooses)
        fields.get(name, max_length=2000)
    services, _ = _published(session)
    if service_code is None:
        fields.problems.append("service_code: 缺少服务类型")
    elif service_code not in services:
        fields.problems.append(f"service_code: 服务类型不存在 {service_code}")
    if (lat is None) != (lng is None) and not fields.problems:
        fields.problems.append("lat/long: 经纬度须同时提供")
    if lat is None and lng is None and address is None and not fields.problems:
        fields.problems.append(
            "lat/long: 须提供位置（lat 和 long）或 address_string"
            + ("；暂不支持 address_id" if address_id else "")
        )
    if phone is not None and not re.match(PHONE, phone):
        fields.problems.append("phone: 电话号码格式不正确")
    if fields.problems:
        raise bad_request(*fields.problems)
    assert service_code is not None
    grid_code = _check_place(session, settings, client, lat, lng)
    service_name = services[service_code].name
    return IntakeData(
        channel=Channel.open311,
        title=_title(service_name, description),
        description=description or "",
        category_code=service_code,
        lng=lng,
        lat=lat,
        address=address or "",
        grid_code=grid_code,
        # without a grid the client's unit receives it (首接负责)
        owner_code=None if grid_code else client.jurisdiction_code,
        reporter_name=_full_name(first, last),
        reporter_phone=phone,
        source=f"open311:{client.id}",
        external_id=external_id,
    )


def _create_event(
    session: Session, settings: Settings, client: Open311Client, data: IntakeData
) -> Event:
    event, _created = events.create_once(session, settings, data, actor=_client_actor(client))
    return event


def _submission(session: Session, client: Open311Client, event: Event) -> Open311Submission:
    row = repository.submission_of_event(session, event.id)
    if row is None:
        row = Open311Submission(token=secrets.token_hex(16), client_id=client.id, event_id=event.id)
        session.add(row)
        session.flush()
    return row


def submit(
    session: Session, settings: Settings, form: Form, *, api_key: str | None
) -> list[dict[str, Any]]:
    """POST requests: check the key, then the fields, then create the event (or find the one
    created for the same client id before)."""
    client = authenticate(session, api_key)
    data = _parse_intake(session, settings, client, form)
    try:
        event = _create_event(session, settings, client, data)
    except Open311Error:
        raise
    except ShiyuError as exc:
        raise bad_request(exc.message) from exc
    token = _submission(session, client, event).token
    return [
        {
            "service_request_id": event.code,
            "token": token,
            "service_notice": f"已受理，编号 {event.code}，可凭编号查询办理进度",
            "account_id": None,
        }
    ]


def token_status(session: Session, token: str) -> list[dict[str, Any]]:
    row = repository.submission_by_token(session, token) if len(token) <= 32 else None
    code = repository.event_code_of(session, row.event_id) if row else None
    if code is None:
        raise not_found("token: 未找到")
    return [{"service_request_id": code, "token": token}]


# ---------------------------------------------------------------- GET requests


def _status_notes(event: Event) -> str:
    label = events.STATUS_LABELS[Status(event.status)]
    # the handler's reply is public once the case is closed, as on the residents' page
    if event.status in (Status.closed, Status.rated) and event.reply.strip():
        return f"{label}：{event.reply.strip()}"
    return label


def _service_notice(event: Event) -> str | None:
    if event.status not in OPEN_FOR_OPEN311:
        return None
    if event.finish_deadline is None:
        return "已受理，待派遣处置"
    return f"应于 {event.finish_deadline.astimezone(CHINA):%Y-%m-%d %H:%M} 前办结"


def _request_view(
    event: Event, names: dict[str, str], departments: dict[int, str]
) -> dict[str, Any]:
    """The public view of an event: nothing about who reported it."""
    closed = open311_status(event.status) == "closed"
    lead = event.lead_department_id
    return {
        "service_request_id": event.code,
        "status": open311_status(event.status),
        "status_notes": _status_notes(event),
        "service_name": names.get(event.category_code or ""),
        "service_code": event.category_code or "",
        "description": event.description[:MAX_DESCRIPTION] or None,
        "agency_responsible": departments.get(lead) if lead else None,
        "service_notice": _service_notice(event),
        "requested_datetime": w3c(event.reported_at),
        "updated_datetime": w3c(
            event.closed_at if closed and event.closed_at else event.updated_at
        ),
        "expected_datetime": w3c(event.finish_deadline),
        "address": event.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": event.lat,
        "long": event.lng,
        "media_url": None,
    }


def _views(session: Session, rows: Sequence[Event]) -> list[dict[str, Any]]:
    names = {c.code: c.name for c in repository.categories(session)}
    departments = repository.department_names(
        session, {e.lead_department_id for e in rows if e.lead_department_id}
    )
    return [_request_view(e, names, departments) for e in rows]


def _comma_list(value: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in (value or "").split(",") if p.strip()))


def _parse_datetime(name: str, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise bad_request(f"{name}: 须为 W3C 日期时间，如 2026-01-01T00:00:00+08:00") from exc
    # a datetime without an offset is read in the city's time zone
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CHINA)


def _date_range(
    start_date: str | None, end_date: str | None, now: datetime
) -> tuple[datetime, datetime]:
    start = _parse_datetime("start_date", start_date)
    end = _parse_datetime("end_date", end_date)
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if start > end:
        raise bad_request("start_date: 不得晚于 end_date")
    if end - start > MAX_SPAN:
        raise bad_request("end_date: 查询时间跨度不得超过 90 天")
    return start, end


def _statuses(value: str | None) -> tuple[str, ...]:
    wanted = _comma_list(value)
    unknown = [s for s in wanted if s not in ("open", "closed")]
    if unknown:
        raise bad_request(f"status: 只能是 open 或 closed，收到 {unknown[0][:20]}")
    ours: set[str] = set()
    if "open" in wanted:
        ours |= {s.value for s in OPEN_FOR_OPEN311}
    if "closed" in wanted:
        ours |= {s.value for s in CLOSED_FOR_OPEN311}
    return tuple(sorted(ours))


def list_requests(
    session: Session,
    settings: Settings,
    *,
    service_request_id: str | None,
    service_code: str | None,
    start_date: str | None,
    end_date: str | None,
    status: str | None,
) -> list[dict[str, Any]]:
    channels = tuple(settings.open311_public_channels)
    codes = _comma_list(service_request_id)
    if len(codes) > MAX_ROWS:
        raise bad_request(f"service_request_id: 一次最多查询 {MAX_ROWS} 个")
    if codes:
        flt = repository.RequestFilter(channels=channels, codes=codes)
    else:
        start, end = _date_range(start_date, end_date, utcnow())
        flt = repository.RequestFilter(
            channels=channels,
            service_codes=_comma_list(service_code),
            statuses=_statuses(status),
            start=start,
            end=end,
            limit=MAX_ROWS,
        )
    return _views(session, repository.public_events(session, flt))


def get_request(session: Session, settings: Settings, code: str) -> list[dict[str, Any]]:
    flt = repository.RequestFilter(
        channels=tuple(settings.open311_public_channels), codes=(code,), limit=1
    )
    rows = repository.public_events(session, flt) if len(code) <= 24 else []
    if not rows:
        raise not_found(f"service_request_id: 未找到 {code[:24]}")
    return _views(session, rows)


# ---------------------------------------------------------------- api clients (admin)


def new_key() -> str:
    return "o311_" + secrets.token_urlsafe(32)


def _add_client(
    session: Session,
    *,
    name: str,
    key: str,
    unit_code: str,
    unit_path: str,
    actor: Actor | None,
) -> Open311Client:
    if repository.client_by_name(session, name) is not None:
        raise ClientNameTaken(details=[{"loc": ["body", "name"], "msg": "name taken"}])
    client = Open311Client(
        name=name,
        key_hash=hash_key(key),
        key_prefix=key[:12],
        jurisdiction_code=unit_code,
        jurisdiction_path=unit_path,
        is_active=True,
        created_by_id=actor.user_id if actor else None,
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="open311.client_create",
        object_type="open311_client",
        object_id=client.name,
        scope_path=unit_path,
        after={"name": name, "jurisdiction": unit_code, "key_prefix": client.key_prefix},
    )
    return client


def create_client(session: Session, actor: Actor, data: ClientCreate) -> tuple[Open311Client, str]:
    """A client receiving reports for a unit the admin may see (default: the admin's own)."""
    unit = jurisdictions.get_readable_unit(
        session, actor, data.jurisdiction_code or actor.jurisdiction_code
    )
    key = new_key()
    client = _add_client(
        session, name=data.name, key=key, unit_code=unit.code, unit_path=unit.path, actor=actor
    )
    return client, key


def create_client_for_city(
    session: Session, name: str, *, key: str | None = None
) -> tuple[Open311Client, str]:
    """Trusted (CLI, demo): a client for the whole city."""
    root = jurisdictions.get_root(session)
    if root is None:
        raise ShiyuError("系统尚未配置辖区", code="jurisdiction.empty")
    key = key or new_key()
    client = _add_client(
        session, name=name, key=key, unit_code=root.code, unit_path=root.path, actor=None
    )
    return client, key


def list_clients(session: Session, actor: Actor) -> Sequence[Open311Client]:
    return repository.list_clients(session, actor)


def deactivate_client(session: Session, actor: Actor | None, name: str) -> Open311Client:
    client = (
        repository.get_readable_client(session, actor, name)
        if actor
        else repository.client_by_name(session, name)
    )
    if client is None:
        raise ClientNotFound()
    if client.is_active:
        client.is_active = False
        client.deactivated_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="open311.client_deactivate",
            object_type="open311_client",
            object_id=client.name,
            scope_path=client.jurisdiction_path,
            before={"is_active": True},
            after={"is_active": False},
        )
        session.flush()
    return client


def ensure_demo_client(session: Session, key: str) -> bool:
    """The demo's client "demo" with the configured key (re-keyed if the setting changed);
    True when something was written."""
    client = repository.client_by_name(session, "demo")
    if client is None:
        create_client_for_city(session, "demo", key=key)
        return True
    if client.key_hash == hash_key(key) and client.is_active:
        return False
    client.key_hash, client.key_prefix = hash_key(key), key[:12]
    client.is_active, client.deactivated_at = True, None
    audit.record(
        session,
        actor=None,
        action="open311.client_rekey",
        object_type="open311_client",
        object_id=client.name,
        scope_path=client.jurisdiction_path,
        after={"key_prefix": client.key_prefix, "is_active": True},
    )
    session.flush()
    return True
