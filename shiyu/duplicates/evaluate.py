"""Precision and recall of duplicate detection on the real appeals (text only: the messages
have no coordinates, and their times span years, so place and time are not used).

Records are the rows of dev.csv, hot.csv and replies.csv; pairs are formed within one file
(the files overlap, and a message appearing in two files is the same record, not a re-post),
and two rows with the same message_id are the same message, not a pair. The labelled
positives (tests/data/duplicate_pairs.csv, built by scripts/label_duplicates.py) are the
verbatim re-posts (identical normalised text) and the near-verbatim ones (character edit
similarity, difflib ratio ≥ 0.8), found by comparing every pair exhaustively; every other pair
is a negative. The detector is the intake code path without the database: the same band
keys, an in-memory band index, the same exact-Jaccard score and threshold.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from shiyu.duplicates import similarity

FILES = ("dev.csv", "hot.csv", "replies.csv")
Pair = tuple[str, int, int]  # (file, row a, row b) with a < b


@dataclass(frozen=True)
class Record:
    file: str
    row: int
    message_id: str
    cleaned: str


@dataclass(frozen=True)
class Evaluation:
    threshold: float
    records: int
    positives: int
    flagged: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.flagged if self.flagged else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 1.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "threshold": self.threshold,
            "records": self.records,
            "positives": self.positives,
            "flagged": self.flagged,
            "true_positives": self.true_positives,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
        }


def load_records(data_dir: Path) -> list[Record]:
    records = []
    for name in FILES:
        with (data_dir / name).open(encoding="utf-8", newline="") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                cleaned = similarity.clean(row.get("subject", ""), row.get("detail", ""))
                records.append(Record(name, i, (row.get("message_id") or "").strip(), cleaned))
    return records


def same_message(a: Record, b: Record) -> bool:
    return bool(a.message_id) and a.message_id == b.message_id


def detect(records: Iterable[Record], *, threshold: float) -> set[Pair]:
    """Pairs the detector flags: each record is compared with the earlier records of its
    file that share a band key, as a new event is with the open ones."""
    flagged: set[Pair] = set()
    by_file: dict[str, list[Record]] = defaultdict(list)
    for rec in records:
        by_file[rec.file].append(rec)
    for recs in by_file.values():
        index: dict[int, list[int]] = defaultdict(list)
        items_of: dict[int, frozenset[str]] = {}
        for pos, rec in enumerate(recs):
            items = similarity.shingles(rec.cleaned)
            if not items:
                continue
            keys = similarity.keys_for(rec.cleaned)
            hits = {other for key in keys for other in index.get(key, [])}
            for other in hits:
                if same_message(rec, recs[other]):
                    continue
                if similarity.jaccard(items, items_of[other]) >= threshold:
                    flagged.add((rec.file, recs[other].row, rec.row))
            items_of[pos] = items
            for key in keys:
                index[key].append(pos)
    return flagged


def load_labels(path: Path) -> set[Pair]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {(r["file"], int(r["row_a"]), int(r["row_b"])) for r in csv.DictReader(fh)}


def evaluate(data_dir: Path, labels: Path, *, threshold: float) -> Evaluation:
    records = load_records(data_dir)
    positives = load_labels(labels)
    flagged = detect(records, threshold=threshold)
    return Evaluation(
        threshold=threshold,
        records=len(records),
        positives=len(positives),
        flagged=len(flagged),
        true_positives=len(flagged & positives),
    )
