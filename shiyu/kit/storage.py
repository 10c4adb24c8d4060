"""Attachments on the local disk (a city may mount shared storage there when it runs several
application processes). Files are named by content hash, so a retry stores nothing twice."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: content types we accept, recognised from the file's first bytes, not its name
_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
]
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def sniff(data: bytes) -> str | None:
    for magic, content_type in _SIGNATURES:
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def store(root: str, data: bytes) -> tuple[str, str]:
    """Write once under its sha256; returns (storage key, sha256)."""
    digest = hashlib.sha256(data).hexdigest()
    key = f"{digest[:2]}/{digest}"
    path = Path(root) / key
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # atomic: never a half-written file under the final name
    return key, digest


def read(root: str, key: str) -> bytes:
    return (Path(root) / key).read_bytes()
