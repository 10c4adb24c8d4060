"""Group commit (`shiyu.group_commit`): many jobs, one transaction; each job's failure is its
own; nothing is acknowledged before the commit. On a real database whose commits are real."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session

from shiyu.app import GROUP_COMMIT_ROUTES, create_app
from shiyu.db import Database
from shiyu.errors import InvalidInput
from shiyu.events import api as events_api
from shiyu.group_commit import Batched, Entry, GroupCommitter
from shiyu.intake import api as intake_api
from tests.conftest import make_settings

NOTES = Table("group_commit_notes", MetaData(), Column("id", Integer, primary_key=True),
              Column("body", String(50), unique=True))  # fmt: skip


class _Base(DeclarativeBase):
    pass


class Note(_Base):
    __table__ = NOTES


WHO: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


@pytest.fixture
def db(fresh_database: str) -> Iterator[Database]:
    database = Database(make_settings(fresh_database))
    NOTES.create(database.engine)
    yield database
    NOTES.drop(database.engine)
    database.dispose()


def _note(body: str) -> Callable[[Session], int]:
    def job(session: Session) -> int:
        result = session.execute(NOTES.insert().values(body=body))
        return int(result.inserted_primary_key[0])

    return job


def _bodies(db: Database) -> list[str]:
    with db.session(write=False) as session:
        return sorted(session.scalars(select(NOTES.c.body)))


@contextmanager
def _busy(writer: GroupCommitter) -> Iterator[None]:
    """The writer busy with another job while the body queues jobs, so that they are taken
    together (in batches of `max_batch`) once the body is done and the busy job finishes."""
    running, release = threading.Event(), threading.Event()

    def hold(_session: Session) -> None:
        running.set()
        release.wait(10)

    held = writer.submit(hold)
    assert running.wait(10)
    try:
        yield
    finally:
        release.set()
        held.result(10)


def _one_batch(writer: GroupCommitter, jobs: list[Callable[[Session], Any]]) -> list[Future[Any]]:
    """Queue `jobs` behind a busy writer; their futures."""
    with _busy(writer):
        return [writer.submit(job) for job in jobs]


def test_queued_jobs_share_one_commit(db: Database) -> None:
    writer = GroupCommitter(db, max_batch=64)
    futures = _one_batch(writer, [_note(f"n{i}") for i in range(20)])
    ids = [f.result(10) for f in futures]
    writer.close()
    assert len(set(ids)) == 20
    assert _bodies(db) == sorted(f"n{i}" for i in range(20))
    assert writer.jobs == 21
    assert writer.batches == 2  # the held job alone, then the twenty together


def test_batches_are_capped(db: Database) -> None:
    writer = GroupCommitter(db, max_batch=5)
    for f in _one_batch(writer, [_note(f"c{i}") for i in range(12)]):
        f.result(10)
    writer.close()
    assert writer.batches == 1 + 3  # 5 + 5 + 2


def test_a_failing_job_fails_alone(db: Database) -> None:
    def bad(session: Session) -> None:
        session.execute(NOTES.insert().values(body="undone"))
        raise InvalidInput("坏数据")

    writer = GroupCommitter(db)
    good_a, failing, good_b = _one_batch(writer, [_note("a"), bad, _note("b")])
    assert good_a.result(10) and good_b.result(10)
    with pytest.raises(InvalidInput):
        failing.result(10)
    writer.close()
    assert _bodies(db) == ["a", "b"]  # the failing job's insert was rolled back with it


def test_a_database_error_in_one_job_does_not_fail_its_neighbours(db: Database) -> None:
    writer = GroupCommitter(db)
    # the second "same" is a unique violation
    good, duplicate, other = _one_batch(writer, [_note("same"), _note("same"), _note("other")])
    assert good.result(10) and other.result(10)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        duplicate.result(10)
    writer.close()
    assert _bodies(db) == ["other", "same"]


def test_nothing_is_answered_before_the_commit(db: Database) -> None:
    seen: list[int] = []

    def count_then_note(session: Session) -> int:
        session.execute(NOTES.insert().values(body="visible?"))
        return 1

    writer = GroupCommitter(db)
    future = writer.submit(count_then_note)
    future.result(10)
    # by the time the future resolved, another connection sees the row
    with db.session(write=False) as session:
        seen.append(session.scalar(text("SELECT count(*) FROM group_commit_notes")) or 0)
    writer.close()
    assert seen == [1]


def test_jobs_run_in_the_callers_context(db: Database) -> None:
    writer = GroupCommitter(db)

    async def caller(name: str) -> str:
        WHO.set(name)
        return await writer.run(lambda _session: WHO.get())

    async def both() -> list[str]:
        return list(await asyncio.gather(caller("张三"), caller("李四")))

    assert asyncio.run(both()) == ["张三", "李四"]
    writer.close()


def test_group_commit_routes_wait_without_a_thread(fresh_database: str) -> None:
    """The write limit skips these routes because they hold no worker thread while they
    wait: that is only true while their handlers are coroutines."""
    handlers = {"events-create": events_api.create_event, "public-report": intake_api.report}
    paths = create_app(make_settings(fresh_database)).openapi()["paths"]
    for method, path in GROUP_COMMIT_ROUTES:
        operation = paths[path][method.lower()]["operationId"]
        assert inspect.iscoroutinefunction(handlers[operation]), operation


def test_a_failed_flush_fails_its_job_only(db: Database) -> None:
    """An ORM flush that violates a constraint leaves its savepoint inactive: it must still
    be rolled back, or every later job of the batch finds the session unusable."""

    def clashing(session: Session) -> None:
        session.add(Note(body="taken"))
        session.flush()

    writer = GroupCommitter(db)
    writer.submit(_note("taken")).result(10)
    failing, after = _one_batch(writer, [clashing, _note("after")])
    with pytest.raises(IntegrityError):
        failing.result(10)
    assert after.result(10)
    writer.close()
    assert _bodies(db) == ["after", "taken"]
    assert writer.batches == 3  # the flush failure did not make the batch retry job by job


def test_a_clean_batch_runs_without_savepoints(db: Database) -> None:
    """Savepoints cost two statements a job: only a batch in which a job failed pays them."""
    from sqlalchemy import event

    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(db.write_engine, "before_cursor_execute", record)
    try:
        writer = GroupCommitter(db)
        for f in _one_batch(writer, [_note(f"s{i}") for i in range(5)]):
            f.result(10)
        writer.close()
    finally:
        event.remove(db.write_engine, "before_cursor_execute", record)
    assert statements.count("INSERT") == 5
    assert "SAVEPOINT" not in statements


# ---------------------------------------------------------------- jobs of a batched kind


def _note_one(session: Session, body: str) -> str:
    session.execute(NOTES.insert().values(body=body))
    return f"{WHO.get()}:{body}"


class _NoteKind:
    """A `Batched` kind that records how its batches were run."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.kind: Batched[str, str] = Batched(_note_one, self.many)

    def many(self, session: Session, entries: Sequence[Entry[str]]) -> list[str]:
        self.batches.append([e.payload for e in entries])
        session.execute(NOTES.insert(), [{"body": e.payload} for e in entries])
        return [f"{e.context.run(WHO.get)}:{e.payload}" for e in entries]


