"""The reports' group commit in a process of its own (`SHIYU_INTAKE_WRITER=process`).

One Python process runs one thread at a time. Storing a report (placing it, its search
tokens, the duplicate search, the classifier, the audit chain, the inserts) costs more of it
than receiving and answering the request, so with the writer thread inside the web process the
second core of a small machine mostly idles while reports queue. Here the web process sends
each report to a writer process, which runs the same `GroupCommitter` with the same batched
kinds and answers every job once its batch committed: receiving requests and storing them use
a core each.

- Jobs travel as pickles over a pipe. The application's `Settings` object is never sent: it
  becomes a reference the writer replaces with its own copy (made once, at start).
- A job runs in the request's context as far as the services read it: its request id (audit
  records) and its personal-data view log (the unmasked reporter shown to the reporter is
  audited in the job's own transaction, as in the thread writer).
- An error travels back as the exception it was, so the web process answers it as it would
  have (a 422 names its field, a 409 its actions). An exception that cannot be pickled
  arrives as a `RuntimeError` with its text, or as its SQLAlchemy class without the driver's.
- Nothing is acknowledged before the commit, as in the thread writer. When the writer process
  dies, the jobs it had not answered fail with 503 `intake.writer_lost` (their outcome is
  unknown, as after a failed commit: clients retry with their idempotency keys), and the next
  report starts a new writer.
- The writer ignores Ctrl-C (the terminal sends it to the whole process group): it stops when
  the web process closes the pipe, after the jobs already queued, so a shutdown never cuts a
  batch in half.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copyreg
import io
import itertools
import logging
import multiprocessing
import os
import pickle
import signal
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from functools import cache
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from shiyu.config import Settings
from shiyu.errors import ServiceUnavailable
from shiyu.group_commit import Batched
from shiyu.kit import memory
from shiyu.logs import request_id_var

log = logging.getLogger(__name__)

P = TypeVar("P")
T = TypeVar("T")


class WriterLost(ServiceUnavailable):
    code = "intake.writer_lost"
    message = "写入进程已中断，报件结果未知，请稍后用同一幂等键重试"


@cache
def batched_kinds() -> dict[str, Batched[Any, Any]]:
    """Every kind of job the writer process runs, by name (imported late: the services import
    the group commit)."""
    from shiyu.events.service import STAFF_REPORTS
    from shiyu.intake.resident import RESIDENT_REPORTS

    return {"events.staff": STAFF_REPORTS, "intake.resident": RESIDENT_REPORTS}


@cache
def _kind_names() -> dict[int, str]:
    return {id(kind): name for name, kind in batched_kinds().items()}


# ---------------------------------------------------------------------- the wire


#: the settings an unpickling in this thread puts where the sender's were (`loads`)
_receiving: contextvars.ContextVar[Settings | None] = contextvars.ContextVar(
    "shiyu_receiving_settings", default=None
)


def _own_settings() -> Settings:
    """What a pickled `Settings` becomes: the receiving side's own (`loads`)."""
    settings = _receiving.get()
    if settings is None:
        raise pickle.UnpicklingError("a Settings reference, and no settings to put in its place")
    return settings


def _reduce_settings(_settings: Settings) -> tuple[Callable[[], Settings], tuple[()]]:
    return _own_settings, ()


@cache
def _dispatch_table() -> dict[type, Any]:
    """copyreg's reductions, and `Settings` as a reference. A table, looked up in C for each
    object pickled, not a `persistent_id` method, which pickle calls for every object (3 %
    of the web process's time under intake load)."""
    return {**copyreg.dispatch_table, Settings: _reduce_settings}


def dumps(obj: Any) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _dispatch_table()
    pickler.dump(obj)
    return buffer.getvalue()


def loads(data: bytes, settings: Settings | None = None) -> Any:
    token = _receiving.set(settings)
    try:
        return pickle.loads(data)  # noqa: S301 (the two processes of one server, over their pipe)
    finally:
        _receiving.reset(token)


