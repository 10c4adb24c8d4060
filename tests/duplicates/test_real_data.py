"""The detector on the real appeals (text only) against the labelled re-posts in
tests/data/duplicate_pairs.csv; the floors are the figures measured when this was written
(precision 0.921, recall 0.991 at the default threshold 0.5) minus a small margin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shiyu.config import Settings
from shiyu.duplicates import evaluate
from tests.helpers import run_cli, shared_data

LABELS = Path(__file__).resolve().parents[1] / "data" / "duplicate_pairs.csv"


@pytest.fixture(scope="module")
def records() -> list[evaluate.Record]:
    return evaluate.load_records(shared_data("appeals"))


def test_labelled_set_is_the_one_described(records: list[evaluate.Record]) -> None:
    labels = evaluate.load_labels(LABELS)
    assert len(records) == 5104 + 4326 + 2816
    assert len(labels) == 555
    by_key = {(r.file, r.row): r for r in records}
    # every label is a within-file pair of two different messages
    for name, a, b in labels:
        assert a < b
        assert not evaluate.same_message(by_key[(name, a)], by_key[(name, b)])


def test_precision_and_recall_at_the_default_threshold(
    records: list[evaluate.Record], settings: Settings
) -> None:
    labels = evaluate.load_labels(LABELS)
    flagged = evaluate.detect(records, threshold=settings.duplicate_similarity)
    true_positives = len(flagged & labels)
    precision, recall = true_positives / len(flagged), true_positives / len(labels)
    assert precision >= 0.90, precision
    assert recall >= 0.97, recall


def test_cli_prints_the_figures(fresh_database: str) -> None:
    result = run_cli(
        fresh_database,
        "duplicates",
        "evaluate",
        "--data",
        str(shared_data("appeals")),
        "--labels",
        str(LABELS),
        "--threshold",
        "0.7",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["threshold"] == 0.7
    assert report["positives"] == 555
    assert report["precision"] >= 0.97 and report["recall"] >= 0.88


def test_cli_refuses_a_missing_folder(fresh_database: str, tmp_path: Path) -> None:
    result = run_cli(
        fresh_database, "duplicates", "evaluate", "--data", str(tmp_path), "--labels", str(LABELS)
    )
    assert result.returncode == 2
    assert "cannot read" in result.stdout
