"""`python -m bench.bench_classify [--data dev.csv]`: the appeal classifier's training time
(dev.csv, and 10,000 messages) and prediction throughput on one core. Prints one JSON object.

The 10,000-message set is dev.csv sampled with replacement, each copy lightly perturbed
(about 5% of its characters dropped at random), so that it is not 5,104 exact duplicates.
Single core: BLAS/OpenMP pools are limited to one thread (threadpoolctl) and the work is
sequential Python/numpy; the reference is jieba word segmentation of the same messages."""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from shiyu.classify import dataset
from shiyu.classify.pipeline import TextPipeline

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data" / "appeals" / "dev.csv"


def _perturb(text: str, rng: random.Random, share: float = 0.05) -> str:
    return "".join(ch for ch in text if rng.random() >= share)


def enlarge(ds: dataset.Dataset, size: int, seed: int = 0) -> tuple[list[list[str]], list[str]]:
    rng = random.Random(seed)
    rows: list[list[str]] = []
    labels: list[str] = []
    for _ in range(size):
        i = rng.randrange(len(ds))
        rows.append([_perturb(t, rng) for t in ds.rows[i]])
        labels.append(ds.labels[i])
    return rows, labels


class _Clock:
    """Wall time and this process's CPU time: on a shared, loaded machine the wall time
    includes waiting for a core, the CPU time is what one core spends."""

    def __enter__(self) -> _Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def _timed_fit(rows: list[list[str]], labels: list[str]) -> tuple[TextPipeline, dict[str, float]]:
    with _Clock() as clock:
        model = TextPipeline().fit(rows, labels)
    return model, {"wall_seconds": round(clock.wall, 2), "cpu_seconds": round(clock.cpu, 2)}


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else 0.0


def _throughput(model: TextPipeline, rows: list[list[str]]) -> dict[str, Any]:
    with _Clock() as batch:
        model.predict_proba(rows)
    single_rows = rows[: min(len(rows), 1000)]
    with _Clock() as single:
        for row in single_rows:
            model.predict_proba([row])
    return {
        "messages": len(rows),
        "batch_messages_per_s_wall": _rate(len(rows), batch.wall),
        "batch_messages_per_s_cpu": _rate(len(rows), batch.cpu),
        "one_at_a_time_messages": len(single_rows),
        "one_at_a_time_messages_per_s_wall": _rate(len(single_rows), single.wall),
        "one_at_a_time_messages_per_s_cpu": _rate(len(single_rows), single.cpu),
        "mean_chars": round(sum(len("".join(r)) for r in rows) / len(rows), 1),
    }


def _jieba_reference(rows: list[list[str]]) -> dict[str, Any]:
    import jieba

    jieba.setLogLevel(60)
    jieba.lcut("预热")  # loads the dictionary outside the timing
    sample = rows[:300]
    with _Clock() as clock:
        for row in sample:
            jieba.lcut(" ".join(row))
    return {
        "messages": len(sample),
        "messages_per_s_wall": _rate(len(sample), clock.wall),
        "messages_per_s_cpu": _rate(len(sample), clock.cpu),
    }


def measure(data: Path, *, big: int = 10_000, predict_n: int = 3000) -> dict[str, Any]:
    ds = dataset.load(data, ["subject", "detail"], "label_l1")
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    with threadpool_limits(limits=1):
        model, dev_time = _timed_fit(ds.rows, ds.labels)
        big_rows, big_labels = enlarge(ds, big)
        _, big_time = _timed_fit(big_rows, big_labels)
        rng = random.Random(1)
        predict_rows = [ds.rows[rng.randrange(len(ds))] for _ in range(predict_n)]
        throughput = _throughput(model, predict_rows)
        jieba = _jieba_reference(predict_rows)
    return {
        "data": str(data),
        "train": {
            "dev_rows": len(ds),
            "dev": dev_time,
            "big_rows": big,
            "big": big_time,
            "big_note": "dev.csv sampled with replacement, ~5% of characters dropped per copy",
            "includes": "normalisation, features, two 3-fold out-of-fold splits (offsets,"
            " temperature), final fit",
        },
        "predict_single_core": throughput,
        "reference_jieba_single_core": jieba,
        "load_average_at_start": load_at_start,
        "targets": {"train_10k_seconds": 120, "predict_messages_per_s": 500},
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_classify", description=__doc__)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled CSV (dev.csv)")
    p.add_argument("--big", type=int, default=10_000, help="size of the enlarged training set")
    p.add_argument("--predict", type=int, default=3000, help="messages to predict")
    args = p.parse_args(argv)
    if not args.data.exists():
        print(f"data not found: {args.data}", file=sys.stderr)
        return 2
    result = measure(args.data, big=args.big, predict_n=args.predict)
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
