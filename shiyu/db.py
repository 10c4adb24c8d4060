"""Engines, sessions and the declarative base.

The request (or CLI/job wrapper) owns the transaction: services only flush.
On SQLite, writing transactions start with BEGIN IMMEDIATE so that the single
writer lock is taken up front (no stale-snapshot upgrade failures), while
reading transactions stay deferred and run alongside writers thanks to WAL.
A process's writers do not checkpoint the WAL themselves: a thread of the process does
(`WalCheckpointer`), so that copying pages back into the database does not sit between a
batch of reports and its answer.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
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


log = logging.getLogger(__name__)

_GATE_TIMEOUT_SECONDS = 10.0
#: the write-ahead log's length (in 4 KB pages: 8 MB) beyond which the checkpointer starts it
#: over, and the size its file is truncated back to afterwards
WAL_RESTART_FRAMES = 2048
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
#: how long after a writing thread's last offer to restart the log (after each of its
#: batches) the checkpoint thread leaves restarts to it
WRITER_RESTARTS_SECONDS = 1.0


class _CommitWoken:
    """A thread of its own that does some upkeep of the database after writes: woken by each
    commit (`written`), at most every `interval` seconds, and once more when stopped."""

    thread_name = "db-upkeep"

    def __init__(self, *, interval: float) -> None:
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._stop.clear()  # a database used again after `dispose()`
                self._thread = threading.Thread(
                    target=self._loop, name=self.thread_name, daemon=True
                )
                self._thread.start()

    def written(self) -> None:
        """A write transaction committed: there is something to do."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join(timeout)

    def _loop(self) -> None:
        with self._connection() as conn:
            while not self._stop.is_set():
                self._wake.wait()
                self._wake.clear()
                self.run_once(conn)
                self._stop.wait(self.interval)  # at most every `interval`: batches go on
            self.run_once(conn)  # what the last writes left

    def _connection(self) -> AbstractContextManager[Any]:
        return nullcontext()

    def run_once(self, conn: Any) -> None:
        raise NotImplementedError


