"""The classifier benchmark, small: it trains on what it says and reports its figures."""

from __future__ import annotations

from pathlib import Path

from bench import bench_classify
from tests.classify.data import sample, write_csv


def test_small_run(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "d.csv", sample(200))
    result = bench_classify.measure(data, big=300, predict_n=150)
    assert result["train"]["dev_rows"] == 200 and result["train"]["big_rows"] == 300
    assert result["train"]["dev"]["wall_seconds"] > 0 and result["train"]["big"]["cpu_seconds"] > 0
    speed = result["predict_single_core"]
    assert speed["messages"] == 150 and speed["batch_messages_per_s_cpu"] > 0
    assert speed["one_at_a_time_messages"] == 150
    assert result["reference_jieba_single_core"]["messages_per_s_cpu"] > 0


def test_enlarged_set_is_perturbed_not_copied() -> None:
    from shiyu.classify import dataset

    rows = sample(50)
    ds = dataset.Dataset(
        [[r["subject"], r["detail"]] for r in rows], [r["label_l1"] for r in rows], [], "", ""
    )
    big_rows, big_labels = bench_classify.enlarge(ds, 200)
    assert len(big_rows) == 200 and set(big_labels) <= set(ds.labels)
    originals = {tuple(r) for r in ds.rows}
    assert sum(tuple(r) in originals for r in big_rows) < 20
