"""`shiyu import hotline` against a real, committed database: the appeals data set, exit codes,
and a run killed with SIGKILL in the middle, then run again."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from shiyu.db import Database
from tests.conftest import make_settings
from tests.factories.jurisdiction import create_tiny_city
from tests.helpers import run_cli, shared_data, shiyu_env

APPEALS_HEADER = ["message_id", "user", "subject", "time", "detail", "label_l1"]


def _seed_city(url: str) -> None:
    db = Database(make_settings(url))
    with db.transaction() as session:
        create_tiny_city(session)
    db.dispose()


def _scalar(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one() or 0)
    finally:
        engine.dispose()


def _synthetic_appeals(path: Path, rows: int) -> None:
    """Rows in the appeals layout; every third without a message id (as in the real file)."""
    labels = ["城乡建设", "环境保护", "交通运输"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(APPEALS_HEADER)
        for i in range(rows):
            writer.writerow(
                [
                    "" if i % 3 == 0 else str(100_000 + i),
                    f"U{i:07d}",
                    f"第{i}号诉求",
                    f"2020-01-{1 + i % 28:02d} 10:00:00",
                    f"小区{i}号楼下水道堵塞",
                    labels[i % 3],
                ]
            )


@pytest.fixture
def city_db(fresh_database: str) -> str:
    _seed_city(fresh_database)
    return fresh_database


def test_imports_the_appeals_data_set(city_db: str) -> None:
    dev_csv = shared_data("appeals", "dev.csv")
    with dev_csv.open(encoding="utf-8-sig", newline="") as fh:
        records = list(csv.DictReader(fh))
    done = run_cli(city_db, "import", "hotline", str(dev_csv), "--mapping", "appeals")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["rows_total"] == len(records) == 5104
    assert report["created"] + report["failed"] == len(records)
    # the only bad rows: two message ids that appear twice in the file
    assert {e["reason"][:6] for e in report["errors"]} == {"工单编号与第"}
    ids = [r["message_id"] for r in records if r["message_id"]]
    assert report["failed"] == len(ids) - len(set(ids))  # 2 in this file
    events = _scalar(city_db, "SELECT count(*) FROM events WHERE source = 'hotline:appeals'")
    assert events == report["created"]
    health = _scalar(
        city_db,
        "SELECT count(*) FROM events WHERE source = 'hotline:appeals' AND category_code = 'AP06'",
    )
    assert health == sum(r["label_l1"] == "卫生计生" for r in records)

    again = run_cli(city_db, "import", "hotline", str(dev_csv), "--mapping", "appeals")
    assert again.returncode == 0, again.stderr[-2000:]
    second = json.loads(again.stdout)
    assert (second["created"], second["unchanged"]) == (0, report["created"])
    assert _scalar(city_db, "SELECT count(*) FROM events") == events


def test_exit_codes(city_db: str, tmp_path: Path) -> None:
    missing = run_cli(city_db, "import", "hotline", str(tmp_path / "none.csv"), "-m", "appeals")
    assert missing.returncode == 2
    assert "cannot read" in missing.stdout
    src = tmp_path / "a.csv"
    _synthetic_appeals(src, 3)
    unknown = run_cli(city_db, "import", "hotline", str(src), "--mapping", "nope")
    assert unknown.returncode == 2
    assert json.loads(unknown.stdout)["error"]["code"] == "hotline.mapping_not_found"
    garbage = tmp_path / "b.xlsx"
    garbage.write_bytes(b"PK\x03\x04 broken")
    broken = run_cli(city_db, "import", "hotline", str(garbage), "--mapping", "appeals")
    assert broken.returncode == 2
    assert json.loads(broken.stdout)["error"]["code"] == "hotline.unreadable_file"
    bad_row = tmp_path / "c.csv"
    bad_row.write_text("message_id,user,subject,time,detail,label_l1\n1,u,,,x,城乡建设\n")
    with_bad = run_cli(city_db, "import", "hotline", str(bad_row), "--mapping", "appeals")
    assert with_bad.returncode == 0  # processed; the bad row is listed
    assert json.loads(with_bad.stdout)["errors"] == [
        {"row": 2, "field": "title", "reason": "标题为空", "order_id": "1"}
    ]


def test_killed_import_loses_nothing_and_duplicates_nothing(city_db: str, tmp_path: Path) -> None:
    rows = 3000
    src = tmp_path / "big.csv"
    _synthetic_appeals(src, rows)
    args = ["import", "hotline", str(src), "--mapping", "appeals", "--batch-size", "100"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "shiyu.cli", *args],
        env=shiyu_env(city_db),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        done = 0
        while done < 500:
            assert proc.poll() is None, "the import finished before it could be killed"
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.05)
            done = _scalar(city_db, "SELECT coalesce(max(rows_done), 0) FROM hotline_imports")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    acknowledged = _scalar(city_db, "SELECT max(rows_done) FROM hotline_imports")
    stored = _scalar(city_db, "SELECT count(*) FROM events")
    assert 500 <= acknowledged < rows
    assert stored == acknowledged  # every committed batch is whole: nothing half-written
    assert _scalar(city_db, "SELECT count(*) FROM event_actions") == stored

    rerun = run_cli(city_db, *args)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    report = json.loads(rerun.stdout)
    assert (report["created"], report["unchanged"], report["failed"]) == (
        rows - stored,
        stored,
        0,
    )
    assert report["resumed_from_id"] is not None
    assert _scalar(city_db, "SELECT count(*) FROM events") == rows
    assert _scalar(city_db, "SELECT count(DISTINCT external_id) FROM events") == rows
    assert _scalar(city_db, "SELECT count(DISTINCT code) FROM events") == rows
    assert _scalar(city_db, "SELECT count(*) FROM event_actions") == rows
    verified = run_cli(city_db, "audit", "verify")
    assert verified.returncode == 0, verified.stdout
