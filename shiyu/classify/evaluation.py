"""Quality figures: one evaluation (accuracy, macro-F1, per class, confusion matrix) and
repeated stratified k-fold cross-validation."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.metrics import precision_recall_fscore_support as prfs
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from shiyu.classify.pipeline import PipelineConfig, TextPipeline
from shiyu.kit.text import normalise


def report(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    labels = sorted(set(truth) | set(predicted))
    p, r, f, support = prfs(truth, predicted, labels=labels, zero_division=0)
    return {
        "rows": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, labels=labels, average="macro")), 4),
        "per_class": {
            label: {
                "precision": round(float(p[i]), 4),
                "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": {
            "labels": labels,
            "note": "rows: true label, columns: predicted label",
            "matrix": confusion_matrix(truth, predicted, labels=labels).tolist(),
        },
    }


def duplicate_groups(rows: Sequence[Sequence[str]]) -> list[str]:
    """One group per distinct normalised text: verbatim re-posts share a group, so grouped
    folds never train on a copy of a test message."""
    return [
        hashlib.sha1(  # noqa: S324 (a grouping key, not security)
            "\x1f".join(normalise(c) for c in row).encode("utf-8")
        ).hexdigest()
        for row in rows
    ]


def _summary(values: list[float]) -> dict[str, Any]:
    return {
        "mean": round(float(np.mean(values)), 4),
        "std": round(float(np.std(values)), 4),
        "folds": [round(v, 4) for v in values],
    }


def cross_validate(
    rows: Sequence[Sequence[str]],
    labels: Sequence[str],
    *,
    folds: int = 5,
    repeats: int = 1,
    grouped: bool = True,
    config: PipelineConfig | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Repeated stratified k-fold. With `grouped`, verbatim duplicates stay in one fold
    (StratifiedGroupKFold) so re-posted messages cannot leak from training into testing."""
    y = np.asarray(labels)
    groups = np.asarray(duplicate_groups(rows))
    f1s: list[float] = []
    accs: list[float] = []
    started = time.perf_counter()
    for rep in range(repeats):
        splitter: StratifiedKFold | StratifiedGroupKFold
        if grouped:
            splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=seed + rep)
        else:
            splitter = StratifiedKFold(folds, shuffle=True, random_state=seed + rep)
        split = (
            splitter.split(np.zeros(len(y)), y, groups)
            if grouped
            else splitter.split(np.zeros(len(y)), y)
        )
        for train, test in split:
            model = TextPipeline(config).fit([rows[i] for i in train], list(y[train]))
            predicted = model.predict([rows[i] for i in test])
            f1s.append(float(f1_score(y[test], predicted, average="macro")))
            accs.append(float(accuracy_score(y[test], predicted)))
    return {
        "folds": folds,
        "repeats": repeats,
        "grouped_duplicates": grouped,
        "rows": len(y),
        "distinct_texts": len(set(groups.tolist())),
        "macro_f1": _summary(f1s),
        "accuracy": _summary(accs),
        "seconds": round(time.perf_counter() - started, 1),
    }
