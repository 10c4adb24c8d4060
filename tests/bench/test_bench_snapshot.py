"""The benchmarks' database snapshot: each creation level starts from the city as built."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from bench.server import Snapshot
from tests.conftest import create_database, drop_database


def _rows(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = text("SELECT code FROM snapshot_probe ORDER BY code")
            return list(conn.execute(query).scalars())
    finally:
        engine.dispose()


def _run(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def test_restore_puts_back_the_database_as_taken_each_time(tmp_path: Path) -> None:
    url = create_database("snapshot")
    try:
        _run(url, "CREATE TABLE snapshot_probe (code VARCHAR(8) PRIMARY KEY)")
        _run(url, "INSERT INTO snapshot_probe VALUES ('built')")
        snapshot = Snapshot(url, tmp_path / "snap")
        snapshot.take()
        for level in ("1", "10"):
            _run(url, f"INSERT INTO snapshot_probe VALUES ('{level}')")
            assert _rows(url) == sorted(["built", level])
            snapshot.restore()
            assert _rows(url) == ["built"]  # the level's rows are gone, the city's stay
        snapshot.drop()
        snapshot.drop()  # nothing left to drop: no error
    finally:
        drop_database(url)
