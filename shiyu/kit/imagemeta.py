"""Strip metadata from uploaded images without re-encoding them (no quality loss, no image
library on the upload path): EXIF (with its GPS position, camera serial, time), XMP,
comments and text chunks go; what decoding needs stays.

- JPEG: APPn segments other than APP0 (JFIF), APP2 ICC_PROFILE and APP14 Adobe (colour
  transform), and COM segments, are dropped; everything from SOS on is copied as is.
- PNG: tEXt, zTXt, iTXt, eXIf and tIME chunks are dropped.
- WebP: EXIF and "XMP " chunks are dropped and the VP8X flags and RIFF size corrected.
- GIF and PDF are returned unchanged (no EXIF; PDF documents are evidence, kept verbatim).

A damaged file is never refused here (the type check already passed): what can be parsed is
cleaned and the unparsable rest is kept as it is.
"""

from __future__ import annotations

import struct

_JPEG_KEEP_APP = ((0xE0, b"JFIF"), (0xE0, b"JFXX"), (0xE2, b"ICC_PROFILE"), (0xEE, b"Adobe"))
_PNG_DROP = frozenset({b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"})
_WEBP_DROP = frozenset({b"EXIF", b"XMP "})
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def strip(content_type: str, data: bytes) -> bytes:
    if content_type == "image/jpeg":
        return _jpeg(data)
    if content_type == "image/png":
        return _png(data)
    if content_type == "image/webp":
        return _webp(data)
    return data


def _jpeg_keeps(marker: int, payload: bytes) -> bool:
    if 0xE0 <= marker <= 0xEF:
        return any(marker == m and payload.startswith(sig) for m, sig in _JPEG_KEEP_APP)
    return marker != 0xFE  # COM


def _jpeg(data: bytes) -> bytes:
    out = bytearray(data[:2])  # SOI
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD8 or 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            out += data[pos : pos + 2]
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end: the rest is image data
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            break
        if _jpeg_keeps(marker, data[pos + 4 : end]):
            out += data[pos:end]
        pos = end
    out += data[pos:]
    return bytes(out)


def _png(data: bytes) -> bytes:
    out = bytearray(data[:8])
    pos = 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            break
        if kind not in _PNG_DROP:
            out += data[pos:end]
        pos = end
        if kind == b"IEND":
            break
    out += data[pos:]
    return bytes(out)


def _webp(data: bytes) -> bytes:
    if len(data) < 12:
        return data
    body = bytearray()
    pos = 12
    dropped: set[bytes] = set()
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        end = pos + 8 + size + (size & 1)
        if end > len(data):
            break
        if kind in _WEBP_DROP:
            dropped.add(kind)
        else:
            body += data[pos:end]
        pos = end
    body += data[pos:]
    if not dropped:
        return data
    if body[:4] == b"VP8X" and len(body) > 8:
        body[8] &= ~(_VP8X_EXIF | _VP8X_XMP) & 0xFF
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + bytes(body)
