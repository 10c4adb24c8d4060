"""Small samples of the real appeals (read from ../shared/data, never copied) and models
trained on them once per test session."""

from __future__ import annotations

import csv
import random
from functools import lru_cache
from pathlib import Path

import pytest

from shiyu.classify import dataset, service

DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "appeals" / "dev.csv"
COLUMNS = ["subject", "detail", "label_l1"]


@lru_cache(maxsize=1)
def dev_rows() -> list[dict[str, str]]:
    if not DEV.exists():
        pytest.skip(f"real data not found at {DEV}")
    with DEV.open(encoding="utf-8") as fh:
        return [{k: r[k] for k in COLUMNS} for r in csv.DictReader(fh)]


def sample(n: int, seed: int = 7) -> list[dict[str, str]]:
    """`n` rows, stratified enough: every class appears (the sample is shuffled)."""
    rows = list(dev_rows())
    random.Random(seed).shuffle(rows)
    return rows[:n]


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] = COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _dataset(rows: list[dict[str, str]], relabel: str = "") -> dataset.Dataset:
    return dataset.Dataset(
        rows=[[r["subject"], r["detail"]] for r in rows],
        labels=[relabel + r["label_l1"] for r in rows],
        text_cols=["subject", "detail"],
        label_col="label_l1",
        sha256="test",
    )


@lru_cache(maxsize=4)
def model_bytes(relabel: str = "") -> bytes:
    """A model trained on 400 real messages; `relabel` prefixes every class (a second,
    distinguishable model for hot-swap tests)."""
    data, _ = service.train(_dataset(sample(400), relabel))
    return data
