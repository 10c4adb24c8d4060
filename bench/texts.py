"""What the load benchmarks report: real citizens' appeals (`../shared/data/appeals/dev.csv`,
subject and detail) when that folder is there, so that classifying, duplicate search and the
search index work on the text a city receives; otherwise a few synthetic reports, each sent
many times over (every report is then a near-copy of hundreds of others, which makes
duplicate search far busier than in a city)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APPEALS = PROJECT_ROOT.parent / "shared" / "data" / "appeals" / "dev.csv"

SYNTHETIC_TITLES = (
    "占道经营",
    "暴露垃圾",
    "井盖缺失",
    "乱堆物料",
    "路灯不亮",
    "违规广告",
    "道路积水",
)


def report_texts(
    n: int, seed: int, *, synthetic_description: str
) -> tuple[str, list[tuple[str, str]]]:
    """(source, n (title, description) pairs): real appeals in a shuffled order, repeated
    when n exceeds them, or the synthetic set."""
    if APPEALS.is_file():
        with APPEALS.open(encoding="utf-8", newline="") as f:
            rows = [
                (r["subject"].strip()[:200], r["detail"].strip()[:5000])
                for r in csv.DictReader(f)
                if r["subject"].strip()
            ]
        random.Random(seed).shuffle(rows)
        return "appeals/dev.csv", [rows[i % len(rows)] for i in range(n)]
    return "synthetic", [
        (f"{SYNTHETIC_TITLES[i % len(SYNTHETIC_TITLES)]}（第{i}号）", synthetic_description)
        for i in range(n)
    ]
