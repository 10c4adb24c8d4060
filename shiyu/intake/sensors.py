"""Sensor and video alarms (物联感知、视频告警): a webhook signed with HMAC per source, each
alarm deduplicated by the source's alarm id and turned into an event.

Signing (the sending system): ``X-Shiyu-Timestamp`` is the Unix time in seconds and
``X-Shiyu-Signature`` is ``"sha256=" + hex(HMAC-SHA256(secret, f"{timestamp}." + raw body))``.
A request that fails the check stores nothing, not even an audit record: anyone on the network
can send them, and recording them would let strangers fill the audit trail.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.auth.access import Actor
from shiyu.config import Settings
from shiyu.errors import Conflict, InvalidInput, NotFound, Unauthorized
from shiyu.events import repository as events_repository
from shiyu.events import service as events
from shiyu.events.deadlines import CHINA
from shiyu.events.enums import Channel, Urgency
from shiyu.events.models import Event
from shiyu.events.schemas import IntakeData
from shiyu.intake.sensor_models import SensorSource
from shiyu.intake.sensor_schemas import (
    AlarmIn,
    AlarmRule,
    SourceCreate,
    SourceKind,
    SourceUpdate,
)
from shiyu.jurisdiction import service as jurisdictions
from shiyu.kit.clock import utcnow
from shiyu.kit.paths import within

log = logging.getLogger("shiyu.intake.sensors")

TIMESTAMP_HEADER = "X-Shiyu-Timestamp"
SIGNATURE_HEADER = "X-Shiyu-Signature"
SIGNING_HELP = (
    f"{TIMESTAMP_HEADER}: 当前 Unix 时间（秒）；"
    f'{SIGNATURE_HEADER}: "sha256=" + hex(HMAC-SHA256(密钥, 时间戳 + "." + 原始请求体))'
)

#: Defaults for a new source; categories are the seeded catalogue (events migration).
DEFAULT_MAPPING: dict[str, AlarmRule] = {
    "dust": AlarmRule(category_code="SJ0302", urgency=Urgency.normal, label="扬尘超标"),
    "flood": AlarmRule(category_code="SJ0404", urgency=Urgency.urgent, label="道路积水"),
    "waterlogging": AlarmRule(category_code="SJ0404", urgency=Urgency.urgent, label="道路积水"),
    "smoke": AlarmRule(category_code="SJ0405", urgency=Urgency.emergency, label="烟雾"),
    "fire": AlarmRule(category_code="SJ0405", urgency=Urgency.emergency, label="火情"),
    "gas": AlarmRule(category_code="SJ0403", urgency=Urgency.emergency, label="燃气泄漏"),
    "crowding": AlarmRule(category_code="RX0601", urgency=Urgency.urgent, label="人员聚集"),
    # 蓝天卫士: open burning of straw or rubbish seen by the video towers
    "burning": AlarmRule(category_code="SJ0105", urgency=Urgency.normal, label="焚烧"),
    "garbage": AlarmRule(category_code="SJ0101", urgency=Urgency.normal, label="暴露垃圾"),
    "vending": AlarmRule(category_code="SJ0503", urgency=Urgency.normal, label="占道经营"),
    "parking": AlarmRule(category_code="SJ0505", urgency=Urgency.normal, label="机动车乱停放"),
}

_CHANNELS = {SourceKind.sensor: Channel.sensor, SourceKind.video: Channel.video}
#: compared against when the source is unknown, so that an unknown source costs the same
#: time as a wrong signature
_DUMMY_SECRET = secrets.token_urlsafe(32)


class AlarmUnauthorized(Unauthorized):
    """The same answer for a wrong signature and an unknown or disabled source: callers must
    not learn which sources exist."""

    code = "sensor.bad_signature"
    message = "告警签名无效"

    def __init__(self, message: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": 'HMAC-SHA256 realm="shiyu-alarms"'})
        super().__init__(message, **kw)


class StaleTimestamp(AlarmUnauthorized):
    code = "sensor.stale_timestamp"
    message = "告警时间戳无效或超出允许范围，请校准发送方时钟"


class SourceNotFound(NotFound):
    code = "sensor.source_not_found"
    message = "告警来源不存在或不在您的管辖范围内"


# ---------------------------------------------------------------- signatures


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _encrypt(settings: Settings, secret: str) -> str:
    token = events.cipher_for(settings).encrypt(secret)
    assert token is not None
    return token


def _matches(secret: str, timestamp: str, body: bytes, provided: str) -> bool:
    expected = sign(secret, timestamp, body).encode()
    return hmac.compare_digest(expected, provided.strip().lower().encode("utf-8", "replace"))


def _check_timestamp(timestamp: str, now: datetime, max_skew: int) -> None:
    """Refuse replays of old requests (and clocks far off): the signature covers the stamp."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise StaleTimestamp(details=[{"loc": ["header", TIMESTAMP_HEADER], "msg": "not a number"}])
    if abs(now.timestamp() - int(timestamp)) > max_skew:
        raise StaleTimestamp(
            details=[{"loc": ["header", TIMESTAMP_HEADER], "msg": f"more than {max_skew}s off"}]
        )


