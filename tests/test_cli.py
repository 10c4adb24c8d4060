"""The `shiyu` command against a real, committed database."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.factories.jurisdiction import square, tiny_city_features
from tests.helpers import run_cli


def _write(tmp_path: Path, data: object, name: str = "in.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _count(url: str, table: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return int(n)


def test_import_export_and_verify(fresh_database: str, tmp_path: Path) -> None:
    city = tiny_city_features()
    src = _write(tmp_path, {"type": "FeatureCollection", "features": city.features})
    done = run_cli(fresh_database, "jurisdictions", "import", str(src))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["created"] == len(city.features)

    out = tmp_path / "out.geojson"
    exported = run_cli(fresh_database, "jurisdictions", "export", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert {f["properties"]["code"] for f in features} == {
        f["properties"]["code"] for f in city.features
    }

    verified = run_cli(fresh_database, "audit", "verify")
    assert verified.returncode == 0
    assert json.loads(verified.stdout) == {
        "ok": True,
        "checked": 1,
        "first_broken_seq": None,
        "reason": None,
    }


def test_bad_import_lists_every_problem_and_writes_nothing(
    fresh_database: str, tmp_path: Path
) -> None:
    features = tiny_city_features().features
    features[4]["geometry"] = square(200, 30)
    features[5]["properties"]["parent_code"] = "420102001099"
    src = _write(tmp_path, {"type": "FeatureCollection", "features": features})
    done = run_cli(fresh_database, "jurisdictions", "import", str(src))
    assert done.returncode == 1
    details = json.loads(done.stdout)["error"]["details"]
    assert [(d["index"], d["code"]) for d in details] == [
        (4, features[4]["properties"]["code"]),
        (5, features[5]["properties"]["code"]),
    ]
    assert _count(fresh_database, "jurisdictions") == 0
    assert _count(fresh_database, "audit_records") == 0


def test_unreadable_file(fresh_database: str, tmp_path: Path) -> None:
    src = tmp_path / "broken.geojson"
    src.write_text("{not json", encoding="utf-8")
    done = run_cli(fresh_database, "jurisdictions", "import", str(src))
    assert done.returncode == 2
    assert "cannot read" in done.stdout


def test_downgrade_and_upgrade(fresh_database: str) -> None:
    assert run_cli(fresh_database, "db", "downgrade", "base").returncode == 0
    engine = create_engine(fresh_database)
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
    engine.dispose()
    assert tables == 0
    assert run_cli(fresh_database, "db", "upgrade").returncode == 0
    assert _count(fresh_database, "roles") == 8