def portable(exc: BaseException) -> BaseException:
    """`exc` if it survives a pickle round trip; else the closest thing that does."""
    try:
        loads(dumps(exc))
    except Exception:  # any failure to pickle means: send a stand-in
        return _stand_in(exc)
    return exc


def _stand_in(exc: BaseException) -> BaseException:
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):  # the driver's own exception may not pickle
        return type(exc)(exc.statement, None, Exception(str(exc.orig)))
    return RuntimeError(f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class _Job:
    id: int
    kind: str
    payload: Any
    request_id: str | None
    #: the request's method and path when it collects personal-data views
    view: tuple[str, str] | None


@dataclass(frozen=True)
class _Answers:
    """The answers of one batch, in one message: (job id, ok, result or error) each."""

    answers: list[tuple[int, bool, Any]]
    #: batches the writer had committed when it sent them
    batches: int
    #: the writer's collector, for the metrics
    gc: memory.GcStats


# ---------------------------------------------------------------------- the web process

#: where an answer goes: a thread's future, or an event loop's future with its loop
_Waiter = Future[Any] | tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


@dataclass
class _Generation:
    """One writer process, its pipe, and the jobs it has not answered."""

    process: multiprocessing.process.BaseProcess
    conn: Connection
    pending: dict[int, _Waiter] = field(default_factory=dict)
    alive: bool = True
    #: batches this writer had committed at its last answer (each writer counts from 0)
    batches: int = 0


class WriterProcess:
    """`run_batched` / `submit_batched` as `GroupCommitter` offers them, served by a writer
    process started with the application (`start`), or again at the next report after one
    died.

    Jobs and answers travel in bundles: the reports an event loop turn queues go in one
    message (`run_batched`), and a batch's answers come back in one. One pickle of 25
    reports costs a third of 25 pickles, and each message costs each process a wake-up and
    system calls, and the writer's thread that receives it a turn of the GIL taken from the
    thread storing the batch."""

    def __init__(
        self,
        settings: Settings,
        *,
        name: str = "intake",
        before_send: Callable[[list[Any]], list[Any]] | None = None,
    ) -> None:
        self.settings = settings
        self.name = name
        #: what this process does to a message's payloads before they go (classify the
        #: reports: `routing.service.predict_queued`); on failure they go as they are
        self.before_send = before_send
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._current: _Generation | None = None
        #: per event loop, the jobs its current turn queued and their futures (`_flush`)
        self._outboxes: dict[asyncio.AbstractEventLoop, list[tuple[_Job, _Waiter]]] = {}
        #: batches committed, jobs answered and messages each way, for the metrics and tests
        self.batches = 0
        self.jobs = 0
        self.sent = 0
        self.received = 0
        #: the collector of the writer that answered last
        self.gc: memory.GcStats | None = None

    def submit_batched(self, kind: Batched[P, T], payload: P) -> Future[T]:
        """Send one job now (from any thread)."""
        future: Future[T] = Future()
        self._send([(self._job(kind, payload), future)])
        return future

    async def run_batched(self, kind: Batched[P, T], payload: P) -> T:
        """Queue the job with the others of this event loop turn: they go in one message
        once the turn is over."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        outbox = self._outboxes.get(loop)
        if outbox is None:
            outbox = self._outboxes[loop] = []
            loop.call_soon(self._flush, loop)
        outbox.append((self._job(kind, payload), (loop, future)))
        return await future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        entries = self._outboxes.pop(loop, [])
        try:
            self._send(entries)
        except Exception as exc:  # no request may be left waiting for ever
            log.exception("sending %d reports to the writer failed", len(entries))
            _settle([(waiter, False, exc) for _, waiter in entries])

    def _job(self, kind: Batched[Any, Any], payload: Any) -> _Job:
        views = _view_log()
        return _Job(
            next(self._ids),
            _kind_names()[id(kind)],
            payload,
            request_id_var.get(),
            (views.method, views.path) if views is not None else None,
        )

    def _send(self, entries: list[tuple[_Job, _Waiter]]) -> None:
        if not entries:
            return
        jobs = [job for job, _ in entries]
        if self.before_send is not None:
            try:
                payloads = self.before_send([job.payload for job in jobs])
                jobs = [replace(j, payload=p) for j, p in zip(jobs, payloads, strict=True)]
            except Exception:  # the writer does it then
                log.exception("preparing the writer's jobs failed; they go as they are")
        data, entries = _pickled(jobs, entries)
        if not entries:
            return
        with self._lock:
            generation = self._started()
            generation.pending.update((job.id, waiter) for job, waiter in entries)
            try:
                generation.conn.send_bytes(data)
                self.sent += 1
                return
            except OSError:
                for job, _ in entries:
                    generation.pending.pop(job.id, None)
        _settle([(waiter, False, WriterLost()) for _, waiter in entries])

    def start(self) -> None:
        with self._lock:
            self._started()

    def close(self, timeout: float = 30.0) -> None:
        """Let the writer finish what it was sent, then wait for it to stop."""
        with self._lock:
            generation, self._current = self._current, None
        if generation is None:
            return
        with contextlib.suppress(OSError):
            generation.conn.send_bytes(dumps(None))
        generation.process.join(timeout)
        if generation.process.is_alive():
            log.warning("writer process did not stop within %.0f s; terminating it", timeout)
            generation.process.terminate()
            generation.process.join(5)

    def _started(self) -> _Generation:
        """The running writer, or a new one (called under the lock)."""
        generation = self._current
        if generation is not None and generation.alive:
            return generation
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe(duplex=True)
        for end in (ours, theirs):
            _widen(end)
        process = context.Process(
            target=writer_main, args=(self.settings, theirs, self.name), name=f"shiyu-{self.name}"
        )
        process.daemon = True
        process.start()
        theirs.close()
        generation = self._current = _Generation(process, ours)
        threading.Thread(
            target=self._read, args=(generation,), name=f"{self.name}-replies", daemon=True
        ).start()
        return generation

    def _read(self, generation: _Generation) -> None:
        while True:
            try:
                message: _Answers = loads(generation.conn.recv_bytes(), self.settings)
            except (EOFError, OSError):
                break
            with self._lock:
                settled = [
                    (waiter, ok, value)
                    for job_id, ok, value in message.answers
                    if (waiter := generation.pending.pop(job_id, None)) is not None
                ]
                # a counter for the metrics: it goes on from where the last writer stopped
                self.batches += max(0, message.batches - generation.batches)
                generation.batches = max(generation.batches, message.batches)
                self.jobs += len(message.answers)
                self.received += 1
                self.gc = message.gc
            _settle(settled)
        with self._lock:  # the writer is gone: what it did not answer has an unknown outcome
            generation.alive = False
            lost = list(generation.pending.values())
            generation.pending.clear()
        if lost:
            log.error("writer process ended with %d reports unanswered", len(lost))
        _settle([(waiter, False, WriterLost()) for waiter in lost])
        generation.conn.close()


def _pickled(
    jobs: list[_Job], entries: list[tuple[_Job, _Waiter]]
) -> tuple[bytes, list[tuple[_Job, _Waiter]]]:
    """The jobs as one message, and the entries it carries: a job that cannot be pickled
    answers its error alone (its bundle goes without it)."""
    try:
        return dumps(jobs), entries
    except Exception:  # find the one: each on its own
        kept: list[tuple[_Job, _Waiter]] = []
        for job, entry in zip(jobs, entries, strict=True):
            try:
                dumps(job)
            except Exception as exc:
                _settle([(entry[1], False, exc)])
            else:
                kept.append((job, entry[1]))
        return dumps([job for job, _ in kept]), kept


#: how much each end of the pipe may have in flight (the kernel caps it at its `wmem_max`)
PIPE_BUFFER_BYTES = 4 * 1024 * 1024


def _widen(conn: Connection) -> None:
    """Let a whole message (a bundle of reports is 150 KB) wait in the pipe: with the
    kernel's 208 KB a send blocked the web process's event loop until the writer, busy
    storing a batch, had read the message before."""
    with socket.socket(fileno=os.dup(conn.fileno())) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, PIPE_BUFFER_BYTES)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, PIPE_BUFFER_BYTES)


def _settle(answers: list[tuple[_Waiter, bool, Any]]) -> None:
    """Resolve each waiter with its result (ok) or error, from any thread: a thread's future
    at once, an event loop's in one callback per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
    for waiter, ok, value in answers:
        if isinstance(waiter, Future):
            _deliver(waiter, ok, value)
        else:
            loop, future = waiter
            by_loop.setdefault(loop, []).append((future, ok, value))
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a loop closed meanwhile awaits nothing
            loop.call_soon_threadsafe(_resolve, items)


def _resolve(items: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in items:
        if not future.done():  # else cancelled: the client went away
            _deliver(future, ok, value)


def _deliver(future: Future[Any] | asyncio.Future[Any], ok: bool, value: Any) -> None:
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _view_log() -> Any:
    from shiyu.privacy import views  # late: privacy -> audit -> auth -> group commit users

    return views.current()


# ---------------------------------------------------------------------- the writer process


def writer_main(settings: Settings, conn: Connection, name: str) -> None:
    """The writer process: receive jobs, run them in the group commit, answer each once its
    batch committed; stop when the pipe closes or says so."""
    for stop in (signal.SIGINT, signal.SIGTERM):  # the pipe closing stops it (docstring)
        signal.signal(stop, signal.SIG_IGN)
    from shiyu.app import warm_up
    from shiyu.db import Database
    from shiyu.group_commit import GroupCommitter
    from shiyu.logs import configure_logging
    from shiyu.models import load_all

    configure_logging(settings.log_level, json_format=settings.log_json)
    load_all()
    warm_up()
    db = Database(settings)
    kinds = batched_kinds()
    memory.freeze_startup()
    memory.freeze_later(settings.gc_freeze_again_seconds)
    memory.set_young_threshold(settings.gc_young_threshold)
    memory.watch_pauses()
    outbox: list[tuple[int, bool, Any]] = []  # the answers of the batch being answered

    def answer(job_id: int, future: Future[Any]) -> None:
        error = future.exception()
        outbox.append(
            (job_id, True, future.result()) if error is None else (job_id, False, portable(error))
        )

    def send_answers() -> None:
        answers = outbox[:]
        outbox.clear()
        if answers:
            data = _answers_message(answers, committer.batches)
            with contextlib.suppress(OSError):  # the web process may be gone
                conn.send_bytes(data)  # (the commit stands either way)

    committer = GroupCommitter(
        db, max_batch=settings.intake_batch_max, name=name, answered=send_answers
    )
    try:
        while True:
            try:
                jobs: list[_Job] | None = loads(conn.recv_bytes(), settings)
            except (EOFError, OSError):
                break
            if jobs is None:
                break
            for job in jobs:
                context = contextvars.Context()
                context.run(_enter_request, job)
                context.run(
                    committer.submit_batched,
                    kinds[job.kind],
                    job.payload,
                    done=_bind(answer, job.id),
                )
    finally:
        committer.close(timeout=60)
        db.dispose()
        conn.close()


def _answers_message(answers: list[tuple[int, bool, Any]], batches: int) -> bytes:
    """The pickled answers; one that cannot travel becomes an error (`portable`), and so
    does a result that cannot."""
    try:
        return dumps(_Answers(answers, batches, memory.stats()))
    except Exception:  # an answer that cannot travel: each on its own, errors made portable
        return dumps(_Answers([_travelling(a) for a in answers], batches, memory.stats()))


def _travelling(answer: tuple[int, bool, Any]) -> tuple[int, bool, Any]:
    job_id, ok, value = answer
    if not ok:
        return answer  # made portable already
    try:
        dumps(value)
    except Exception as exc:  # a result that cannot travel is an error
        return job_id, False, portable(exc)
    return answer


def _bind(fn: Callable[[int, Future[Any]], None], job_id: int) -> Callable[[Future[Any]], None]:
    return lambda future: fn(job_id, future)


def _enter_request(job: _Job) -> None:
    """The request's context vars as the services read them (in a fresh context per job)."""
    from shiyu.privacy import views

    request_id_var.set(job.request_id)
    if job.view is not None:
        views.begin(*job.view)
