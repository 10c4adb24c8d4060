"""The classifier and routing commands that use the database (a fresh, committed one)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import create_engine, text

from shiyu.classify import service
from tests.classify.data import model_bytes, sample, write_csv
from tests.classify.test_modelfile import _with_header
from tests.helpers import run_cli


def _active(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM classifier_models WHERE is_active")).scalars()
        out = list(names)
    engine.dispose()
    return out


def test_activate_export_and_accuracy(fresh_database: str, tmp_path: Path) -> None:
    good = tmp_path / "good.model"
    good.write_bytes(model_bytes())
    done = run_cli(fresh_database, "classifier", "activate", str(good))
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["classes"]) == 7
    assert _active(fresh_database) == ["good.model"]

    libraries = {**service.load_bytes(model_bytes()).header.libraries, "scikit-learn": "1.8.0"}
    old = tmp_path / "old.model"
    old.write_bytes(_with_header(model_bytes(), libraries=libraries))
    done = run_cli(fresh_database, "classifier", "activate", str(old))
    assert done.returncode == 2
    assert "1.8.0" in done.stderr and "不兼容" in done.stderr
    assert _active(fresh_database) == ["good.model"]  # the model in use stays

    out = tmp_path / "corrections.csv"
    done = run_cli(fresh_database, "classifier", "export-corrections", "--out", str(out))
    assert done.returncode == 0, done.stderr
    with out.open(encoding="utf-8") as fh:
        assert next(csv.reader(fh))[:3] == ["subject", "detail", "label_l1"]

    data = write_csv(tmp_path / "d.csv", sample(120))
    done = run_cli(
        fresh_database,
        "classifier", "train", "--data", str(data), "--out", str(tmp_path / "m"),
        "--with-corrections",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "added 0 corrections" in done.stderr

    done = run_cli(fresh_database, "routing", "accuracy", "--weeks", "2")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["weeks"]) == 2 and report["decided"] == 0
