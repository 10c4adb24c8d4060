"""Agreement of the reply score with the hand-labelled sample (tests/data/reply_labels.csv:
120 replies from replies.csv read and labelled good/poor; see docs/intelligence.md). The
floors are the figures measured when this was written (AUC 0.926, accuracy 0.908 at the
default threshold 50, 5 working days) minus a small margin."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from shiyu.replies import evaluate
from tests.helpers import run_cli, shared_data

LABELS = Path(__file__).resolve().parents[1] / "data" / "reply_labels.csv"


def test_labels_hold_no_message_text() -> None:
    header = LABELS.read_text(encoding="utf-8").splitlines()[0]
    assert header == "message_id,label,note"
    labels = evaluate.load_labels(LABELS)
    assert len(labels) == 120
    assert sum(not good for good in labels.values()) == 20


def test_agreement_with_the_hand_labels(tmp_path: Path) -> None:
    sample = tmp_path / "sample.csv"
    # score only the labelled rows (the whole file takes a minute on a busy machine)
    wanted = set(evaluate.load_labels(LABELS))
    data = shared_data("appeals", "replies.csv")
    with data.open(encoding="utf-8", newline="") as fh, sample.open("w", encoding="utf-8") as out:
        reader = csv.DictReader(fh)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        writer.writerows(r for r in reader if r["message_id"] in wanted)
    scored = evaluate.score_csv(sample, working_days=5)
    result = evaluate.agreement(scored, evaluate.load_labels(LABELS), threshold=50)
    assert result["labelled"] == 120
    assert result["auc"] >= 0.90, result
    assert result["accuracy"] >= 0.88, result
    assert result["spearman"] >= 0.5, result


def test_cli_scores_a_csv(fresh_database: str, tmp_path: Path) -> None:
    small = tmp_path / "replies.csv"
    small.write_text(
        "message_id,subject,detail,time,reply,reply_time\n"
        "1,解放路路灯不亮,解放路中段路灯已经一周不亮，晚上行人看不清路，请尽快修理,"
        "2026-03-02 09:00:00,您好！来信收悉。经区城管局现场核实，解放路中段路灯不亮是线路老化"
        "所致，已于3月3日更换线路并恢复照明。下一步将对解放路沿线路灯开展排查。如有问题请拨打"
        "12345联系。,2026-03-03 10:00:00\n"
        "2,噪音扰民,工地夜间施工,2026-03-02 09:00:00,已转交有关部门。,2026-04-30 10:00:00\n",
        encoding="utf-8",
    )
    labels = tmp_path / "labels.csv"
    labels.write_text("message_id,label,note\n1,good,\n2,poor,\n", encoding="utf-8")
    out = tmp_path / "scores.csv"
    result = run_cli(
        fresh_database,
        "replies", "score", "--csv", str(small), "--labels", str(labels), "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["replies"] == 2 and report["flagged"] == 1
    assert report["agreement"]["accuracy"] == 1.0
    assert out.read_text(encoding="utf-8").startswith("message_id,score,")


def test_cli_refuses_a_csv_without_the_columns(fresh_database: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("message_id,text\n1,x\n", encoding="utf-8")
    result = run_cli(fresh_database, "replies", "score", "--csv", str(bad))
    assert result.returncode == 2
    body = json.loads(result.stdout)
    assert body["error"]["code"] == "replies.missing_columns"
    assert "reply" in body["error"]["message"]