def _valid_secrets(settings: Settings, source: SensorSource, now: datetime) -> list[str]:
    cipher = events.cipher_for(settings)
    found = [cipher.decrypt(source.secret)]
    if (
        source.previous_secret
        and source.previous_secret_until
        and now < source.previous_secret_until
    ):
        found.append(cipher.decrypt(source.previous_secret))
    if None in found:
        log.error("alarm source secret cannot be decrypted", extra={"source": source.code})
    return [s for s in found if s]


def authenticate(
    session: Session,
    settings: Settings,
    *,
    source_code: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: datetime | None = None,
) -> SensorSource:
    """The active source whose secret signed this request, or `AlarmUnauthorized`."""
    now = now or utcnow()
    for header, value in ((TIMESTAMP_HEADER, timestamp), (SIGNATURE_HEADER, signature)):
        if not value:
            raise AlarmUnauthorized(details=[{"loc": ["header", header], "msg": "missing"}])
    assert timestamp is not None and signature is not None
    _check_timestamp(timestamp, now, settings.alarm_max_skew_seconds)
    source = _by_code(session, source_code) if len(source_code) <= 48 else None
    candidates = _valid_secrets(settings, source, now) if source and source.is_active else []
    ok = False
    for secret in candidates or [_DUMMY_SECRET]:
        # every candidate is checked (no early exit) to keep the timing flat
        ok = _matches(secret, timestamp, body, signature) or ok
    if source is None or not candidates or not ok:
        log.warning("alarm rejected", extra={"source": source_code[:64]})
        raise AlarmUnauthorized()
    return source


# ---------------------------------------------------------------- alarms


