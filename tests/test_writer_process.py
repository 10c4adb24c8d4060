"""The reports' writer in a process of its own (`SHIYU_INTAKE_WRITER=process`, what `shiyu
serve` runs by default), over a real `shiyu serve` and a database of its own: reports are
stored and answered as with the thread writer (errors included), jobs keep their request's
context, and when the writer process dies the reports it had not answered fail with 503 while
the next ones start a new writer; under load with retries nothing acknowledged is lost and
nothing is stored twice."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from shiyu.audit.models import AuditRecord
from shiyu.auth.access import system_actor
from shiyu.classify import service as classifier
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.errors import InvalidInput
from shiyu.events import service
from shiyu.events.enums import Channel
from shiyu.events.models import Event
from shiyu.events.schemas import IntakeData
from shiyu.routing import service as routing
from shiyu.writer_process import WriterProcess, dumps, loads, portable
from tests.classify.data import model_bytes
from tests.conftest import TEST_SECRET, make_settings
from tests.factories.world import World
from tests.helpers import committed_world, running_server
from tests.test_crash_safety import _check, _grid_worker_load, _token


def _writer_pid(server_pid: int) -> int:
    """The writer process: the server's child started by multiprocessing's spawn (not its
    resource tracker)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == server_pid and "spawn_main" in cmdline and "resource_tracker" not in cmdline:
            return int(entry.name)
    raise AssertionError(f"no writer process under {server_pid}")


