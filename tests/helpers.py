"""Running the real `shiyu` command and real server processes against a committed database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from shiyu.db import Database
from tests.conftest import TEST_SECRET, make_settings
from tests.factories.world import World, create_world

#: the real data of ../shared (read there, never copied into the repository)
SHARED = Path(__file__).resolve().parents[2] / "shared"


def revision_module(revision: str) -> ModuleType:
    """A migration's module, by its revision id, as Alembic loads it (for the constants and
    helpers a test checks the revision against)."""
    from alembic.script import ScriptDirectory

    from shiyu.migrate import alembic_config

    module: ModuleType = ScriptDirectory.from_config(alembic_config()).get_revision(revision).module
    return module


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data; the test is skipped, saying where it looked, when the
    folder is not there (a clone on its own)."""
    path = SHARED.joinpath("data", *parts)
    if not path.exists():
        pytest.skip(f"real data not found at {path}")
    return path


def shiyu_env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIYU_")}
    env.update(
        SHIYU_DATABASE_URL=url,
        SHIYU_ENVIRONMENT="test",
        SHIYU_SECRET_KEY=TEST_SECRET,
        SHIYU_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def run_cli(url: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shiyu.cli", *args],
        env=shiyu_env(url, **extra),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningServer:
    base: str
    proc: subprocess.Popen[str]


@contextmanager
def server_process(url: str, **extra: str) -> Iterator[str]:
    """`shiyu serve` in its own process; yields its base URL and always stops it."""
    with running_server(url, **extra) as server:
        yield server.base


@contextmanager
def running_server(url: str, *, port: int | None = None, **extra: str) -> Iterator[RunningServer]:
    """`shiyu serve` in its own process (on `port`, or a free one); yields it, with its process
    for tests that kill it, and always stops it."""
    port = port or free_port()
    # the server's log goes to a file: a pipe nobody reads would block the server once full,
    # and reading a pipe of a live process would block the test
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen(
        [sys.executable, "-m", "shiyu.cli", "serve", "--port", str(port)],
        env=shiyu_env(url, **extra),
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                log.seek(0)
                raise RuntimeError(f"server did not start: {log.read()[-2000:]}")
            time.sleep(0.1)
        yield RunningServer(base, proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def committed_world(url: str) -> World:
    """The `world` of tests/factories, committed into a separate database (for tests that
    run real server processes against it)."""
    settings = make_settings(url)
    db = Database(settings)
    with db.session() as session:
        world = create_world(session, settings)
    db.dispose()
    return world
