"""Engines, sessions and the declarative base.

The request (or CLI/job wrapper) owns the transaction: services only flush.
On SQLite, writing transactions start with BEGIN IMMEDIATE so that the single
writer lock is taken up front (no stale-snapshot upgrade failures), while
reading transactions stay deferred and run alongside writers thanks to WAL.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from shiyu.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_GATE_TIMEOUT_SECONDS = 10.0


def _configure_sqlite(engine: Engine, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA synchronous=NORMAL")
        # lets `path LIKE '/a/b/%'` use the path indexes (codes and slashes have no case)
        cur.execute("PRAGMA case_sensitive_like=ON")
        cur.close()

    if not immediate:

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN")

        return

    # Writers of one process queue on a lock before BEGIN IMMEDIATE instead of in SQLite's
    # busy handler, which sleeps and retries: under many concurrent writers that polling
    # starved some of them past the busy timeout. The lock is held until the connection goes
    # back to the pool (after its commit or rollback); other processes still meet the busy
    # timeout, as before.
    gate = threading.Lock()
    holders: set[int] = set()  # ids of the pool records whose connection holds the gate

    def release(record: Any) -> None:
        if id(record) in holders:
            holders.discard(id(record))
            gate.release()

    @event.listens_for(engine, "begin")
    def _on_begin_immediate(conn: Connection) -> None:
        record = conn.connection._connection_record
        if id(record) not in holders:
            # bounded like SQLite's own busy timeout: a clear "database is locked" (503) rather
            # than a process that waits for ever
            if not gate.acquire(timeout=_GATE_TIMEOUT_SECONDS):
                locked = sqlite3.OperationalError("database is locked (writer queue timed out)")
                raise OperationalError("BEGIN IMMEDIATE", None, locked)
            holders.add(id(record))
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            release(record)
            raise

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        release(record)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_conn: Any, record: Any, _exc: Any) -> None:
        release(record)


def make_engine(url: str, *, immediate: bool = False, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, pool_pre_ping=False
        )
        _configure_sqlite(engine, immediate=immediate)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class Database:
    """Holds the engines of one process.

    Tests pin a connection (`bind_connection`) so that every session, including
    those opened by the HTTP server thread, joins the test's outer transaction
    through savepoints and is rolled back at the end of the test.
    """

    def __init__(self, settings: Settings) -> None:
        self.url = settings.database_url
        self.is_sqlite = settings.is_sqlite
        self.engine = make_engine(self.url, pool_size=settings.db_pool_size)
        self.write_engine = (
            make_engine(self.url, immediate=True, pool_size=settings.db_pool_size)
            if self.is_sqlite
            else self.engine
        )
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write = sessionmaker(bind=self.write_engine, expire_on_commit=False)
        self.pinned: Connection | None = None

    def session(self, *, write: bool = True) -> Session:
        if self.pinned is not None:
            return Session(
                bind=self.pinned, join_transaction_mode="create_savepoint", expire_on_commit=False
            )
        return (self._write if write else self._read)()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """A unit of work for CLI commands and jobs: commit on success, roll back on error."""
        with self.session(write=write) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()
