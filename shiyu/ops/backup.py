"""`shiyu backup --out FILE` and `shiyu restore --from FILE`.

- SQLite: the online backup API copies a consistent snapshot page by page while the
  application keeps running (WAL readers and writers are not blocked for long); the backup
  is itself a SQLite database file. Restoring copies it back the same way.
- PostgreSQL: `pg_dump --format=custom` (a consistent snapshot in one transaction) and
  `pg_restore --clean --if-exists --no-owner --single-transaction`. The tools are looked up
  in SHIYU_PG_BIN_DIR, then PATH, then /usr/lib/postgresql/15/bin.

Restore refuses to overwrite a database that holds data (users, jurisdictions, events or
audit records; a freshly migrated database holds none) unless `force` is given. Stop the
application processes before restoring.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from shiyu.config import Settings

PG_FALLBACK_DIR = "/usr/lib/postgresql/15/bin"
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
#: tables a migration never fills: rows here mean the database is in use
DATA_TABLES = ("users", "jurisdictions", "events", "audit_records")


class BackupError(RuntimeError):
    """A backup or restore that cannot proceed; the message says why (exit code 1)."""


@dataclass(frozen=True)
class Outcome:
    kind: str
    path: str
    bytes: int


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("SQLite 内存数据库无法备份")
    return Path(database)


def find_pg_tool(name: str, settings: Settings) -> str:
    if settings.pg_bin_dir:
        candidate = Path(settings.pg_bin_dir) / name
        if candidate.is_file():
            return str(candidate)
        raise BackupError(f"在 SHIYU_PG_BIN_DIR={settings.pg_bin_dir} 中找不到 {name}")
    found = shutil.which(name) or (
        str(Path(PG_FALLBACK_DIR) / name) if (Path(PG_FALLBACK_DIR) / name).is_file() else None
    )
    if not found:
        raise BackupError(
            f"找不到 {name}：请安装 PostgreSQL 客户端（postgresql-client-15），"
            f"或用 SHIYU_PG_BIN_DIR 指定其目录"
        )
    return found


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (which goes to PGPASSWORD, not the process list)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    # our own argument list (tool path, options, file, URL), never a shell
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} 失败（{done.returncode}）：{done.stderr[-2000:]}")


def backup(settings: Settings, out: Path) -> Outcome:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.unlink(missing_ok=True)
    if settings.is_sqlite:
        source = _sqlite_path(settings.database_url)
        if not source.exists():
            raise BackupError(f"数据库文件不存在：{source}")
        with sqlite3.connect(source) as src, sqlite3.connect(tmp) as dst:
            src.backup(dst)
        src.close()
        dst.close()
        kind = "sqlite"
    else:
        url, env = _libpq(settings.database_url)
        tool = find_pg_tool("pg_dump", settings)
        _run([tool, "--format=custom", "--no-owner", "--file", str(tmp), url], env)
        kind = "postgresql"
    os.replace(tmp, out)  # a backup file is complete or absent
    return Outcome(kind=kind, path=str(out), bytes=out.stat().st_size)


def rows_in_use(url: str) -> int:
    """Rows in the tables only real use fills (0: empty or freshly migrated)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
            return sum(
                int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one())
                for t in DATA_TABLES
                if t in present
            )
    finally:
        engine.dispose()


def _check_format(path: Path, *, sqlite: bool) -> None:
    if not path.is_file():
        raise BackupError(f"备份文件不存在：{path}")
    with path.open("rb") as f:
        head = f.read(16)
    if sqlite and not head.startswith(SQLITE_MAGIC):
        raise BackupError(f"{path} 不是 SQLite 备份（数据库是 SQLite）")
    if not sqlite and not head.startswith(PG_CUSTOM_MAGIC):
        raise BackupError(f"{path} 不是 pg_dump 自定义格式备份（数据库是 PostgreSQL）")


def restore(settings: Settings, source: Path, *, force: bool = False) -> Outcome:
    _check_format(source, sqlite=settings.is_sqlite)
    if settings.is_sqlite:
        target = _sqlite_path(settings.database_url)
        target.parent.mkdir(parents=True, exist_ok=True)
    in_use = rows_in_use(settings.database_url) if _exists(settings) else 0
    if in_use and not force:
        raise BackupError(f"目标数据库已有数据（{in_use} 行），拒绝覆盖；确认覆盖请加 --force")
    if settings.is_sqlite:
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        src.close()
        dst.close()
        kind = "sqlite"
    else:
        url, env = _libpq(settings.database_url)
        tool = find_pg_tool("pg_restore", settings)
        cmd = [tool, "--clean", "--if-exists", "--no-owner", "--single-transaction"]
        _run([*cmd, "--dbname", url, str(source)], env)
        kind = "postgresql"
    return Outcome(kind=kind, path=str(source), bytes=source.stat().st_size)


def _exists(settings: Settings) -> bool:
    return not settings.is_sqlite or _sqlite_path(settings.database_url).exists()