def _batched(writer: GroupCommitter, kind: Batched[str, str], bodies: list[str]) -> list[Any]:
    """Queue one batched job per body, each from its own caller's context, and a plain job,
    behind a busy writer (so that they are taken together); the batched jobs' answers."""

    def submit(body: str) -> Future[str]:
        WHO.set(f"caller-{body}")
        return writer.submit_batched(kind, body)

    with _busy(writer):
        futures = [contextvars.copy_context().run(submit, b) for b in bodies]
        plain = writer.submit(_note("plain"))  # another kind of job in the same batch
    plain.result(10)
    return [f.result(10) for f in futures]


def test_jobs_of_a_kind_run_as_one_call(db: Database) -> None:
    notes = _NoteKind()
    writer = GroupCommitter(db)
    answers = _batched(writer, notes.kind, ["b1", "b2", "b3"])
    writer.close()
    assert notes.batches == [["b1", "b2", "b3"]]
    # each answer computed in its own caller's context, in order
    assert answers == ["caller-b1:b1", "caller-b2:b2", "caller-b3:b3"]
    assert _bodies(db) == ["b1", "b2", "b3", "plain"]
    assert writer.batches == 2  # the held job, then the three and the plain one together


def test_a_failed_batched_call_runs_each_job_alone(db: Database) -> None:
    """One bad payload (a unique violation inside the batch's single insert) makes the
    batched call fail: every job then runs alone, and only the bad one fails."""
    notes = _NoteKind()
    writer = GroupCommitter(db)
    writer.submit(_note("taken")).result(10)
    with _busy(writer):
        good, bad, other = (writer.submit_batched(notes.kind, b) for b in ("g1", "taken", "g2"))
    assert good.result(10) == "nobody:g1" and other.result(10) == "nobody:g2"
    with pytest.raises(IntegrityError):
        bad.result(10)
    writer.close()
    assert notes.batches == [["g1", "taken", "g2"]]  # tried once together
    assert _bodies(db) == ["g1", "g2", "taken"]
