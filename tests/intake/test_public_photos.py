"""Residents add photos to their own fresh report (code + phone), not to anyone else's."""

from __future__ import annotations

import httpx

from tests.factories.world import World

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PHONE = "13812345678"


def _report(client: httpx.Client, world: World) -> str:
    lng, lat = world.city.centres[world.grid_a]
    body = {"title": "路灯不亮", "reporter_phone": PHONE, "lng": lng, "lat": lat}
    resp = client.post("/api/v1/public/events", json=body)
    assert resp.status_code == 201, resp.text
    code: str = resp.json()["code"]
    return code


def _photo(client: httpx.Client, code: str, phone: str, data: bytes = PNG) -> httpx.Response:
    return client.post(
        f"/api/v1/public/events/{code}/photos",
        data={"phone": phone},
        files={"file": ("a.png", data, "image/png")},
    )


def test_resident_adds_a_photo_staff_can_see(client: httpx.Client, world: World) -> None:
    code = _report(client, world)
    resp = _photo(client, code, PHONE)
    assert resp.status_code == 201, resp.text
    assert resp.json()["content_type"] == "image/png"
    detail = client.get(f"/api/v1/events/{code}", headers=world.headers(client, "dispatcher"))
    assert [a["id"] for a in detail.json()["attachments"]] == [resp.json()["id"]]


def test_wrong_phone_bad_file_and_limit(client: httpx.Client, world: World) -> None:
    code = _report(client, world)
    assert _photo(client, code, "13900000001").status_code == 404
    bad = _photo(client, code, PHONE, b"<script>alert(1)</script>")
    assert bad.status_code in (415, 422), bad.text
    missing = client.post(f"/api/v1/public/events/{code}/photos", data={"phone": PHONE})
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["loc"] == ["body", "file"]
    for _ in range(6):
        assert _photo(client, code, PHONE).status_code == 201
    over = _photo(client, code, PHONE)
    assert over.status_code == 409 and over.json()["error"]["code"] == "public.photo_limit"


def test_no_photos_once_accepted(client: httpx.Client, world: World) -> None:
    code = _report(client, world)
    resp = client.post(
        f"/api/v1/events/{code}/actions",
        json={"action": "accept"},
        headers=world.headers(client, "dispatcher"),
    )
    assert resp.status_code == 200, resp.text
    late = _photo(client, code, PHONE)
    assert late.status_code == 409 and late.json()["error"]["code"] == "public.photo_closed"
