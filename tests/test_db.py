from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shiyu.auth.models import User
from shiyu.db import (
    CLEAN_INTERVALS,
    CLEAN_TARGET_PAGES,
    WAL_SIZE_LIMIT_BYTES,
    WRITER_RESTARTS_SECONDS,
    Database,
    WalCheckpointer,
    next_clean_interval,
)
from tests.conftest import PG_URL, make_settings
from tests.helpers import run_cli


@pytest.mark.skipif(bool(PG_URL), reason="SQLite pragmas")
def test_sqlite_runs_in_wal_mode_with_foreign_keys(db: Database) -> None:
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.skipif(bool(PG_URL), reason="SQLite pragmas")
def test_sqlite_writers_get_the_configured_page_cache(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'cache.db'}")
    db = Database(settings.model_copy(update={"sqlite_write_cache_mb": 48}))
    try:
        with db.write_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -48 * 1024
        with db.engine.connect() as conn:  # readers keep SQLite's default
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -2000
    finally:
        db.dispose()


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(
        User(
            username="ghost",
            display_name="ghost",
            password_hash="x",
            jurisdiction_code="999999999999",
            jurisdiction_path="/999999999999/",
            is_active=True,
            token_version=0,
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_schema_comes_from_migrations(session: Session) -> None:
    from alembic.script import ScriptDirectory

    from shiyu.migrate import alembic_config

    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    applied = set(session.scalars(text("SELECT version_num FROM alembic_version")))
    assert applied == heads


def test_a_thread_checkpoints_what_writers_commit(tmp_path: Path) -> None:
    """SQLite: writers do not checkpoint in their commits; the process's checkpoint thread
    copies every committed page back into the database file, and stops with the database."""
    path = tmp_path / "wal.db"
    db = Database(make_settings(f"sqlite:///{path}"))
    checkpointer = db.checkpointer
    assert checkpointer is not None
    try:
        with db.transaction() as s:
            s.execute(text("CREATE TABLE blobs (b BLOB)"))
        with db.write_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        for _ in range(5):  # about 5 MB: more than one automatic checkpoint's worth
            with db.transaction() as s:
                s.execute(text("INSERT INTO blobs VALUES (randomblob(1000000))"))
        deadline = time.monotonic() + 10
        while checkpointer.frames < 1000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpointer.frames >= 1000  # 4 KB pages: most of the 5 MB, copied back
    finally:
        db.dispose()
    assert not any(t.name == "wal-checkpoint" and t.is_alive() for t in threading.enumerate())
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT count(*) FROM blobs").fetchone() == (5,)
    finally:
        raw.close()


def test_the_checkpoint_thread_is_woken_once_a_commit_is_visible(tmp_path: Path) -> None:
    """The wake-up comes after the driver's commit, not with SQLAlchemy's `commit` event
    (before it): a pass it starts at once finds the commit's frames in the log. (Woken
    before, a pass could miss the last commit of a burst, left in the log until the next.)"""
    path = tmp_path / "woken.db"
    db = Database(make_settings(f"sqlite:///{path}"))
    checkpointer = db.checkpointer
    assert checkpointer is not None
    reader = sqlite3.connect(path, check_same_thread=False)
    rows_when_woken: list[int] = []

    def written() -> None:
        rows_when_woken.append(reader.execute("SELECT count(*) FROM t").fetchone()[0])

    try:
        with db.transaction() as s:
            s.execute(text("CREATE TABLE t (x INTEGER)"))
        checkpointer.written = written  # type: ignore[method-assign]
        for _ in range(2):
            with db.transaction() as s:
                s.execute(text("INSERT INTO t VALUES (1)"))
        assert rows_when_woken == [1, 2]
    finally:
        db.dispose()
        reader.close()


def _log_frames(conn: sqlite3.Connection) -> int:
    frames: int = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    return frames


def test_a_long_log_starts_over_unless_a_reader_still_needs_it(tmp_path: Path) -> None:
    """Past `restart_frames` the checkpointer copies the log back and has it start over (a
    PASSIVE pass alone never does under sustained writes: they arrive while it runs). A
    reader that keeps an old snapshot stops that, not the writers: the RESTART gives up after
    its short wait, is not tried again within its back-off, and succeeds once the reader has
    gone."""
    path = tmp_path / "restart.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE blobs (b BLOB)")
    reader = sqlite3.connect(path, isolation_level=None)
    control = sqlite3.connect(path, check_same_thread=False)
    checkpointer = WalCheckpointer(str(path), restart_frames=256, restart_backoff=3600)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM blobs").fetchone()  # holds its snapshot
        for _ in range(8):  # 2 MB
            writer.execute("INSERT INTO blobs VALUES (randomblob(262144))")
        started = time.monotonic()
        checkpointer.checkpoint(control)
        assert time.monotonic() - started < 1.0  # gave up after its short wait
        assert checkpointer.restarts == 0
        writer.execute("INSERT INTO blobs VALUES (randomblob(262144))")  # writers go on
        assert _log_frames(control) > 512
        reader.execute("COMMIT")
        runs = checkpointer.runs
        checkpointer.checkpoint(control)  # within the back-off after a failed RESTART
        assert (checkpointer.runs - runs, checkpointer.restarts) == (1, 0)  # one PASSIVE
        checkpointer.restart_backoff = 0.0
        checkpointer._next_restart = 0.0
        checkpointer.checkpoint(control)
        assert checkpointer.restarts == 1
        writer.execute("INSERT INTO blobs VALUES (randomblob(262144))")
        assert _log_frames(control) < 100  # written from the log's start again
    finally:
        for conn in (writer, reader, control):
            conn.close()


def test_once_a_writer_restarts_the_log_the_thread_never_holds_it_off(tmp_path: Path) -> None:
    """The checkpoint thread's passes stay PASSIVE once a writing thread restarts the log
    (its RESTARTs met the writer's transaction, held off new writers while they waited and
    then backed off for a second, while the log grew by 40 MB); and a restart waits for the
    thread's pass in progress instead of failing at once on SQLite's checkpoint lock."""
    path = tmp_path / "writer_restarts.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE blobs (b BLOB)")
    control = sqlite3.connect(path, check_same_thread=False)
    checkpointer = WalCheckpointer(str(path), restart_frames=256, restart_backoff=3600)
    try:
        checkpointer.restart_if_due()  # nothing due yet: the writer has taken the task on
        for _ in range(8):  # 2 MB: past 256 frames
            writer.execute("INSERT INTO blobs VALUES (randomblob(262144))")
        checkpointer.checkpoint(control)
        assert checkpointer.restart_due() and checkpointer.restarts == 0  # PASSIVE only
        holding = threading.Event()
        release = threading.Event()

        def a_long_pass() -> None:
            with checkpointer._pass_lock:
                holding.set()
                release.wait(10)

        threading.Thread(target=a_long_pass).start()
        assert holding.wait(10)
        restarting = threading.Thread(target=checkpointer.restart_if_due)
        restarting.start()
        time.sleep(0.2)
        assert checkpointer.restarts == 0 and restarting.is_alive()  # waits for the pass
        release.set()
        restarting.join(10)
        assert checkpointer.restarts == 1
        writer.execute("INSERT INTO blobs VALUES (randomblob(1000))")
        assert _log_frames(control) < 100  # written from the log's start again
        # no batch for a while (other writes only): the thread restarts the log itself again
        for _ in range(8):
            writer.execute("INSERT INTO blobs VALUES (randomblob(262144))")
        checkpointer._writer_offered -= WRITER_RESTARTS_SECONDS
        checkpointer.checkpoint(control)
        assert checkpointer.restarts == 2
    finally:
        checkpointer.stop()
        for conn in (writer, control):
            conn.close()


