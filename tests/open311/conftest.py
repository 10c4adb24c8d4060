"""Open311 fixtures: the tiny world plus one api client for the whole city, and validators
built from the published GeoReport v2 JSON schemas (../shared/data/open311-schemas)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from sqlalchemy.orm import Session

from shiyu.open311 import service
from tests.factories.world import World

SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "data" / "open311-schemas"
BASE = "/open311/v2"
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@dataclass
class Open311World:
    world: World
    key: str
    client_id: int

    def point(self, grid: str | None = None) -> dict[str, str]:
        lng, lat = self.world.city.centres[grid or self.world.grid_a]
        return {"lat": str(lat), "long": str(lng)}

    def post(self, client: httpx.Client, fmt: str = "json", **fields: str | None) -> httpx.Response:
        data: dict[str, Any] = {
            "api_key": self.key,
            "service_code": "BJ0101",
            "description": "人行道井盖缺失",
            **self.point(),
        }
        data.update(fields)
        return client.post(
            f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items() if v is not None}
        )


@pytest.fixture
def o311(session: Session, world: World) -> Open311World:
    client, key = service.create_client_for_city(session, "tester")
    session.commit()
    return Open311World(world, key, client.id)


def _schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def validators() -> dict[str, Draft7Validator]:
    """`services`, `service-definition` and `requests` validators (refs resolved locally)."""
    if not SCHEMAS.is_dir():
        pytest.skip(f"GeoReport schemas not found at {SCHEMAS}")
    registry: Registry[Any] = Registry().with_resources(
        (name, Resource.from_contents(_schema(name), default_specification=DRAFT7))
        for name in ("request.json", "service.json")
    )
    return {
        name: Draft7Validator(_schema(f"{name}.json"), registry=registry)
        for name in ("services", "service-definition", "requests")
    }


def assert_valid(validator: Draft7Validator, document: Any) -> None:
    errors = sorted(validator.iter_errors(document), key=str)
    assert not errors, [e.message for e in errors]


def xml_of(resp: httpx.Response) -> ET.Element:
    assert resp.headers["content-type"].startswith("text/xml"), resp.headers["content-type"]
    assert resp.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(resp.content)


def errors_json(resp: httpx.Response) -> list[str]:
    """The descriptions of a GeoReport JSON error list (and checks its shape)."""
    assert resp.headers["content-type"] == "application/json; charset=utf-8"
    body = resp.json()
    assert isinstance(body, list)
    assert body
    for item in body:
        assert set(item) == {"code", "description"}
        assert item["code"] == resp.status_code
    return [item["description"] for item in body]


def errors_xml(resp: httpx.Response) -> list[str]:
    root = xml_of(resp)
    assert root.tag == "errors"
    out = []
    for error in root.findall("error"):
        assert error.findtext("code") == str(resp.status_code)
        out.append(error.findtext("description") or "")
    assert out
    return out
