"""Uploaded photos lose their metadata (EXIF with the GPS position, XMP, comments, text
chunks) and nothing else: the stored image decodes to the same pixels."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import ExifTags, Image, PngImagePlugin

from shiyu.kit import imagemeta
from tests.factories.world import World

GPS_LAT = (30.0, 35.0, 12.5)


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "CameraMaker"
    exif[ExifTags.Base.BodySerialNumber] = "SERIAL-123456"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LAT
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (114.0, 18.0, 1.0)
    return exif


def _image() -> Image.Image:
    img = Image.new("RGB", (16, 12), (200, 30, 30))
    img.putpixel((3, 4), (0, 255, 0))
    return img


def jpeg_with_gps() -> bytes:
    buf = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">GPS 30.58,114.30</x:xmpmeta>'
    _image().save(buf, "JPEG", exif=_exif(), quality=95, comment=b"home of Li Si", xmp=xmp)
    return buf.getvalue()


def png_with_gps() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "home of Li Si")
    info.add_itxt("Location", "30.58,114.30")
    buf = io.BytesIO()
    _image().save(buf, "PNG", pnginfo=info, exif=_exif())
    return buf.getvalue()


def webp_with_gps() -> bytes:
    buf = io.BytesIO()
    _image().save(buf, "WEBP", exif=_exif(), lossless=True)
    return buf.getvalue()


def _assert_clean(original: bytes, stored: bytes) -> None:
    assert b"SERIAL-123456" in original  # the fixture does carry metadata
    for secret in (b"SERIAL-123456", b"CameraMaker", b"Li Si", b"30.58", b"Exif\x00\x00"):
        assert secret not in stored
    with Image.open(io.BytesIO(stored)) as img:
        assert ExifTags.IFD.GPSInfo not in img.getexif()
        assert not img.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert len(img.getexif()) == 0
        with Image.open(io.BytesIO(original)) as before:
            assert img.size == before.size
            assert img.convert("RGB").tobytes() == before.convert("RGB").tobytes()


@pytest.mark.parametrize(
    ("content_type", "build"),
    [("image/jpeg", jpeg_with_gps), ("image/png", png_with_gps), ("image/webp", webp_with_gps)],
)
def test_strip_removes_metadata_keeps_pixels(content_type: str, build: object) -> None:
    original = build()  # type: ignore[operator]
    _assert_clean(original, imagemeta.strip(content_type, original))


def test_damaged_files_are_not_refused() -> None:
    for content_type, data in (
        ("image/jpeg", b"\xff\xd8\xff\xe1\x00"),
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
        ("image/webp", b"RIFF\x10\x00\x00\x00WEBPVP8X"),
    ):
        assert imagemeta.strip(content_type, data) == data


def test_uploaded_photo_has_no_gps(client: httpx.Client, world: World) -> None:
    assert world.event_a is not None
    original = jpeg_with_gps()
    resp = client.post(
        f"/api/v1/events/{world.event_a.code}/attachments",
        files={"file": ("现场.jpg", original, "image/jpeg")},
        data={"kind": "photo"},
        headers=world.headers(client, "dispatcher"),
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["size"] < len(original)
    got = client.get(
        f"/api/v1/events/{world.event_a.code}/attachments/{resp.json()['id']}",
        headers=world.headers(client, "supervisor"),
    )
    assert got.status_code == 200
    _assert_clean(original, got.content)
