"""Builds tests/data/duplicate_pairs.csv: the verbatim and near-verbatim re-posts among the
real appeals, found by comparing every pair within each file exhaustively (not with the
detector's LSH). Needs scipy (installed with scikit-learn). Writes row numbers and scores
only, never text.

    python scripts/label_duplicates.py ../shared/data/appeals tests/data/duplicate_pairs.csv

A pair is a candidate when its 3-gram Jaccard similarity is ≥ 0.3 (the exhaustive sparse
product); it is labelled verbatim when the normalised texts are equal, near-verbatim when
difflib's ratio (character edit similarity, a different measure from the detector's) is
≥ 0.8. Pairs with the same message_id are one message, not a re-post.
"""

from __future__ import annotations

import csv
import difflib
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]

from shiyu.duplicates import evaluate, similarity

POOL = 0.3
NEAR = 0.8


def main(data_dir: Path, out: Path) -> None:
    records = evaluate.load_records(data_dir)
    by_file = defaultdict(list)
    for rec in records:
        by_file[rec.file].append(rec)
    rows_out = []
    for name, recs in by_file.items():
        vocab: dict[str, int] = {}
        items = [similarity.shingles(r.cleaned) for r in recs]
        ri, ci = [], []
        for i, s in enumerate(items):
            for sh in s:
                ri.append(i)
                ci.append(vocab.setdefault(sh, len(vocab)))
        x = sparse.csr_matrix(
            (np.ones(len(ri), dtype=np.float32), (ri, ci)), shape=(len(recs), len(vocab))
        )
        sizes = np.asarray(x.sum(1)).ravel()
        xt = x.T.tocsc()
        for start in range(0, len(recs), 1000):
            inter = (x[start : start + 1000] @ xt).toarray()
            for k in range(inter.shape[0]):
                i = start + k
                row = inter[k]
                row[: i + 1] = 0
                for j in np.nonzero(row >= POOL * sizes[i])[0]:
                    jac = row[j] / (sizes[i] + sizes[j] - row[j])
                    a, b = recs[i], recs[int(j)]
                    if jac < POOL or evaluate.same_message(a, b):
                        continue
                    if a.cleaned == b.cleaned:
                        kind, ratio = "verbatim", 1.0
                    else:
                        ratio = difflib.SequenceMatcher(
                            None, a.cleaned, b.cleaned, autojunk=False
                        ).ratio()
                        if ratio < NEAR:
                            continue
                        kind = "near_verbatim"
                    rows_out.append(
                        [
                            name,
                            a.row,
                            b.row,
                            a.message_id,
                            b.message_id,
                            kind,
                            round(float(jac), 4),
                            round(ratio, 4),
                        ]
                    )
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "file",
                "row_a",
                "row_b",
                "message_id_a",
                "message_id_b",
                "kind",
                "jaccard",
                "edit_ratio",
            ]
        )
        w.writerows(sorted(rows_out))
    print(f"{len(rows_out)} pairs written to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
