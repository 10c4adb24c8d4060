"""Test database built from the real migrations, one rolled-back transaction per test, and a
real HTTP server (uvicorn on loopback) whose sessions join that transaction.

Backend: SQLite by default; PostgreSQL when SHIYU_TEST_DATABASE_URL points at a server (each
xdist worker then gets its own database on it)."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from shiyu.app import create_app
from shiyu.classify.service import holder as classifier_holder
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.intake import enrich
from shiyu.kit import watch
from shiyu.migrate import upgrade
from shiyu.models import load_all
from tests.factories.world import World, create_world

load_all()

PG_URL = os.environ.get("SHIYU_TEST_DATABASE_URL", "")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def create_database(tag: str) -> str:
    """A new, migrated, empty database; returns its URL."""
    if PG_URL:
        name = f"shiyu_t_{tag}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    else:
        folder = Path(tempfile.mkdtemp(prefix=f"shiyu-{tag}-"))
        url = f"sqlite:///{folder / 'test.db'}"
    upgrade(url)
    return url


def drop_database(url: str) -> None:
    if not PG_URL:
        return
    name = make_url(url).database
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": url,
        "environment": "test",
        "secret_key": TEST_SECRET,
        "geo_index_check_seconds": 0.0,
        "log_json": True,
        "sweep_interval_seconds": 0,
        "upload_dir": tempfile.mkdtemp(prefix="shiyu-uploads-"),
        # the suite's servers share the test's connection: their writer is a thread of theirs
        "intake_writer": "thread",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = create_database(_worker())
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()


@pytest.fixture
def connection(db: Database) -> Iterator[Connection]:
    """Pins one connection with an open transaction; everything is rolled back afterwards.
    The per-process caches of users, units and categories, and the classifier model a
    process holds, start and end empty: the rollback of the outer transaction is invisible to
    the sessions whose commits maintain them."""
    _forget_per_process_state()
    conn = db.engine.connect()
    trans = conn.begin()
    db.pinned = conn
    try:
        yield conn
    finally:
        db.pinned = None
        trans.rollback()
        conn.close()
        _forget_per_process_state()


def _forget_per_process_state() -> None:
    watch.clear_all()
    classifier_holder.forget()
    enrich.forget()


@pytest.fixture
def session(db: Database, connection: Connection) -> Iterator[Session]:
    with db.session() as s:
        yield s


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # running in a thread
        pass


@pytest.fixture(scope="session")
def server(settings: Settings, db: Database) -> Iterator[str]:
    """A real uvicorn server on loopback for this worker, sharing the worker's Database."""
    app = create_app(settings, database=db)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    srv = _Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def client(server: str, connection: Connection) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as c:
        yield c


@pytest.fixture
def world(session: Session, settings: Settings) -> World:
    return create_world(session, settings)


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A separate, migrated database whose commits are real (for CLI and concurrency tests)."""
    url = create_database(f"{_worker()}_fresh")
    yield url
    drop_database(url)
