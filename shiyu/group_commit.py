"""Group commit: many small write requests share one transaction.

Under load, one transaction per report costs more in waiting than in work: on SQLite every
writer queues for the database's single write lock, and dozens of worker threads holding
requests fight over the GIL while they wait; on PostgreSQL every report pays its own commit
(a WAL flush) and its own pool checkout. Intake is many small, independent inserts, so one
writer thread per process takes whatever reports have queued (up to `max_batch`) and commits
them together: one lock, one flush to disk, one audit chain extension. A report that fails (bad
input, say) must fail alone: the batch is first run as it is, and when one of its jobs fails
everything is rolled back and the batch runs again with each job in its own savepoint (two
statements a report, so not on the common path), where the failing one is undone alone and
answers its own error.

Nothing is acknowledged before the commit: a job's future resolves only after the batch
committed. When the transaction breaks before the commit (a statement that fails beyond its
savepoint), every job of the batch is tried again alone, so one bad apple cannot fail its
neighbours. A failed commit is not retried (it may have stored the batch): its jobs answer
the error and their clients retry, with their idempotency keys.

Jobs of a `Batched` kind (reports) run as one call for the whole batch (`many`): one flush,
one classifier run and one insert per table instead of one each per report. When that call
fails, every job runs again alone (`one`), each in its own savepoint, as above.

The request waits with `await`, holding no worker thread, so the write limit of the other
endpoints (`middleware.WriteLimitMiddleware`) does not apply to these.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from shiyu.db import Database
from shiyu.errors import ShiyuError

log = logging.getLogger(__name__)

T = TypeVar("T")
P = TypeVar("P")
Job = Callable[[Session], T]


@dataclass(frozen=True)
class Entry(Generic[P]):
    """A batched job's payload and the context of the request that queued it."""

    payload: P
    context: contextvars.Context


@dataclass(frozen=True, eq=False)
class Batched(Generic[P, T]):
    """A kind of job that runs many at once: `many(session, entries)` answers each entry's
    result, in order, or raises (then each runs alone as `one(session, payload)`)."""

    one: Callable[[Session, P], T]
    many: Callable[[Session, Sequence[Entry[P]]], Sequence[T]]


@dataclass
class _Item(Generic[T]):
    job: Job[T]
    future: Future[T]
    context: contextvars.Context
    kind: Batched[Any, T] | None = None
    payload: Any = None


@dataclass
class _Outcome:
    item: _Item[Any]
    result: Any = None
    error: BaseException | None = None


