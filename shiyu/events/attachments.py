"""Photos and files of an event: type checked by content, size limited, image metadata
(EXIF with GPS, XMP, comments) stripped."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.auth.access import Actor
from shiyu.config import Settings
from shiyu.errors import InvalidInput, ShiyuError
from shiyu.events.enums import AttachmentKind
from shiyu.events.models import Attachment, Event
from shiyu.kit import imagemeta, storage


class TooLarge(ShiyuError):
    status_code = 413
    code = "attachment.too_large"
    message = "文件过大"


class BadType(InvalidInput):
    status_code = 415
    code = "attachment.bad_type"
    message = "不支持的文件类型（仅支持 JPEG、PNG、GIF、WebP 图片和 PDF）"


def add(
    session: Session,
    settings: Settings,
    actor: Actor | None,
    event: Event,
    *,
    kind: AttachmentKind,
    filename: str,
    data: bytes,
) -> Attachment:
    if len(data) > settings.upload_max_bytes:
        raise TooLarge(details=[{"max_bytes": settings.upload_max_bytes, "size": len(data)}])
    content_type = storage.sniff(data)
    if content_type is None:
        raise BadType()
    if kind != AttachmentKind.file and content_type not in storage.IMAGE_TYPES:
        raise BadType("照片须为图片文件")
    data = imagemeta.strip(content_type, data)  # no GPS position or camera data kept
    key, digest = storage.store(settings.upload_dir, data)
    row = Attachment(
        event_id=event.id,
        kind=kind.value,
        filename=(filename or "upload")[-200:],
        content_type=content_type,
        size=len(data),
        sha256=digest,
        storage_key=key,
        uploaded_by_id=actor.user_id if actor else None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="event.attach",
        object_type="event",
        object_id=event.code or str(event.id),
        scope_path=event.scope_path,
        after={"kind": row.kind, "sha256": digest, "size": row.size},
    )
    return row


def read(settings: Settings, row: Attachment) -> bytes:
    return storage.read(settings.upload_dir, row.storage_key)
