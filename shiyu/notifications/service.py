from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from shiyu.auth.access import Actor
from shiyu.auth.models import Role, User
from shiyu.kit.clock import utcnow
from shiyu.kit.crypto import Cipher
from shiyu.kit.watch import WatchedCache
from shiyu.notifications.channels import CHANNELS
from shiyu.notifications.models import Notification, OutboundMessage

_NOTIFICATIONS = cast(Table, Notification.__table__)
_OUTBOUND = cast(Table, OutboundMessage.__table__)


def notify_users(
    session: Session,
    user_ids: Iterable[int],
    *,
    kind: str,
    title: str,
    body: str = "",
    event_id: int | None = None,
) -> int:
    """One inbox row per user."""
    return notify_many(session, kind=kind, messages=[(user_ids, title, event_id)], body=body)


def notify_many(
    session: Session,
    *,
    kind: str,
    messages: Iterable[tuple[Iterable[int], str, int | None]],
    body: str = "",
) -> int:
    """Many (users, title, event) messages of one kind in one bulk insert, not ORM objects:
    the deadline sweep announces thousands of events at once, and building an object (and
    a statement) per notification dominated it."""
    now = utcnow()
    rows = [
        {
            "user_id": uid,
            "kind": kind,
            "title": title[:200],
            "body": body,
            "event_id": event_id,
            "created_at": now,
        }
        for user_ids, title, event_id in messages
        for uid in sorted(set(user_ids))
    ]
    if rows:
        # Core, not the ORM's bulk path: a cached statement with many parameter sets costs a
        # fraction of the ORM's per-row bookkeeping (150,000 notices in a first sweep)
        session.connection().execute(insert(_NOTIFICATIONS), rows)
    return len(rows)


#: every dispatch tells the lead department's handlers
_department_users: WatchedCache[int, tuple[int, ...]] = WatchedCache(
    "department-users", (User,), ttl=30.0
)


def users_of_department(session: Session, department_id: int) -> list[int]:
    """Active users of the department (cached per process, cleared when users change here)."""

    def load() -> tuple[int, ...]:
        return tuple(
            session.scalars(
                select(User.id).where(User.department_id == department_id, User.is_active.is_(True))
            )
        )

    return list(_department_users.get_or_load(session, department_id, load))


#: every intake tells the receiving centre's dispatchers: per set of roles, the users of
#: every unit at once (reports come from hundreds of units, and one query for all of them
#: costs less than a few dozen for one each)
_recipients: WatchedCache[tuple[str, ...], dict[str, tuple[int, ...]]] = WatchedCache(
    "unit-users", (User, Role), ttl=30.0
)


def users_at(session: Session, jurisdiction_code: str, roles: Sequence[str]) -> list[int]:
    """Active users sitting on exactly this unit with one of these roles (cached per process,
    cleared when users or roles change here)."""
    wanted = tuple(sorted(roles))
    if _recipients.changed_in(session):  # its own changes, for this unit only
        return list(_users_by_unit(session, wanted, jurisdiction_code).get(jurisdiction_code, ()))
    by_unit = _recipients.get_or_load(session, wanted, lambda: _users_by_unit(session, wanted))
    return list(by_unit.get(jurisdiction_code, ()))


def _users_by_unit(
    session: Session, roles: Sequence[str], jurisdiction_code: str | None = None
) -> dict[str, tuple[int, ...]]:
    stmt = select(User.jurisdiction_code, User.id).where(
        User.is_active.is_(True), User.roles.any(Role.code.in_(roles))
    )
    if jurisdiction_code is not None:
        stmt = stmt.where(User.jurisdiction_code == jurisdiction_code)
    found: dict[str, list[int]] = {}
    for code, user_id in session.execute(stmt.order_by(User.id)):
        found.setdefault(code, []).append(user_id)
    return {code: tuple(ids) for code, ids in found.items()}


@dataclass(frozen=True)
class Outbound:
    recipient: str
    #: the recipient as stored (the caller may hold its ciphertext already)
    encrypted_recipient: str
    body: str
    event_id: int | None = None


def send_outbound_many(session: Session, *, channel: str, messages: Sequence[Outbound]) -> int:
    """`send_outbound` for a batch (a 12345 import's receipts): one bulk insert."""
    if not messages:
        return 0
    now = utcnow()
    sender = CHANNELS[channel]
    rows = [
        {
            "channel": channel,
            "recipient": m.encrypted_recipient,
            "body": m.body,
            "event_id": m.event_id,
            "status": sender.send(m.recipient, m.body),
            "created_at": now,
        }
        for m in messages
    ]
    session.connection().execute(insert(_OUTBOUND), rows)
    return len(rows)


def send_outbound(
    session: Session,
    cipher: Cipher,
    *,
    channel: str,
    recipient: str,
    body: str,
    event_id: int | None = None,
) -> None:
    """Send one message and keep it (`send_outbound_many` for one)."""
    message = Outbound(recipient, cipher.encrypt(recipient) or "", body, event_id)
    send_outbound_many(session, channel=channel, messages=[message])


def inbox(
    session: Session, actor: Actor, *, unread_only: bool, limit: int
) -> tuple[Sequence[Notification], int]:
    stmt = select(Notification).where(Notification.user_id == actor.user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    rows = session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)).all()
    unread = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
    )
    return rows, unread or 0


def mark_read(session: Session, actor: Actor, ids: list[int] | None) -> int:
    stmt = update(Notification).where(
        Notification.user_id == actor.user_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    result = session.execute(stmt.values(read_at=utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]