def test_the_group_commit_thread_starts_the_log_over_between_its_batches(tmp_path: Path) -> None:
    """A RESTART tried by the checkpoint thread waits for the write transaction in progress
    and, under sustained intake, mostly gives up; the group-commit thread starts the log over
    itself right after a commit, when it holds no transaction."""
    from shiyu.group_commit import GroupCommitter

    path = tmp_path / "restart_between.db"
    db = Database(make_settings(f"sqlite:///{path}"))
    checkpointer = db.checkpointer
    assert checkpointer is not None
    checkpointer.restart_frames = 256
    # the thread only copies pages back here, so a restart can come from the committer alone
    checkpointer.checkpoint = lambda conn: checkpointer._pass(conn, "PASSIVE")  # type: ignore[method-assign]
    committer = GroupCommitter(db)
    control = sqlite3.connect(path)
    try:
        committer.submit(lambda s: s.execute(text("CREATE TABLE blobs (b BLOB)"))).result(10)
        for _ in range(8):  # 2 MB: past 256 frames
            committer.submit(
                lambda s: s.execute(text("INSERT INTO blobs VALUES (randomblob(262144))"))
            ).result(10)
        checkpointer._pass(control, "PASSIVE")  # as the thread's next pass would
        assert checkpointer.restart_due() and checkpointer.restarts == 0
        committer.submit(lambda s: s.execute(text("SELECT 1"))).result(10)
        deadline = time.monotonic() + 10  # the job is answered first, then the log restarts
        while checkpointer.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert checkpointer.restarts == 1
        assert not checkpointer.restart_due()
        # a pass before the next write still counts the emptied log's frames: not due again
        checkpointer._pass(control, "PASSIVE")
        assert not checkpointer.restart_due()
        committer.submit(
            lambda s: s.execute(text("INSERT INTO blobs VALUES (randomblob(1000))"))
        ).result(10)
        assert _log_frames(control) < 100  # written from the log's start again
    finally:
        committer.close()
        control.close()
        db.dispose()