class WalCheckpointer(_CommitWoken):
    """Checkpoints a SQLite database's write-ahead log from a thread of its own.

    SQLite's automatic checkpoint runs inside the commit that crosses its threshold: every
    few batches of reports, one of them waited for about 4 MB to be read back and written
    into the database, and the writer thread (the process's only one) with it; a third of
    the writer's time was spent there. The writers' own checkpoints are off
    (`wal_autocheckpoint=0`, see `Database`) and this thread runs a PASSIVE checkpoint,
    which never blocks readers or writers, whenever a write has been committed.

    A PASSIVE checkpoint alone never lets the log start over under sustained writes: SQLite
    rewinds it only when a writer begins after a checkpoint copied *every* frame, and commits
    arrive while each pass runs. At 500 reports/s the log grew by 100 MB/s, to 2 GB in 30 s,
    until the kernel throttled the writes and creation halved. So once the log holds
    `restart_frames`, a second PASSIVE pass catches up and a RESTART checkpoint copies the few
    frames left and waits for the readers of older snapshots, holding the writers for those
    milliseconds only: its busy timeout is short (`restart_wait_ms`), and when a long reader is
    still in the log it gives up and tries again `restart_backoff` seconds later (the writers
    wait while it tries: a long export must not cost them 50 ms in every 200).
    `journal_size_limit` (set by the writers, see `_configure_sqlite`) then truncates the file
    that a burst had grown.

    A RESTART also waits for the write transaction in progress, and under sustained intake
    there nearly always is one: half of them gave up (a batch lasts 40-80 ms), and the log
    grew to 200-300 MB between two that did. So the process's group-commit thread, which
    knows when it holds no transaction, calls `restart_if_due` right after each commit: the
    log starts over while the next batch waits a few milliseconds. From then on this
    thread's passes stay PASSIVE: its own RESTARTs still met the batches' transactions, held
    off new writers while they waited, and their back-off then kept the group-commit thread
    from restarting for a second (the log grew to 200-475 MB at 50 clients after the
    lower levels). And a RESTART waits for a pass in progress: two checkpoints at once, the
    second fails at once (SQLite's checkpoint lock calls no busy handler)."""

    thread_name = "wal-checkpoint"

    def __init__(
        self,
        path: str,
        *,
        # a pass after nearly every batch: what a RESTART must still copy while the writer
        # waits is then one batch's pages, not 0.2 s of them (p99 at 50 clients creating
        # events: 90-103 ms against 106-124 with passes every 0.2 s and restarts at 32 MB)
        interval: float = 0.02,
        restart_frames: int = WAL_RESTART_FRAMES,
        restart_wait_ms: int = 50,
        restart_backoff: float = 1.0,
    ) -> None:
        super().__init__(interval=interval)
        self.path = path
        self.restart_frames = restart_frames
        self.restart_wait_ms = restart_wait_ms
        self.restart_backoff = restart_backoff
        self._next_restart = 0.0  # time.monotonic() before which no RESTART is tried
        self._log_frames = 0  # the log's length at the last pass
        #: the length of the log the last RESTART emptied, until a write starts it over (a
        #: pass meanwhile still counts its old frames)
        self._restarted_at = -1
        self._restart_lock = threading.Lock()
        self._restart_conn: sqlite3.Connection | None = None
        #: held for each checkpoint: two at once, the second fails at once (SQLite's checkpoint
        #: lock calls no busy handler), and a failed RESTART backs off
        self._pass_lock = threading.Lock()
        #: when a writing thread last offered to restart the log between its transactions
        #: (`restart_if_due`): within `WRITER_RESTARTS_SECONDS` of it this thread's passes stay
        #: PASSIVE (its RESTARTs met the writer's transaction, held off new writers while they
        #: waited, up to `restart_wait_ms`, and then backed off)
        self._writer_offered = -math.inf
        #: checkpoints run, WAL frames copied back and logs started over, for the tests and the
        #: curious
        self.runs = 0
        self.frames = 0
        self.restarts = 0

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, check_same_thread=False)

    def _connection(self) -> AbstractContextManager[sqlite3.Connection]:
        return closing(self._connect())

    def run_once(self, conn: sqlite3.Connection) -> None:
        self.checkpoint(conn)

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            with self._pass_lock:
                self._pass(conn, "PASSIVE")
                writer_restarts = time.monotonic() - self._writer_offered < WRITER_RESTARTS_SECONDS
                if not writer_restarts and self.restart_due():
                    self._restart(conn)
        except sqlite3.Error as exc:  # a locked or vanished file: the next commit retries
            log.warning("WAL checkpoint of %s failed: %s", self.path, exc)

    def restart_due(self) -> bool:
        """Whether the log has grown past `restart_frames` and no RESTART gave up lately."""
        return self._log_frames >= self.restart_frames and time.monotonic() >= self._next_restart

    def restart_if_due(self) -> None:
        """Start the log over now if it is due: for a writing thread between two of its
        transactions (on a connection of the checkpointer's, kept for it)."""
        self._writer_offered = time.monotonic()
        if not self.restart_due() or not self._restart_lock.acquire(blocking=False):
            return
        try:
            if self._restart_conn is None:
                self._restart_conn = self._connect()
            with self._pass_lock:  # the thread's pass in progress, if any, is short
                self._restart(self._restart_conn)
        except sqlite3.Error as exc:
            log.warning("WAL restart of %s failed: %s", self.path, exc)
        finally:
            self._restart_lock.release()

    def _restart(self, conn: sqlite3.Connection) -> None:
        self._pass(conn, "PASSIVE")  # what came in meanwhile, still without blocking
        conn.execute(f"PRAGMA busy_timeout={self.restart_wait_ms}")
        try:
            busy, _frames = self._pass(conn, "RESTART")
        finally:
            conn.execute("PRAGMA busy_timeout=10000")
        if busy:
            self._next_restart = time.monotonic() + self.restart_backoff
        else:
            self.restarts += 1

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        with self._restart_lock:
            if self._restart_conn is not None:
                self._restart_conn.close()
                self._restart_conn = None

    def _pass(self, conn: sqlite3.Connection, mode: str) -> tuple[bool, int]:
        """One checkpoint: whether a writer or a reader kept it from finishing, and the log's
        length in frames."""
        busy, frames, copied = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        self.runs += 1
        self.frames += max(copied, 0)
        if mode == "RESTART" and not busy:
            self._log_frames, self._restarted_at = 0, int(frames)
        elif int(frames) != self._restarted_at:
            self._log_frames, self._restarted_at = max(int(frames), 0), -1
        # else: the log a RESTART emptied, which the next write starts over: nothing is due
        return bool(busy), int(frames)


#: PostgreSQL GIN indexes written at intake whose pending entries `PendingListCleaner` moves
PENDING_LIST_INDEXES = ("ix_event_search_document",)
#: pending-list pages (8 KB) a run of `PendingListCleaner` aims to move: about 700 reports of
#: real appeals' texts, a second of intake at 50 clients
CLEAN_TARGET_PAGES = 512
#: the least and the most `PendingListCleaner` waits between two runs, in seconds
CLEAN_INTERVALS = (0.25, 2.0)


def next_clean_interval(
    interval: float,
    moved: int,
    *,
    target: int = CLEAN_TARGET_PAGES,
    bounds: tuple[float, float] = CLEAN_INTERVALS,
) -> float:
    """The wait before a cleaner's next run, from the pages its last one moved: twice as long
    below half the target (little intake, or the cleaners of other processes moved the rest),
    half as long past twice the target."""
    low, high = bounds
    if moved < target / 2:
        return min(interval * 2, high)
    if moved > target * 2:
        return max(interval / 2, low)
    return interval


