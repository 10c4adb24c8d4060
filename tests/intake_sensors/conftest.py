"""Alarm sources for the webhook tests and a client that signs like a real sender."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.audit.models import AuditRecord
from shiyu.auth.access import system_actor
from shiyu.config import Settings
from shiyu.events.models import Action, Event
from shiyu.intake import sensors
from shiyu.intake.sensor_schemas import SourceCreate
from tests.factories.world import World


@dataclass
class Source:
    code: str
    secret: str


def create_source(
    session: Session, settings: Settings, *, code: str, owner: str, kind: str = "sensor", **kw: Any
) -> Source:
    data = SourceCreate.model_validate(
        {"code": code, "name": kw.pop("name", f"{code}监测网"), "kind": kind, "owner_code": owner}
        | kw
    )
    source, secret = sensors.create_source(session, settings, system_actor(), data)
    session.commit()
    return Source(source.code, secret)


def signed_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        sensors.TIMESTAMP_HEADER: stamp,
        sensors.SIGNATURE_HEADER: sensors.sign(secret, stamp, body),
    }


def encode(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def post_alarm(
    client: httpx.Client, source: Source, payload: Any, *, secret: str | None = None
) -> httpx.Response:
    body = encode(payload)
    return client.post(
        f"/api/v1/intake/alarms/{source.code}",
        content=body,
        headers=signed_headers(secret or source.secret, body),
    )


def counts(session: Session) -> dict[str, int]:
    """Rows a rejected alarm must not add."""
    return {
        model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for model in (Event, Action, AuditRecord)
    }


@pytest.fixture
def dust(session: Session, settings: Settings, world: World) -> Source:
    return create_source(session, settings, code="dust-net-1", owner=world.street_a)


@pytest.fixture
def video(session: Session, settings: Settings, world: World) -> Source:
    return create_source(
        session, settings, code="skyguard", owner=world.street_a, kind="video", name="蓝天卫士"
    )