@pytest.mark.skipif(bool(PG_URL), reason="SQLite pragmas")
def test_writers_truncate_a_grown_log_back(db: Database) -> None:
    with db.write_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_size_limit").scalar() == WAL_SIZE_LIMIT_BYTES


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL GIN indexes")
def test_postgres_moves_new_full_text_entries_out_of_the_pending_list(fresh_database: str) -> None:
    """A commit wakes the cleaner, which moves the GIN index's pending entries into the
    index (intake no longer waits for that merge); an index that does not exist is skipped."""
    db = Database(make_settings(fresh_database))
    cleaner = db.pending_lists
    assert cleaner is not None
    cleaner.indexes = ["ix_pending_docs", "ix_no_such_index"]
    cleaner.interval = 0.0
    try:
        with db.transaction() as s:
            # autovacuum (or autoanalyze) would clean the pending list too, racing the cleaner
            s.execute(text("CREATE TABLE pending_docs (doc text) WITH (autovacuum_enabled = off)"))
            s.execute(
                text(
                    "CREATE INDEX ix_pending_docs ON pending_docs "
                    "USING gin (to_tsvector('simple'::regconfig, doc)) WITH (fastupdate = on)"
                )
            )
        with db.transaction() as s:
            s.execute(
                text(
                    "INSERT INTO pending_docs"
                    " SELECT string_agg(md5(i::text || '-' || j::text), ' ')"
                    " FROM generate_series(1, 200) i, generate_series(1, 40) j GROUP BY i"
                )
            )
        deadline = time.monotonic() + 10
        while cleaner.pages == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cleaner.pages > 0
        assert cleaner.indexes == ["ix_pending_docs", "ix_no_such_index"]
        with db.transaction() as s:  # the moved entries are found through the index
            s.execute(text("SET LOCAL enable_seqscan = off"))
            found = s.execute(
                text(
                    "SELECT count(*) FROM pending_docs WHERE to_tsvector('simple'::regconfig, doc)"
                    " @@ to_tsquery('simple', md5('7-3'))"
                )
            ).scalar()
        assert found == 1
    finally:
        db.dispose()
    assert not any(t.name == "gin-pending-list" and t.is_alive() for t in threading.enumerate())


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL GIN indexes")
def test_search_index_pending_list_holds_16_mb(fresh_database: str) -> None:
    """Revision 0023searchpending lets the full-text index's pending list grow to 16 MB (the
    cleaner moves it in runs of about 4 MB); its downgrade restores PostgreSQL's default."""
    db = Database(make_settings(fresh_database))

    def options() -> list[str]:
        with db.session(write=False) as s:
            found = s.execute(
                text("SELECT reloptions FROM pg_class WHERE relname = 'ix_event_search_document'")
            ).scalar_one()
        return list(found or [])

    try:
        assert options() == ["gin_pending_list_limit=16384"]
        assert run_cli(fresh_database, "db", "downgrade", "0022bandmemory").returncode == 0
        assert options() == []
        assert run_cli(fresh_database, "db", "upgrade").returncode == 0
        assert options() == ["gin_pending_list_limit=16384"]
    finally:
        db.dispose()


def test_pending_list_cleaner_waits_for_about_its_target() -> None:
    """A run that moved less than half the target doubles the wait, one past twice it halves
    it, within the bounds; in between the wait stays."""
    low, high = CLEAN_INTERVALS
    assert next_clean_interval(1.0, 10) == 2.0
    assert next_clean_interval(high, 10) == high
    assert next_clean_interval(1.0, CLEAN_TARGET_PAGES) == 1.0
    assert next_clean_interval(1.0, 3 * CLEAN_TARGET_PAGES) == 0.5
    assert next_clean_interval(low, 3 * CLEAN_TARGET_PAGES) == low


def _cleaners_sharing(rate: float, cleaners: int, runs: int = 400) -> list[tuple[float, int]]:
    """(time, pages moved) of each run when `cleaners` processes clean one index that gains
    `rate` pages a second, each waiting `next_clean_interval` after its own runs."""
    due = [i * 0.013 for i in range(cleaners)]
    waits = [1.0] * cleaners
    pending, last, out = 0.0, 0.0, []
    for _ in range(runs):
        i = min(range(cleaners), key=due.__getitem__)
        pending += rate * (due[i] - last)
        last = due[i]
        moved = int(pending)
        pending -= moved
        out.append((last, moved))
        waits[i] = next_clean_interval(waits[i], moved)
        due[i] = last + waits[i]
    return out


@pytest.mark.parametrize("cleaners", [1, 2, 4, 8])
def test_pending_list_cleaners_of_several_processes_share_the_work(cleaners: int) -> None:
    """However many processes clean the index, no run finds more than twice the target (the
    list stays far below its 16 MB limit, 2,048 pages) and the runs stay fewer than one a
    second per process would make: each waits longer as the others move pages too."""
    runs = _cleaners_sharing(700.0, cleaners)[-100:]
    per_second = len(runs) / (runs[-1][0] - runs[0][0])
    assert max(moved for _, moved in runs) <= 2 * CLEAN_TARGET_PAGES
    assert per_second < max(1.5, 0.8 * cleaners)
    assert sum(moved for _, moved in runs) / len(runs) >= CLEAN_TARGET_PAGES / 4