class GroupCommitter:
    """One writer thread; `run(job)` from the event loop, `submit(job)` from anywhere."""

    def __init__(
        self,
        db: Database,
        *,
        max_batch: int = 64,
        name: str = "group-commit",
        answered: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.max_batch = max(1, max_batch)
        self.name = name
        #: called in the writer thread once a batch's futures are all resolved (the writer
        #: process sends their answers then, in one message)
        self.answered = answered
        self._queue: queue.SimpleQueue[_Item[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: batches committed and jobs run, for the metrics and the tests
        self.batches = 0
        self.jobs = 0

    # ------------------------------------------------------------------ callers

    def submit(self, job: Job[T]) -> Future[T]:
        """Queue `job` (run in the caller's context: request id, personal-data view log)."""
        self._ensure_started()
        future: Future[T] = Future()
        self._queue.put(_Item(job, future, contextvars.copy_context()))
        return future

    async def run(self, job: Job[T]) -> T:
        return await asyncio.wrap_future(self.submit(job))

    def submit_batched(
        self,
        kind: Batched[P, T],
        payload: P,
        *,
        done: Callable[[Future[T]], None] | None = None,
    ) -> Future[T]:
        """Queue a job that may run together with the other queued jobs of its kind. `done`:
        called with its future in the writer thread, as the batch is answered (attached
        before the job is queued, so never from the caller's thread)."""
        self._ensure_started()
        future: Future[T] = Future()
        if done is not None:
            future.add_done_callback(done)
        item = _Item(lambda session: kind.one(session, payload), future, contextvars.copy_context())
        item.kind, item.payload = kind, payload
        self._queue.put(item)
        return future

    async def run_batched(self, kind: Batched[P, T], payload: P) -> T:
        return await asyncio.wrap_future(self.submit_batched(kind, payload))

    def close(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()

    # ------------------------------------------------------------------ the writer thread

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            try:
                self._run_batch([i for i in batch if i.future.set_running_or_notify_cancel()])
            finally:
                if self.answered is not None:
                    self.answered()
            if self.db.checkpointer is not None:
                # answered, and holding no transaction: the moment to start SQLite's log over
                self.db.checkpointer.restart_if_due()
            if stop:
                return

    def _run_batch(self, batch: list[_Item[Any]]) -> None:
        if not batch:
            return
        try:
            try:
                outcomes = self._in_one_transaction(batch, savepoints=False)
            except _JobFailed:
                # a job failed: nothing was stored; again, each job in its own savepoint
                outcomes = self._in_one_transaction(batch, savepoints=True)
        except _CommitFailed as failed:
            # the commit's outcome is unknown to us (a connection lost during COMMIT may have
            # stored it): retrying here could store a report twice, so every job answers
            # the error and its client retries, with its idempotency key when it has one
            for item in batch:
                item.future.set_exception(failed.error)
            return
        except Exception as exc:  # the transaction broke before the commit: nothing stored
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            log.warning("group commit of %d jobs failed (%s); retrying one by one", len(batch), exc)
            outcomes = [self._alone(item) for item in batch]
        for outcome in outcomes:
            if outcome.error is not None:
                outcome.item.future.set_exception(outcome.error)
            else:
                outcome.item.future.set_result(outcome.result)

    def _alone(self, item: _Item[Any]) -> _Outcome:
        try:
            [outcome] = self._in_one_transaction([item], savepoints=True)
        except _CommitFailed as failed:
            return _Outcome(item, error=failed.error)
        except Exception as exc:
            return _Outcome(item, error=exc)
        return outcome

    def _in_one_transaction(self, batch: list[_Item[Any]], *, savepoints: bool) -> list[_Outcome]:
        """All jobs, then the commit. Without savepoints (the first try: jobs rarely fail, and
        two statements per job are a tenth of a report's cost on PostgreSQL) any failure
        raises `_JobFailed` after rolling everything back."""
        outcomes: list[_Outcome] = []
        with self.db.session(write=True) as session:
            try:
                if savepoints:
                    for item in batch:
                        outcomes.append(item.context.run(_run_in_savepoint, session, item))
                else:
                    for group in _by_kind(batch):
                        outcomes.extend(_run_group(session, group))
            except BaseException:
                session.rollback()
                raise
            try:
                session.commit()
            except Exception as exc:
                raise _CommitFailed(exc) from exc
        self.batches += 1
        self.jobs += len(batch)
        return outcomes


def _by_kind(batch: list[_Item[Any]]) -> list[list[_Item[Any]]]:
    """The batch's jobs of a `Batched` kind together (in the order the first of each kind
    came), every other job alone."""
    groups: list[list[_Item[Any]]] = []
    of_kind: dict[int, list[_Item[Any]]] = {}
    for item in batch:
        if item.kind is None:
            groups.append([item])
        elif id(item.kind) in of_kind:
            of_kind[id(item.kind)].append(item)
        else:
            of_kind[id(item.kind)] = group = [item]
            groups.append(group)
    return groups


def _run_group(session: Session, group: list[_Item[Any]]) -> list[_Outcome]:
    first = group[0]
    if first.kind is None or len(group) == 1:
        return [first.context.run(_run_plain, session, first)]
    try:
        results = first.kind.many(session, [Entry(i.payload, i.context) for i in group])
        return [_Outcome(item, result=r) for item, r in zip(group, results, strict=True)]
    except Exception as exc:
        raise _JobFailed() from exc


class _JobFailed(Exception):
    """A job failed in a batch run without savepoints (the batch is run again with them)."""


def _run_plain(session: Session, item: _Item[Any]) -> _Outcome:
    try:
        return _Outcome(item, result=item.job(session))
    except Exception as exc:
        raise _JobFailed() from exc


class _CommitFailed(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _run_in_savepoint(session: Session, item: _Item[Any]) -> _Outcome:
    """The job's own savepoint: its failure undoes its work only (unless the error asks to
    keep it, as a recorded failed login does)."""
    savepoint = session.begin_nested()
    try:
        result = item.job(session)
    except ShiyuError as exc:
        if exc.persist:
            savepoint.commit()
        else:
            savepoint.rollback()
        return _Outcome(item, error=exc)
    except Exception as exc:
        # also after a failed flush, which leaves the savepoint inactive but still open
        savepoint.rollback()
        if _transaction_broken(session):
            raise  # the whole transaction is gone: the batch is retried job by job
        return _Outcome(item, error=exc)
    savepoint.commit()
    return _Outcome(item, result=result)


def _transaction_broken(session: Session) -> bool:
    transaction = session.get_transaction()
    return transaction is None or not transaction.is_active
