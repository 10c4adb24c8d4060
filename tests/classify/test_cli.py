"""`shiyu classifier train | eval | cv` on small real samples, and their clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.classify.data import sample, write_csv
from tests.helpers import run_cli


def test_train_then_eval_prints_one_json_object(tmp_path: Path, database_url: str) -> None:
    train = write_csv(tmp_path / "train.csv", sample(400))
    test = write_csv(tmp_path / "test.csv", sample(600)[400:])
    model = tmp_path / "m.model"
    done = run_cli(
        database_url,
        "classifier", "train", "--data", str(train), "--text-cols", "subject,detail",
        "--label-col", "label_l1", "--out", str(model),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    header = json.loads(done.stdout)
    assert len(header["classes"]) == 7
    assert header["libraries"]["scikit-learn"].startswith("1.9")
    assert header["data_sha256"] and header["payload_sha256"] and header["format"] == 2
    assert model.read_bytes().startswith(b"SHIYU-CLASSIFIER\n")

    done = run_cli(database_url, "classifier", "eval", "--model", str(model), "--data", str(test))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # exactly one JSON object
    assert report["rows"] == 200
    assert 0.5 < report["accuracy"] <= 1 and 0.4 < report["macro_f1"] <= 1
    labels = report["confusion_matrix"]["labels"]
    matrix = report["confusion_matrix"]["matrix"]
    assert len(matrix) == len(labels) and sum(map(sum, matrix)) == 200
    assert set(report["per_class"]) == set(labels)
    assert {"precision", "recall", "f1", "support"} <= set(report["per_class"][labels[0]])


def test_cv_reports_mean_and_std(tmp_path: Path, database_url: str) -> None:
    data = write_csv(tmp_path / "d.csv", sample(300))
    done = run_cli(database_url, "classifier", "cv", "--data", str(data), "--folds", "3")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["folds"] == 3 and result["grouped_duplicates"] is True
    assert len(result["macro_f1"]["folds"]) == 3
    assert 0.3 < result["macro_f1"]["mean"] <= 1 and result["macro_f1"]["std"] >= 0


def test_missing_columns_are_named(tmp_path: Path, database_url: str) -> None:
    data = write_csv(tmp_path / "d.csv", sample(20), ["subject", "label_l1"])
    done = run_cli(
        database_url, "classifier", "train", "--data", str(data), "--out", str(tmp_path / "m")
    )
    assert done.returncode == 2
    assert "detail" in done.stderr and "缺少列" in done.stderr and "missing columns" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_single_class_is_refused(tmp_path: Path, database_url: str) -> None:
    rows = [{**r, "label_l1": "城乡建设"} for r in sample(20)]
    data = write_csv(tmp_path / "d.csv", rows)
    done = run_cli(
        database_url, "classifier", "train", "--data", str(data), "--out", str(tmp_path / "m")
    )
    assert done.returncode == 2
    assert "一个类别" in done.stderr and "at least 2" in done.stderr
    assert not (tmp_path / "m").exists()


def test_empty_file_is_refused(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    done = run_cli(database_url, "classifier", "cv", "--data", str(tmp_path / "empty.csv"))
    assert done.returncode == 2
    assert "文件为空" in done.stderr and "empty file" in done.stderr


def test_xlsx_training_data(tmp_path: Path, database_url: str) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["标题", "内容", "类别"])
    for r in sample(120):
        sheet.append([r["subject"], r["detail"], r["label_l1"]])
    book.save(tmp_path / "d.xlsx")
    done = run_cli(
        database_url,
        "classifier", "train", "--data", str(tmp_path / "d.xlsx"), "--text-cols", "标题,内容",
        "--label-col", "类别", "--out", str(tmp_path / "m"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["text_cols"] == ["标题", "内容"]
