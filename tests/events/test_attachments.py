from __future__ import annotations

import httpx

from tests.factories.events import JPEG, PNG
from tests.factories.world import World


def _upload(
    client: httpx.Client, world: World, data: bytes, name: str = "x.png", kind: str = "photo"
) -> httpx.Response:
    assert world.event_a is not None
    return client.post(
        f"/api/v1/events/{world.event_a.code}/attachments",
        files={"file": (name, data, "image/png")},
        data={"kind": kind},
        headers=world.headers(client, "dispatcher"),
    )


def test_photo_is_stored_and_downloaded(client: httpx.Client, world: World) -> None:
    resp = _upload(client, world, JPEG, "现场.jpg")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["content_type"] == "image/jpeg"  # from the content, not the name or header
    assert world.event_a is not None
    got = client.get(
        f"/api/v1/events/{world.event_a.code}/attachments/{body['id']}",
        headers=world.headers(client, "supervisor"),
    )
    assert got.status_code == 200
    assert got.content == JPEG
    assert got.headers["content-type"] == "image/jpeg"


def test_type_is_checked_by_content(client: httpx.Client, world: World) -> None:
    resp = _upload(client, world, b"<html><script>alert(1)</script>", "evil.png")
    assert resp.status_code == 415
    assert resp.json()["error"]["code"] == "attachment.bad_type"


def test_pdf_is_not_a_photo(client: httpx.Client, world: World) -> None:
    assert _upload(client, world, b"%PDF-1.4 ...", "a.pdf", kind="photo").status_code == 415
    assert _upload(client, world, b"%PDF-1.4 ...", "a.pdf", kind="file").status_code == 201


def test_size_limit(client: httpx.Client, world: World, settings: object) -> None:
    big = PNG + b"\x00" * (10 * 1024 * 1024)
    resp = _upload(client, world, big)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "attachment.too_large"
