"""What the load benchmarks report: real citizens' appeals (subject and detail) from
`../shared/data/appeals/` when that folder is there, so that classifying, duplicate search and
the search index work on the text a city receives; otherwise a few synthetic reports, each sent
many times over (every report is then a near-copy of hundreds of others, which makes
duplicate search far busier than in a city).

Every distinct text of the three appeal files is used (12,015 of them), not `dev.csv`'s 5,104
alone: a load of tens of thousands of reports cycled those so often that from its second
minute every report was an exact copy of one to three open events, and the duplicate search
read 16 band rows for each copy. A city's re-posts are a few in a hundred."""

from __future__ import annotations

import csv
import random
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APPEALS_DIR = PROJECT_ROOT.parent / "shared" / "data" / "appeals"
APPEALS = APPEALS_DIR / "dev.csv"
#: the appeal files with a subject and a detail per row (dev.csv is the labelled one)
APPEAL_FILES = ("dev.csv", "hot.csv", "replies.csv")

SYNTHETIC_TITLES = (
    "占道经营",
    "暴露垃圾",
    "井盖缺失",
    "乱堆物料",
    "路灯不亮",
    "违规广告",
    "道路积水",
)


def appeal_texts() -> list[tuple[str, str]]:
    """Every distinct (subject, detail) of the appeal files there are, in file order."""
    rows: dict[tuple[str, str], None] = {}
    for name in APPEAL_FILES:
        path = APPEALS_DIR / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                if r["subject"].strip():
                    rows.setdefault((r["subject"].strip()[:200], r["detail"].strip()[:5000]))
    return list(rows)


def report_texts(
    n: int, seed: int, *, synthetic_description: str
) -> tuple[str, list[tuple[str, str]]]:
    """(source, n (title, description) pairs): the real appeals in a shuffled order, repeated
    when n exceeds them, or the synthetic set."""
    rows = appeal_texts() if APPEALS.is_file() else []
    if rows:
        random.Random(seed).shuffle(rows)
        source = f"appeals ({len(rows)} distinct texts of {', '.join(APPEAL_FILES)})"
        return source, [rows[i % len(rows)] for i in range(n)]
    return "synthetic", [
        (f"{SYNTHETIC_TITLES[i % len(SYNTHETIC_TITLES)]}（第{i}号）", synthetic_description)
        for i in range(n)
    ]