def _counter(base: str, name: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    [value] = [line.split()[1] for line in text.splitlines() if line.startswith(f"{name} ")]
    return float(value)


def _report(base: str, token: str, world: World, **body: object) -> httpx.Response:
    lng, lat = world.city.centres[world.grid_a]
    return httpx.post(
        f"{base}/api/v1/events",
        json={"title": "井盖破损", "lng": lng, "lat": lat, **body},
        headers={"Authorization": f"Bearer {token}", "X-Request-Id": "req-writer-0001"},
        timeout=30,
    )


def test_reports_errors_and_context_go_through_the_writer_process(fresh_database: str) -> None:
    world = committed_world(fresh_database)
    with running_server(fresh_database, SHIYU_INTAKE_WRITER="process") as server:
        token = _token(server.base, world.users["dispatcher"].username)
        made = _report(server.base, token, world, reporter_phone="13800001111")
        assert made.status_code == 201, made.text
        code = made.json()["code"]
        # the dispatcher sees the reporter unmasked: the view is audited in the job's own
        # transaction, with the request's id, as the thread writer does
        assert made.json()["reporter_phone"] == "13800001111"
        again = _report(server.base, token, world, client_key="writer-key-0001")
        repeat = _report(server.base, token, world, client_key="writer-key-0001")
        assert (again.status_code, repeat.status_code) == (201, 200)
        assert again.json()["code"] == repeat.json()["code"]
        bad = _report(server.base, token, world, category_code="NO_SUCH")
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "event.unknown_category"
        assert bad.json()["error"]["details"][0]["loc"] == ["body", "category_code"]
        resident = httpx.post(
            f"{server.base}/api/v1/public/events",
            json={"title": "路灯不亮", "reporter_phone": "13900002222", "address": "幸福路1号"},
            timeout=30,
        )
        assert resident.status_code == 201, resident.text
        assert resident.json()["code"].startswith("SY")
        assert _writer_pid(server.proc.pid) != server.proc.pid
    engine = create_engine(fresh_database)
    try:
        with engine.connect() as conn:
            codes = set(conn.scalars(select(Event.code)))
            actions = dict(
                conn.execute(
                    select(AuditRecord.action, AuditRecord.request_id).where(
                        AuditRecord.action.in_(["event.report", "personal_data.view"]),
                        AuditRecord.object_id == code,
                    )
                ).all()
            )
    finally:
        engine.dispose()
    assert {code, again.json()["code"], resident.json()["code"]} <= codes
    assert actions == {"event.report": "req-writer-0001", "personal_data.view": "req-writer-0001"}


def test_one_web_process_gets_a_writer_process_by_default(fresh_database: str) -> None:
    """`SHIYU_INTAKE_WRITER=auto` (the default): `shiyu serve` with one web process."""
    with running_server(fresh_database) as server:
        assert _writer_pid(server.proc.pid) != server.proc.pid


def _gc_samples(base: str) -> dict[str, float]:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return {
        name: float(value)
        for name, value in (line.rsplit(" ", 1) for line in text.splitlines())
        if name.startswith("shiyu_gc_")
    }


def test_both_processes_freeze_their_start_up_objects_and_count_pauses(
    fresh_database: str,
) -> None:
    """The start-up objects are out of the collector's reach in the web and the writer
    process alike (`shiyu.kit.memory`): without it each full collection walks 250,000 of
    them and the process answers nothing meanwhile."""
    world = committed_world(fresh_database)
    with running_server(
        fresh_database, SHIYU_INTAKE_WRITER="process", SHIYU_GC_YOUNG_THRESHOLD="12345"
    ) as server:
        token = _token(server.base, world.users["grid_worker"].username)
        assert _report(server.base, token, world).status_code == 201  # the writer answered
        samples = _gc_samples(server.base)
    for process in ("web", "writer"):
        assert samples[f'shiyu_gc_frozen_objects{{process="{process}"}}'] > 50_000
        # both collect their young generation as seldom as configured
        assert samples[f'shiyu_gc_young_threshold{{process="{process}"}}'] == 12345
        for generation in (0, 1, 2):
            key = f'{{process="{process}",generation="{generation}"}}'
            assert samples[f"shiyu_gc_collections_total{key}"] >= 0
            assert samples[f"shiyu_gc_pause_seconds_total{key}"] >= 0


def test_both_processes_freeze_again_once_traffic_has_built_its_caches(
    fresh_database: str,
) -> None:
    """`SHIYU_GC_FREEZE_AGAIN_SECONDS` after start, each process freezes what it holds then
    (the writer's figures travel with its next reply)."""
    world = committed_world(fresh_database)
    with running_server(
        fresh_database, SHIYU_INTAKE_WRITER="process", SHIYU_GC_FREEZE_AGAIN_SECONDS="10"
    ) as server:
        token = _token(server.base, world.users["grid_worker"].username)
        assert _report(server.base, token, world).status_code == 201
        first = _gc_samples(server.base)
        # the start-up freeze; the second comes 10 s after the start, after this reading
        assert first['shiyu_gc_frozen_objects{process="web"}'] > 50_000
        grown: dict[str, float] = {}
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            time.sleep(0.5)
            assert _report(server.base, token, world).status_code == 201
            grown = _gc_samples(server.base)
            if all(
                grown[f'shiyu_gc_frozen_objects{{process="{p}"}}']
                > first[f'shiyu_gc_frozen_objects{{process="{p}"}}']
                for p in ("web", "writer")
            ):
                break
    for process in ("web", "writer"):
        key = f'shiyu_gc_frozen_objects{{process="{process}"}}'
        assert grown[key] > first[key], process


def test_a_killed_writer_fails_its_reports_and_the_next_start_a_new_one(
    fresh_database: str,
) -> None:
    world = committed_world(fresh_database)
    with running_server(fresh_database, SHIYU_INTAKE_WRITER="process") as server:
        token = _token(server.base, world.users["grid_worker"].username)
        assert _report(server.base, token, world).status_code == 201
        first = _writer_pid(server.proc.pid)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        statuses: list[int] = []
        while time.monotonic() < deadline:
            statuses.append(_report(server.base, token, world).status_code)
            if statuses[-1] == 201:
                break
        # a report sent into the dead pipe answers 503 with a code; a later one is stored
        assert statuses[-1] == 201, statuses
        assert set(statuses) <= {201, 503}
        assert _writer_pid(server.proc.pid) != first
        # the counters go on across writers: two reports stored, each in its own transaction
        assert _counter(server.base, "shiyu_intake_reports_total") >= 2
        assert _counter(server.base, "shiyu_intake_batches_total") >= 2


def test_killed_writer_under_load_loses_and_duplicates_nothing(fresh_database: str) -> None:
    world = committed_world(fresh_database)
    with running_server(fresh_database, SHIYU_INTAKE_WRITER="process") as server:
        load = _grid_worker_load(server.base, world)
        load.start()
        load.wait_for(20)
        os.kill(_writer_pid(server.proc.pid), signal.SIGKILL)  # batches are in flight
        killed_at = len(load.acknowledged)
        load.wait_for(killed_at + 20)
        load.finish()
    _check(fresh_database, load.acknowledged)


def test_a_stopped_server_lets_its_writer_finish_and_exit(fresh_database: str) -> None:
    world = committed_world(fresh_database)
    with running_server(fresh_database, SHIYU_INTAKE_WRITER="process") as server:
        token = _token(server.base, world.users["grid_worker"].username)
        writer = _writer_pid(server.proc.pid)
        results: list[int] = []

        def send() -> None:
            results.append(_report(server.base, token, world).status_code)

        senders = [threading.Thread(target=send) for _ in range(8)]
        for t in senders:
            t.start()
        for t in senders:
            t.join()
        assert results == [201] * 8
    deadline = time.monotonic() + 30
    while Path(f"/proc/{writer}").exists():
        assert time.monotonic() < deadline, "the writer process outlived its server"
        time.sleep(0.05)


# ---------------------------------------------------------------------- the wire


def test_the_web_process_classifies_the_reports_it_sends(fresh_database: str) -> None:
    """`routing.predict_queued`, the web process's `before_send`: reports carry the active
    model's prediction (which the writer then uses); other jobs go as they are."""
    world = committed_world(fresh_database)
    settings = make_settings(fresh_database)
    db = Database(settings)
    try:
        with db.session() as session:
            stored = classifier.store(session, None, "sample", model_bytes())
            classifier.activate(session, None, stored["id"])
            session.commit()
        lng, lat = world.city.centres[world.grid_a]
        data = IntakeData(
            channel=Channel.grid_patrol,
            title="学校乱收补课费",
            description="中学强制学生参加周末补课并收取费用，请教育局查处",
            lng=lng,
            lat=lat,
        )
        job = service.StaffReport(settings, data, system_actor(), service.prepare(data))
        sent = routing.predict_queued(db, settings, [job, "not a report"])
    finally:
        db.dispose()
        classifier.holder.forget()
    assert sent[1] == "not a report"
    predicted = sent[0].prepared.predicted
    assert predicted is not None and predicted[0].startswith(f"{stored['id']}:")
    assert predicted[1][0][0] == "教育文体" and len(predicted[1]) == 3
    assert sent[0].data == job.data and job.prepared.predicted is None  # a copy, not changed


def test_a_loop_turn_s_reports_go_in_one_message_and_a_batch_s_answers_in_one(
    fresh_database: str,
) -> None:
    """The reports an event loop turn queues travel together, and the writer answers each
    batch in one message: 20 reports, one message out, one back per batch committed."""
    world = committed_world(fresh_database)
    settings = make_settings(fresh_database)
    actor = system_actor()
    lng, lat = world.city.centres[world.grid_a]

    def job(i: int) -> service.StaffReport:
        data = IntakeData(channel=Channel.grid_patrol, title=f"井盖破损{i}号", lng=lng, lat=lat)
        return service.StaffReport(settings, data, actor, service.prepare(data))

    async def report_all() -> list[tuple[dict[str, object], bool]]:
        return await asyncio.gather(
            *(writer.run_batched(service.STAFF_REPORTS, job(i)) for i in range(20))
        )

    bundles: list[int] = []

    def before_send(payloads: list[object]) -> list[object]:
        bundles.append(len(payloads))
        return payloads

    writer = WriterProcess(settings, before_send=before_send)
    try:
        answers = asyncio.run(report_all())
        # a thread's job goes alone, at once
        alone = writer.submit_batched(service.STAFF_REPORTS, job(20)).result(timeout=60)
    finally:
        writer.close()
    assert [read["title"] for read, _ in answers] == [f"井盖破损{i}号" for i in range(20)]
    assert all(created for _, created in answers) and alone[1]
    assert len({read["code"] for read, _ in [*answers, alone]}) == 21
    assert writer.sent == 2 and bundles == [20, 1]
    assert writer.jobs == 21
    assert writer.received == writer.batches < 21


def test_a_job_that_cannot_travel_fails_alone(fresh_database: str) -> None:
    world = committed_world(fresh_database)
    settings = make_settings(fresh_database)
    lng, lat = world.city.centres[world.grid_a]
    data = IntakeData(channel=Channel.grid_patrol, title="井盖破损", lng=lng, lat=lat)
    good = service.StaffReport(settings, data, system_actor(), service.prepare(data))

    async def report_all() -> list[object]:
        return await asyncio.gather(
            writer.run_batched(service.STAFF_REPORTS, good),
            writer.run_batched(service.STAFF_REPORTS, threading.Lock()),  # type: ignore[arg-type]
            writer.run_batched(service.STAFF_REPORTS, good),
            return_exceptions=True,
        )

    writer = WriterProcess(settings)
    try:
        first, bad, third = asyncio.run(report_all())
    finally:
        writer.close()
    assert isinstance(bad, TypeError) and "pickle" in str(bad)
    assert first[1] and third[1]  # type: ignore[index]
    assert first[0]["code"] != third[0]["code"]  # type: ignore[index]
    assert writer.sent == 1 and writer.jobs == 2


def test_settings_are_never_sent_and_each_side_uses_its_own() -> None:
    ours = Settings(secret_key=TEST_SECRET, intake_batch_max=7)
    theirs = Settings(secret_key=TEST_SECRET, intake_batch_max=9)
    data = dumps({"settings": ours, "n": 1})
    assert TEST_SECRET.encode() not in data
    assert loads(data, theirs)["settings"] is theirs
    with pytest.raises(pickle.UnpicklingError):
        loads(data)  # a side without settings cannot make one up


class _Unpicklable(Exception):
    def __init__(self, a: int, b: int) -> None:  # pickle calls it with one argument
        super().__init__(f"{a}/{b}")


def test_errors_travel_as_themselves_or_as_their_text() -> None:
    error = InvalidInput("事件分类不存在", code="event.unknown_category", details=[{"loc": ["x"]}])
    back = loads(dumps(portable(error)))
    assert isinstance(back, InvalidInput)
    assert (back.code, back.details, back.status_code) == (error.code, error.details, 422)
    stand_in = loads(dumps(portable(_Unpicklable(1, 2))))
    assert isinstance(stand_in, RuntimeError)
    assert "_Unpicklable" in str(stand_in) and "1/2" in str(stand_in)


def test_a_bundle_waits_in_the_pipe_while_the_writer_is_busy() -> None:
    """The web process's event loop sends a bundle of reports and goes on, even when the
    writer, storing a batch, reads it later: the pipe holds a message of 1 MB (the kernel's
    default buffer, 208 KB, made the sender wait for the reader)."""
    import multiprocessing

    from shiyu.writer_process import _widen

    cap = int(Path("/proc/sys/net/core/wmem_max").read_text())
    if cap < 1_000_000:
        pytest.skip(f"this kernel caps a socket's buffer at {cap} bytes (net.core.wmem_max)")
    ours, theirs = multiprocessing.get_context("spawn").Pipe(duplex=True)
    try:
        for end in (ours, theirs):
            _widen(end)
        message = b"x" * 1_000_000
        sent = threading.Event()

        def send() -> None:
            ours.send_bytes(message)
            sent.set()

        threading.Thread(target=send, daemon=True).start()
        assert sent.wait(10), "the send waited for a reader"
        assert theirs.recv_bytes() == message
    finally:
        ours.close()
        theirs.close()
