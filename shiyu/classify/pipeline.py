"""Features and the fitted classifier (pure functions of the text; no database).

Features: TF-IDF of character n-grams over the whole message (all text columns joined), plus a
separate TF-IDF of character n-grams over the first text column (the subject: short and
informative, so it gets its own weight instead of drowning in the detail). Character n-grams
need no word segmentation: jieba was measured at about 200 long messages/s on one core, below
the 500/s prediction target, and did not improve cross-validated macro-F1 here
(docs/intelligence.md). Texts are normalised first (`shiyu.kit.text.normalise`).

Classifier: a linear SVM (balanced class weights). Its decision scores are turned into
probabilities with a softmax whose temperature is fitted on out-of-fold scores at training
time; the top probability is the confidence used for automatic dispatch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from shiyu.kit.text import normalise

#: Longest text the classifier reads (characters after normalisation); the API refuses longer.
MAX_CHARS = 20_000


@dataclass(frozen=True)
class PipelineConfig:
    full_ngrams: tuple[int, int] = (1, 3)
    full_min_df: int = 2
    subject_ngrams: tuple[int, int] = (1, 3)
    subject_weight: float = 0.7
    svc_c: float = 1.0
    class_weight: str | None = "balanced"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PipelineConfig:
        values = dict(data)
        for key in ("full_ngrams", "subject_ngrams"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


def prepare(rows: Sequence[Sequence[str]]) -> tuple[list[str], list[str]]:
    """(subjects, whole texts) from rows of text columns, normalised and capped."""
    subjects: list[str] = []
    whole: list[str] = []
    for row in rows:
        parts = [normalise(str(p or ""))[:MAX_CHARS] for p in row]
        subjects.append(parts[0] if len(parts) > 1 else "")
        whole.append(" ".join(p for p in parts if p)[:MAX_CHARS])
    return subjects, whole


_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_PRIME = np.uint64(1_000_003)


def char_ngram_ids(text: str, low: int, high: int, bits: int) -> np.ndarray:
    """Hashed ids of every character n-gram (low..high) of `text`, computed with numpy on
    the code points: about 25 times faster than scikit-learn's pure-Python char analyzer,
    which is what makes 500 messages/s on one core possible."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    size = len(codes)
    parts = []
    for n in range(low, high + 1):
        if size < n:
            break
        h = codes[: size - n + 1].copy()
        for k in range(1, n):
            h = h * _PRIME + codes[k : size - n + 1 + k]
        parts.append(h * np.uint64(n + 7))  # keeps orders apart
    if not parts:
        return np.zeros(0, dtype=np.int64)
    h = np.concatenate(parts)
    h ^= h >> np.uint64(29)  # splitmix-style finaliser spreads the low bits
    h *= _MIX_1
    h ^= h >> np.uint64(32)
    out: np.ndarray = (h & np.uint64((1 << bits) - 1)).astype(np.int64)
    return out


