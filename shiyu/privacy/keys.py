"""`shiyu keys rotate`: re-encrypt every encrypted column under the newest key.

Put the new key first in SHIYU_ENCRYPTION_KEYS and keep the old ones after it (every key
decrypts, the first encrypts), run the command, then drop the old keys. The run:

- walks each table by primary key in batches, one transaction per batch, so a crash loses at
  most one uncommitted batch;
- is idempotent and resumable: a value that the newest key already decrypts is left alone,
  so running it again (after a crash, or twice) rewrites nothing it already rewrote;
- holds a database lease, so two runs (or two processes) never rotate at the same time;
- appends one audit record per committed batch (`keys.rotate`, with counts and the new
  key's fingerprint, never a key) and one at the end (`keys.rotate_done`).

Values no key can decrypt are counted as `unreadable` and left untouched (a key is missing
from the list: add it and run again).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Column, MetaData, Table, select, update
from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.kit import leases
from shiyu.kit.crypto import Cipher

#: (table, primary key, encrypted columns): every column written through Cipher.encrypt
ENCRYPTED_COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("events", "id", ("reporter_name", "reporter_phone")),
    ("outbound_messages", "id", ("recipient",)),
    ("sensor_sources", "id", ("secret", "previous_secret")),
)
LEASE = "keys.rotate"
LEASE_SECONDS = 600.0


class RotationBusy(RuntimeError):
    """Another rotation holds the lease."""


@dataclass
class TableReport:
    table: str
    rows_seen: int = 0
    values_rotated: int = 0
    values_current: int = 0
    values_unreadable: int = 0
    batches: int = 0


@dataclass
class RotationReport:
    key_fingerprint: str
    dry_run: bool
    tables: list[TableReport] = field(default_factory=list)

    @property
    def rotated(self) -> int:
        return sum(t.values_rotated for t in self.tables)

    @property
    def unreadable(self) -> int:
        return sum(t.values_unreadable for t in self.tables)


def fingerprint(key: str) -> str:
    """Names a key in reports and the audit trail without revealing it."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def generate_key() -> str:
    return Fernet.generate_key().decode()


class _Recrypt:
    def __init__(self, cipher: Cipher) -> None:
        self.newest = Fernet(cipher.keys[0].encode())
        self.all = MultiFernet([Fernet(k.encode()) for k in cipher.keys])

    def __call__(self, token: str) -> str | bool | None:
        """The token under the newest key; False if it already is; None if unreadable."""
        raw = token.encode()
        try:
            self.newest.decrypt(raw)
            return False
        except InvalidToken:
            pass
        try:
            return self.all.rotate(raw).decode()
        except InvalidToken:
            return None


def _table(name: str, pk: str, columns: tuple[str, ...]) -> Table:
    # a lightweight table description: this module must not import every domain's models
    return Table(name, MetaData(), Column(pk, primary_key=True), *(Column(c) for c in columns))


def _rotate_batch(
    session: Session,
    table: Table,
    pk: str,
    columns: tuple[str, ...],
    after: object,
    size: int,
    recrypt: _Recrypt,
    report: TableReport,
    *,
    dry_run: bool,
) -> object | None:
    """One batch after primary key `after`; returns the last key seen (None: table done)."""
    key_col = table.c[pk]
    rows = session.execute(
        select(key_col, *(table.c[c] for c in columns))
        .where(key_col > after)
        .order_by(key_col)
        .limit(size)
    ).all()
    if not rows:
        return None
    for row in rows:
        report.rows_seen += 1
        changes: dict[str, str] = {}
        for name, value in zip(columns, row[1:], strict=True):
            if value is None or value == "":
                continue
            result = recrypt(value)
            if result is False:
                report.values_current += 1
            elif result is None:
                report.values_unreadable += 1
            else:
                assert isinstance(result, str)
                changes[name] = result
        if changes and not dry_run:
            session.execute(update(table).where(key_col == row[0]).values(**changes))
        report.values_rotated += len(changes)
    report.batches += 1
    last: object = rows[-1][0]
    return last


def rotate(
    db: Database,
    settings: Settings,
    *,
    batch_size: int = 500,
    dry_run: bool = False,
    progress: Callable[[TableReport], None] | None = None,
) -> RotationReport:
    cipher = Cipher(settings.encryption_keys, settings.secret_key)
    recrypt = _Recrypt(cipher)
    report = RotationReport(key_fingerprint=fingerprint(cipher.keys[0]), dry_run=dry_run)
    holder = f"keys-{os.getpid()}-{os.urandom(4).hex()}"
    with db.transaction() as session:
        if not leases.acquire(session, name=LEASE, holder=holder, seconds=LEASE_SECONDS):
            raise RotationBusy("另一个密钥轮换正在进行")
    try:
        for name, pk, columns in ENCRYPTED_COLUMNS:
            table_report = TableReport(table=name)
            report.tables.append(table_report)
            table = _table(name, pk, columns)
            after: object | None = 0
            while after is not None:
                with db.transaction() as session:
                    before = table_report.values_rotated
                    last = _rotate_batch(
                        session,
                        table,
                        pk,
                        columns,
                        after,
                        batch_size,
                        recrypt,
                        table_report,
                        dry_run=dry_run,
                    )
                    done = table_report.values_rotated - before
                    if last is not None and done and not dry_run:
                        audit.record(
                            session,
                            actor=None,
                            action="keys.rotate",
                            object_type="table",
                            object_id=name,
                            scope_path="/",
                            extra={
                                "from_id": str(after),
                                "to_id": str(last),
                                "rotated": done,
                                "key": report.key_fingerprint,
                            },
                        )
                    leases.acquire(session, name=LEASE, holder=holder, seconds=LEASE_SECONDS)
                after = last
                if progress:
                    progress(table_report)
        if not dry_run:
            with db.transaction() as session:
                audit.record(
                    session,
                    actor=None,
                    action="keys.rotate_done",
                    object_type="keys",
                    object_id=report.key_fingerprint,
                    scope_path="/",
                    extra={
                        "rotated": report.rotated,
                        "unreadable": report.unreadable,
                        "tables": {t.table: t.values_rotated for t in report.tables},
                    },
                )
    finally:
        with db.transaction() as session:
            leases.release(session, name=LEASE, holder=holder)
    return report
