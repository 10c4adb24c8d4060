"""Batch scoring of replies in a CSV (columns message_id, subject, detail, time, reply,
reply_time, as replies.csv) and agreement with hand labels (message_id, label good|poor)."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from shiyu.errors import InvalidInput
from shiyu.events.deadlines import CHINA, WorkCalendar
from shiyu.replies import scoring

REQUIRED = ("subject", "detail", "reply")


@dataclass(frozen=True)
class Scored:
    message_id: str
    result: scoring.ReplyScore


def _time(value: str | None) -> datetime | None:
    """The board's local times (Asia/Shanghai); unparseable or empty: unknown."""
    try:
        stamp = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=CHINA)


def score_csv(path: Path, *, working_days: int) -> list[Scored]:
    """Scores every row; the reply limit is `working_days` working days after `time`."""
    calendar = WorkCalendar()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput(
                f"CSV缺少列：{', '.join(missing)}",
                code="replies.missing_columns",
                details=[{"loc": ["csv", c], "msg": "missing column"} for c in missing],
            )
        out = []
        for i, row in enumerate(reader):
            asked, replied = _time(row.get("time")), _time(row.get("reply_time"))
            deadline = calendar.add_working_days(asked, working_days) if asked else None
            result = scoring.score_reply(
                subject=row.get("subject") or "",
                detail=row.get("detail") or "",
                reply=row.get("reply") or "",
                asked_at=asked,
                replied_at=replied,
                deadline=deadline,
            )
            out.append(Scored((row.get("message_id") or str(i)).strip(), result))
    return out


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def auc(scores: Sequence[float], good: Sequence[bool]) -> float:
    """Probability that a good reply outscores a poor one (Mann–Whitney, ties count half)."""
    ranks = _ranks(scores)
    n_good = sum(good)
    n_poor = len(good) - n_good
    if not n_good or not n_poor:
        return math.nan
    rank_sum = sum(r for r, g in zip(ranks, good, strict=True) if g)
    return (rank_sum - n_good * (n_good + 1) / 2) / (n_good * n_poor)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    rx, ry = _ranks(x), _ranks(y)
    n = len(x)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sx = math.sqrt(sum((a - mx) ** 2 for a in rx))
    sy = math.sqrt(sum((b - my) ** 2 for b in ry))
    return cov / (sx * sy) if sx and sy else math.nan


def load_labels(path: Path) -> dict[str, bool]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["message_id"].strip(): r["label"].strip() == "good" for r in csv.DictReader(fh)}


def agreement(
    scored: Sequence[Scored], labels: dict[str, bool], *, threshold: float
) -> dict[str, Any]:
    pairs = [(s.result, labels[s.message_id]) for s in scored if s.message_id in labels]
    if not pairs:
        return {"labelled": 0}
    values = [r.score for r, _ in pairs]
    good = [g for _, g in pairs]
    hits = sum((v >= threshold) == g for v, g in zip(values, good, strict=True))
    flagged_poor = sum(1 for v, g in zip(values, good, strict=True) if v < threshold and not g)
    flagged = sum(1 for v in values if v < threshold)
    return {
        "labelled": len(pairs),
        "poor": good.count(False),
        "auc": round(auc(values, good), 4),
        "auc_parts": {
            part: round(auc([getattr(r, part) for r, _ in pairs], good), 4)
            for part in ("relevance", "completeness", "timeliness")
        },
        "spearman": round(spearman(values, [float(g) for g in good]), 4),
        "accuracy": round(hits / len(pairs), 4),
        "poor_recall": round(flagged_poor / good.count(False), 4) if False in good else None,
        "flag_precision": round(flagged_poor / flagged, 4) if flagged else None,
    }


def summary(scored: Sequence[Scored], *, threshold: float) -> dict[str, Any]:
    values = sorted(s.result.score for s in scored)
    n = len(values)
    return {
        "replies": n,
        "threshold": threshold,
        "flagged": sum(1 for v in values if v < threshold),
        "mean": round(sum(values) / n, 1) if n else None,
        "median": values[n // 2] if n else None,
    }