class CharNgramTfidf:
    """TF-IDF (sublinear tf, l2) over hashed character n-grams. Fitting keeps the hashed
    columns seen in at least `min_df` documents and renumbers them densely, so the model's
    coefficient matrices stay small."""

    def __init__(self, ngrams: tuple[int, int], min_df: int, bits: int = 21) -> None:
        self.ngrams = ngrams
        self.min_df = min_df
        self.bits = bits
        self.lookup_: np.ndarray = np.zeros(0, dtype=np.int32)
        self.idf_: np.ndarray = np.zeros(0, dtype=np.float32)

    def _ids(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        ids = [char_ngram_ids(t, self.ngrams[0], self.ngrams[1], self.bits) for t in texts]
        lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids))
        rows = np.repeat(np.arange(len(texts)), lengths)
        cols = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        return rows, cols

    @staticmethod
    def _counts(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
        data = np.ones(len(cols), dtype=np.float32)
        m = sp.csr_matrix((data, (rows, cols)), shape=shape)
        m.sum_duplicates()
        return m

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        rows, cols = self._ids(texts)
        full = self._counts(rows, cols, (len(texts), 1 << self.bits))
        df = np.bincount(full.indices, minlength=1 << self.bits)
        kept = np.flatnonzero(df >= self.min_df)
        self.lookup_ = np.full(1 << self.bits, -1, dtype=np.int32)
        self.lookup_[kept] = np.arange(len(kept), dtype=np.int32)
        n = len(texts)
        self.idf_ = (np.log((1 + n) / (1 + df[kept])) + 1).astype(np.float32)
        return self._weigh(full[:, kept])

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        rows, cols = self._ids(texts)
        mapped = self.lookup_[cols]
        keep = mapped >= 0
        m = self._counts(rows[keep], mapped[keep], (len(texts), len(self.idf_)))
        return self._weigh(m)

    def _weigh(self, m: sp.csr_matrix) -> sp.csr_matrix:
        """Sublinear tf × idf, rows scaled to unit length: plain numpy on the CSR arrays
        (scipy's generic operations cost more than the arithmetic for one message)."""
        m = sp.csr_matrix(m, dtype=np.float32)
        data = (np.log(m.data) + np.float32(1.0)) * self.idf_[m.indices]
        rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=m.shape[0]))
        norms[norms == 0] = 1.0
        m.data = (data / norms[rows]).astype(np.float32)
        return m


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def _fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature minimising log-loss of out-of-fold SVM scores (grid search:
    one parameter, cheap, no extra dependency)."""
    best, best_t = np.inf, 1.0
    for t in np.geomspace(0.05, 5.0, 40):
        p = _softmax(scores, float(t))
        loss = -np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0)))
        if loss < best:
            best, best_t = float(loss), float(t)
    return best_t


class TextPipeline:
    """Fitted vectorisers and classifiers. Pickled into the model file."""

    def __init__(self, config: PipelineConfig | None = None) -> None:
        self.config = config or PipelineConfig()
        self.classes_: list[str] = []
        self.temperature_ = 1.0
        self._full: CharNgramTfidf | None = None
        self._subject: CharNgramTfidf | None = None
        self._svc: LinearSVC | None = None

    # -- features

    def _features(self, subjects: list[str], whole: list[str], *, fit: bool) -> sp.csr_matrix:
        c = self.config
        if fit:
            self._full = CharNgramTfidf(c.full_ngrams, c.full_min_df)
            a = self._full.fit_transform(whole)
            self._subject = None
            if any(subjects):
                self._subject = CharNgramTfidf(c.subject_ngrams, 1)
                b = self._subject.fit_transform(subjects)
        else:
            assert self._full is not None
            a = self._full.transform(whole)
            if self._subject is not None:
                b = self._subject.transform(subjects)
        if self._subject is None:
            return a
        return sp.csr_matrix(sp.hstack([a, b * c.subject_weight]))

    # -- training

    def fit(self, rows: Sequence[Sequence[str]], labels: Sequence[str]) -> TextPipeline:
        subjects, whole = prepare(rows)
        self.classes_ = sorted(set(labels))
        index = {c: i for i, c in enumerate(self.classes_)}
        y = np.array([index[label] for label in labels])
        x = self._features(subjects, whole, fit=True)
        self.temperature_ = self._calibrate(x, y)
        self._svc = self._new_svc()
        self._svc.fit(x, y)
        return self

    def _new_svc(self) -> LinearSVC:
        return LinearSVC(C=self.config.svc_c, class_weight=self.config.class_weight)

    def _calibrate(self, x: sp.csr_matrix, y: np.ndarray) -> float:
        """Out-of-fold SVM scores (3 folds on the already built features: a small leak of
        the vocabulary, harmless for a temperature) → softmax temperature."""
        folds = min(3, int(np.bincount(y).min()))
        if folds < 2:
            return 1.0
        scores = np.zeros((len(y), len(self.classes_)))
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(x, y):
            svc = self._new_svc()
            svc.fit(x[train], y[train])
            scores[test] = self._scores(svc, x[test])
        return _fit_temperature(scores, y)

    def _scores(self, svc: LinearSVC, x: sp.csr_matrix) -> np.ndarray:
        raw = np.asarray(svc.decision_function(x))
        if raw.ndim == 1:  # two classes: one score for the second class
            raw = np.column_stack([-raw, raw])
        # a fold may miss a class; map its columns onto ours
        out = np.full((x.shape[0], len(self.classes_)), -10.0)
        out[:, svc.classes_] = raw
        return out

    # -- prediction

    def predict_proba(self, rows: Sequence[Sequence[str]]) -> np.ndarray:
        assert self._svc is not None
        subjects, whole = prepare(rows)
        x = self._features(subjects, whole, fit=False)
        return _softmax(self._scores(self._svc, x), self.temperature_)

    def predict(self, rows: Sequence[Sequence[str]]) -> list[str]:
        proba = self.predict_proba(rows)
        return [self.classes_[i] for i in proba.argmax(axis=1)]
