"""The `shiyu` command as subprocesses: build the demo city, serve it on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

HOST = "127.0.0.1"
#: the periodic jobs a `shiyu serve` process runs with the default settings
STARTUP_JOBS = (
    "events.sweep",
    "duplicates.upkeep",
    "intake.enrich",
    "replies.score_recent",
    "warning.surges",
)
_JOB_RUN = re.compile(r'shiyu_job_runs_total\{job="([^"]+)"')


def shiyu_command() -> list[str]:
    """The `shiyu` entry point next to this interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).parent / "shiyu"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("shiyu")
    if found:
        return [found]
    return [sys.executable, "-c", "from shiyu.cli import main; main()"]


def build_demo(env: dict[str, str], *, timeout: float = 900.0) -> float:
    """Run `shiyu demo` and return its wall-clock seconds (migrations included)."""
    started = time.perf_counter()
    done = subprocess.run(
        [*shiyu_command(), "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise RuntimeError(f"`shiyu demo` failed with exit code {done.returncode}:\n{tail}")
    return seconds


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """`shiyu serve` in its own process group; always stopped by `stop()` / the context exit."""

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = 1) -> None:
        self.env = env
        self.log_path = log_path
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self, *, ready_timeout: float = 60.0) -> None:
        cmd = [
            *shiyu_command(),
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_ready(ready_timeout)

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"`shiyu serve` exited with code {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                r = httpx.get(f"{self.base_url}/healthz", timeout=2.0)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout:.0f} s ({last}):\n{self.log_tail()}")

    def wait_for_jobs(self, jobs: tuple[str, ...] = STARTUP_JOBS, timeout: float = 180.0) -> float:
        """Wait until the server's periodic jobs have each run once (`/metrics`, read from
        loopback): they are all due when a process starts, and their first runs over a freshly
        built demo city (a sweep of 90 days of events, a day of surge statistics) would be
        measured as if they were the load's cost. Returns the seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                text = httpx.get(f"{self.base_url}/metrics", timeout=5.0).text
            except httpx.HTTPError:
                text = ""
            ran = {m.group(1) for m in _JOB_RUN.finditer(text)}
            if set(jobs) <= ran:
                break
            time.sleep(0.5)
        return time.monotonic() - started

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        try:
            # the group is the server's own session (start_new_session): only what we started
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            if self.proc.poll() is None:
                self.proc.send_signal(sig)

    def stop(self, *, grace: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(timeout=grace)
        if self.workers > 1:
            # worker processes may outlive their parent for a moment; while any is alive the
            # group id cannot have been reused, so this reaches only what we started
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.returncode

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class Snapshot:
    """The database as it is now (the demo city as built), put back before each measurement
    that must start from it: SQLite as a copy of the file, PostgreSQL as a template database
    (`CREATE DATABASE ... TEMPLATE`, so the URL's role needs CREATEDB). Take it with no
    server running; `drop()` removes the copy."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.url = make_url(database_url)
        self.folder = folder

    @property
    def _copy_name(self) -> str:
        return f"{self.url.database}_snapshot"

    def take(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            self.folder.mkdir(parents=True, exist_ok=True)
            with (
                contextlib.closing(sqlite3.connect(self._file)) as source,
                contextlib.closing(sqlite3.connect(self.folder / "snapshot.db")) as copy,
            ):
                source.backup(copy)  # consistent, and with what the log still holds
            return
        self._admin(
            f'DROP DATABASE IF EXISTS "{self._copy_name}"',
            f'CREATE DATABASE "{self._copy_name}" TEMPLATE "{self.url.database}"',
        )

    def restore(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            for suffix in ("-wal", "-shm"):  # a log left beside the copy would be replayed
                Path(f"{self._file}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(self.folder / "snapshot.db", self._file)
            return
        self._admin(
            f'DROP DATABASE IF EXISTS "{self.url.database}" WITH (FORCE)',
            f'CREATE DATABASE "{self.url.database}" TEMPLATE "{self._copy_name}"',
        )

    def drop(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            (self.folder / "snapshot.db").unlink(missing_ok=True)
            return
        self._admin(f'DROP DATABASE IF EXISTS "{self._copy_name}"')

    @property
    def _file(self) -> str:
        assert self.url.database, "a SQLite URL names its file"
        return self.url.database

    def _admin(self, *statements: str) -> None:
        """Run on the server's maintenance database (a database cannot copy or drop itself)."""
        engine = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        finally:
            engine.dispose()