def _parse(body: bytes) -> AlarmIn:
    try:
        return AlarmIn.model_validate_json(body)
    except ValidationError as exc:
        details = [
            {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
        raise InvalidInput(details=details) from exc


def rule_for(session: Session, source: SensorSource, alarm_type: str) -> AlarmRule:
    """The source's rule for this type; an unknown type, or a category the city has removed
    since, still makes an event for the dispatcher to classify by hand."""
    raw = (source.mapping or {}).get(alarm_type)
    rule = AlarmRule.model_validate(raw) if raw else AlarmRule(label=alarm_type)
    if rule.category_code and events_repository.category(session, rule.category_code) is None:
        rule = rule.model_copy(update={"category_code": None})
    return rule


def _reported_at(alarm: AlarmIn, now: datetime) -> datetime:
    """Devices often send local time without a zone: read it as Beijing time; a device clock
    running ahead never dates an event in the future."""
    if alarm.occurred_at is None:
        return now
    at = alarm.occurred_at
    if at.tzinfo is None:
        at = at.replace(tzinfo=CHINA)
    return min(at, now)


def _description(source: SensorSource, alarm: AlarmIn, rule: AlarmRule) -> str:
    lines = [
        f"来源：{source.name}（{source.code}）",
        f"告警编号：{alarm.alarm_id}",
        f"告警类型：{rule.label or alarm.type}（{alarm.type}）",
    ]
    if alarm.device_id or alarm.device_name:
        lines.append(f"设备：{' '.join(x for x in (alarm.device_id, alarm.device_name) if x)}")
    if alarm.value is not None:
        lines.append(f"监测值：{alarm.value:g}{alarm.unit}")
    if alarm.level:
        lines.append(f"告警等级：{alarm.level}")
    if alarm.image_url:
        lines.append(f"抓拍图片：{alarm.image_url}")
    if alarm.description:
        lines += ["", alarm.description]
    return "\n".join(lines)


def _title(source: SensorSource, alarm: AlarmIn, rule: AlarmRule) -> str:
    where = alarm.address or alarm.device_name or source.name
    return f"{rule.label or alarm.type}告警：{where}"[:200]


def source_actor(source: SensorSource) -> Actor:
    """The source as the reporter on the timeline and in the audit trail."""
    return Actor(
        user_id=None,
        username=f"sensor:{source.code}",
        display_name=source.name,
        roles=frozenset(),
        permissions=frozenset(),
        jurisdiction_code=source.owner_code,
        scope_path=source.owner_path,
        level="sensor",
    )


def _intake(
    session: Session, settings: Settings, source: SensorSource, alarm: AlarmIn, now: datetime
) -> IntakeData:
    rule = rule_for(session, source, alarm.type)
    grid_code = None
    if alarm.lng is not None and alarm.lat is not None:
        grid_code = jurisdictions.locate_grid_code(session, settings, lng=alarm.lng, lat=alarm.lat)
    return IntakeData(
        channel=_CHANNELS[SourceKind(source.kind)],
        title=_title(source, alarm, rule),
        description=_description(source, alarm, rule),
        category_code=rule.category_code,
        urgency=rule.urgency,
        lng=alarm.lng,
        lat=alarm.lat,
        address=alarm.address or alarm.device_name or "",
        grid_code=grid_code,
        # 先属地: a placed alarm goes to its grid's community; otherwise to the source's unit
        owner_code=None if grid_code else source.owner_code,
        source=f"sensor:{source.code}",
        external_id=alarm.alarm_id,
        reported_at=_reported_at(alarm, now),
    )


def _create_once(
    session: Session, settings: Settings, source: SensorSource, data: IntakeData
) -> tuple[Event, bool]:
    return events.create_once(session, settings, data, actor=source_actor(source))


def receive(
    session: Session,
    settings: Settings,
    *,
    source_code: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
) -> tuple[Event, bool]:
    """Check the signature, then the body, then make (or find) the event: (event, created)."""
    now = utcnow()
    source = authenticate(
        session,
        settings,
        source_code=source_code,
        timestamp=timestamp,
        signature=signature,
        body=body,
        now=now,
    )
    alarm = _parse(body)
    existing = events_repository.get_by_external(session, f"sensor:{source.code}", alarm.alarm_id)
    if existing is not None:
        return existing, False
    return _create_once(session, settings, source, _intake(session, settings, source, alarm, now))


# ---------------------------------------------------------------- sources (admin)


def _by_code(session: Session, code: str) -> SensorSource | None:
    return session.scalars(select(SensorSource).where(SensorSource.code == code)).first()


def _readable(actor: Actor) -> Select[SensorSource]:
    return select(SensorSource).where(within(SensorSource.owner_path, actor.scope_path))


def list_sources(session: Session, actor: Actor) -> Sequence[SensorSource]:
    return session.scalars(_readable(actor).order_by(SensorSource.code)).all()


def get_source(session: Session, actor: Actor, code: str) -> SensorSource:
    source = session.scalars(_readable(actor).where(SensorSource.code == code)).first()
    if source is None:
        raise SourceNotFound()
    return source


def _check_mapping(session: Session, mapping: dict[str, AlarmRule]) -> dict[str, Any]:
    for alarm_type, rule in mapping.items():
        if rule.category_code and events_repository.category(session, rule.category_code) is None:
            raise InvalidInput(
                "事件分类不存在",
                code="event.unknown_category",
                details=[
                    {
                        "loc": ["body", "mapping", alarm_type, "category_code"],
                        "msg": "unknown category",
                        "input": rule.category_code,
                    }
                ],
            )
    return {k: v.model_dump(mode="json") for k, v in sorted(mapping.items())}


def _view(source: SensorSource) -> dict[str, Any]:
    """What the audit trail keeps of a source (never the secret)."""
    return {
        "code": source.code,
        "name": source.name,
        "kind": source.kind,
        "owner_code": source.owner_code,
        "is_active": source.is_active,
        "mapping": source.mapping,
    }


def _audit(
    session: Session,
    actor: Actor,
    source: SensorSource,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"sensor_source.{action}",
        object_type="sensor_source",
        object_id=source.code,
        scope_path=source.owner_path,
        before=before,
        after=after,
    )


def create_source(
    session: Session, settings: Settings, actor: Actor, data: SourceCreate
) -> tuple[SensorSource, str]:
    """A new source and its secret (returned once; only the encrypted copy is kept)."""
    owner = jurisdictions.get_readable_unit(session, actor, data.owner_code)
    if _by_code(session, data.code) is not None:
        raise Conflict(
            "告警来源编码已存在",
            code="sensor.code_taken",
            details=[{"loc": ["body", "code"], "msg": "taken", "input": data.code}],
        )
    mapping = DEFAULT_MAPPING if data.mapping is None else data.mapping
    secret = new_secret()
    source = SensorSource(
        code=data.code,
        name=data.name.strip(),
        kind=data.kind.value,
        secret=_encrypt(settings, secret),
        owner_code=owner.code,
        owner_path=owner.path,
        mapping=_check_mapping(session, mapping),
        is_active=data.is_active,
    )
    session.add(source)
    session.flush()
    _audit(session, actor, source, "create", after=_view(source))
    return source, secret


def update_source(session: Session, actor: Actor, code: str, data: SourceUpdate) -> SensorSource:
    source = get_source(session, actor, code)
    before = _view(source)
    fields = data.model_dump(exclude_unset=True)
    if fields.get("owner_code"):
        owner = jurisdictions.get_readable_unit(session, actor, fields["owner_code"])
        source.owner_code, source.owner_path = owner.code, owner.path
    if data.mapping is not None:
        source.mapping = _check_mapping(session, data.mapping)
    if data.name is not None:
        source.name = data.name.strip()
    if data.is_active is not None:
        source.is_active = data.is_active
    session.flush()
    _audit(session, actor, source, "update", before=before, after=_view(source))
    return source


def rotate_secret(
    session: Session,
    settings: Settings,
    actor: Actor,
    code: str,
    *,
    grace_minutes: int,
) -> tuple[SensorSource, str]:
    """A new secret; the old one keeps working for `grace_minutes` while the sender switches."""
    source = get_source(session, actor, code)
    now = utcnow()
    secret = new_secret()
    if grace_minutes > 0:
        source.previous_secret = source.secret
        source.previous_secret_until = now + timedelta(minutes=grace_minutes)
    else:
        source.previous_secret = source.previous_secret_until = None
    source.secret = _encrypt(settings, secret)
    source.secret_rotated_at = now
    session.flush()
    _audit(session, actor, source, "rotate_secret", after={"grace_minutes": grace_minutes})
    return source, secret