class PendingListCleaner(_CommitWoken):
    """PostgreSQL: moves the new entries of the full-text index into the index proper from a
    thread of its own.

    A GIN index with `fastupdate` (the default) collects new entries in a pending list, and
    the insert that finds the list past `gin_pending_list_limit` (4 MB) merges all of it while
    its transaction waits. At 50 clients creating events that was one batch of reports held
    for about 200 ms every 1.2 s, and p99 was 456 ms. This thread calls
    `gin_clean_pending_list` after writes, so the list stays short and intake no longer pays
    for it (an insert skips the merge while another session is cleaning). Without `fastupdate`
    each insert updates the index itself: creation fell from 298 to 204 reports/s.

    The more reports a run moves, the less each costs the server (a token met by several is
    inserted once): 0.58–0.61 ms of server CPU a report with a run a second against 0.72–0.75
    ms with four, in an in-process replay of intake batches. So each run aims at moving about
    `CLEAN_TARGET_PAGES` (`next_clean_interval`): the wait doubles after a run that moved less
    than half of it and halves after one past twice it, between 0.25 and 2 s. The cleaners of
    several processes share the work so: each waits longer as the others move pages too. The
    index lets its list grow to 16 MB (revision 0023searchpending), four times the target,
    before an insert merges it itself; at most 2 s between runs keeps a sudden burst of
    reports (1,000 a second: about 1,400 pages in 2 s) below that."""

    thread_name = "gin-pending-list"

    def __init__(
        self, engine: Engine, *, interval: float = 1.0, indexes: tuple[str, ...] = ()
    ) -> None:
        super().__init__(interval=interval)
        self.engine = engine
        self.indexes = list(indexes or PENDING_LIST_INDEXES)
        #: pending-list pages moved into the indexes, for the tests and the curious
        self.pages = 0

    def run_once(self, conn: Any) -> None:
        moved_now = 0
        for name in list(self.indexes):
            try:
                with self.engine.connect() as db:
                    moved = db.exec_driver_sql(
                        "SELECT gin_clean_pending_list(to_regclass(%(index)s))", {"index": name}
                    ).scalar()
                    db.commit()
            except DBAPIError as exc:  # not the index's owner, say: intake cleans it instead
                log.warning("cannot clean the pending list of %s, leaving it: %s", name, exc)
                self.indexes.remove(name)
                continue
            moved_now += int(moved or 0)
        self.pages += moved_now
        self.interval = next_clean_interval(self.interval, moved_now)


class _SignallingConnection(sqlite3.Connection):
    """A SQLite connection that calls `after_commit` once its commit is done. The checkpoint
    thread is woken so (not by SQLAlchemy's `commit` event, which comes before the driver's
    commit): a pass it ran at once could miss the commit's frames, and when no write came
    after, nothing woke it for them again."""

    after_commit: Callable[[], None] | None = None

    def commit(self) -> None:
        super().commit()
        if self.after_commit is not None:
            self.after_commit()


def _configure_sqlite(
    engine: Engine,
    *,
    immediate: bool,
    checkpointer: WalCheckpointer | None = None,
    cache_mb: int | None = None,
) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        if cache_mb is not None:
            cur.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")  # negative: in KiB
        if checkpointer is not None:
            cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
            dbapi_conn.after_commit = lambda: checkpointer.written()
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


def make_engine(
    url: str,
    *,
    immediate: bool = False,
    pool_size: int = 10,
    checkpointer: WalCheckpointer | None = None,
    sqlite_cache_mb: int | None = None,
) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": 10,
                "factory": _SignallingConnection,
            },
            pool_pre_ping=False,
        )
        _configure_sqlite(
            engine, immediate=immediate, checkpointer=checkpointer, cache_mb=sqlite_cache_mb
        )
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
        path = make_url(self.url).database if self.is_sqlite else None
        #: a file database's writers leave checkpoints to this (started by the first writer)
        self.checkpointer = (
            WalCheckpointer(path)
            if path and path != ":memory:" and "mode=memory" not in path
            else None
        )
        self.write_engine = (
            make_engine(
                self.url,
                immediate=True,
                pool_size=settings.db_pool_size,
                checkpointer=self.checkpointer,
                sqlite_cache_mb=settings.sqlite_write_cache_mb,
            )
            if self.is_sqlite
            else self.engine
        )
        #: PostgreSQL: the full-text index's pending entries move in a thread of this process
        self.pending_lists: PendingListCleaner | None = None
        if not self.is_sqlite:
            cleaner = self.pending_lists = PendingListCleaner(self.engine)
            event.listen(self.engine, "commit", lambda _conn: cleaner.written())
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write = sessionmaker(bind=self.write_engine, expire_on_commit=False)
        self.pinned: Connection | None = None

    def session(self, *, write: bool = True) -> Session:
        if self.pinned is not None:
            return Session(
                bind=self.pinned, join_transaction_mode="create_savepoint", expire_on_commit=False
            )
        if write:
            for upkeep in (self.checkpointer, self.pending_lists):
                if upkeep is not None:
                    upkeep.start()
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
        for upkeep in (self.checkpointer, self.pending_lists):
            if upkeep is not None:
                upkeep.stop()
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()
