"""Features and the fitted classifier (pure functions of the text; no database).

Features: TF-IDF of character 1–2-grams over the whole message (all text columns joined; kept
when seen in at least 5 training messages), plus a separate TF-IDF of character 1–3-grams over
the first text column (the subject: short and informative, so it gets its own weight instead of
drowning in the detail). Character n-grams need no word segmentation: jieba costs about as much
as the whole pipeline and did not improve cross-validated macro-F1 here (docs/intelligence.md).
Texts are normalised first (`shiyu.kit.text.normalise`).

Classifier: NB-SVM (Wang & Manning 2012): for every class, each feature is scaled by its
naive-Bayes log-count ratio (class vs the rest) and a linear SVM (balanced weights) is fitted
one-vs-rest on the scaled features. The ratios are folded into the coefficients afterwards, so
prediction is one sparse × dense product. Per-class score offsets (maximising macro-F1) and a
softmax temperature are fitted on out-of-fold scores at training time; the top probability is
the confidence used for automatic dispatch.
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
    full_ngrams: tuple[int, int] = (1, 2)
    full_min_df: int = 5
    subject_ngrams: tuple[int, int] = (1, 3)
    subject_weight: float = 0.5
    svc_c: float = 1.0
    class_weight: str | None = "balanced"
    #: Laplace smoothing of the naive-Bayes log-count ratios; 0 turns the scaling off (a plain
    #: one-vs-rest linear SVM)
    nb_alpha: float = 1.0
    #: fit per-class score offsets maximising macro-F1 on out-of-fold scores
    tune_offsets: bool = True

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PipelineConfig:
        values = dict(data)
        for key in ("full_ngrams", "subject_ngrams"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


def prepare(
    rows: Sequence[Sequence[str]], *, normalised: bool = False
) -> tuple[list[str], list[str]]:
    """(subjects, whole texts) from rows of text columns, normalised and capped.
    `normalised`: the texts went through `normalise` already (events' stored text), which
    is idempotent, so they are not normalised again."""
    subjects: list[str] = []
    whole: list[str] = []
    for row in rows:
        parts = [(str(p or "") if normalised else normalise(str(p or "")))[:MAX_CHARS] for p in row]
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


def _min_df(configured: int, documents: int) -> int:
    """`configured` for real training sets; a small one (a demo's few dozen events) keeps
    rarer n-grams, so that it never ends up without features."""
    return max(1, min(configured, documents // 50))


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


def macro_f1(y: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """Macro-F1 over the classes that occur in `y` or `predicted` (as scikit-learn computes
    it), from a bincount confusion matrix: hundreds of calls while fitting offsets."""
    cm = np.bincount(y * n_classes + predicted, minlength=n_classes * n_classes)
    cm = cm.reshape(n_classes, n_classes)
    tp = np.diag(cm).astype(np.float64)
    denominator = cm.sum(axis=0) + cm.sum(axis=1)
    seen = denominator > 0
    return float(np.mean(2 * tp[seen] / denominator[seen])) if seen.any() else 0.0


#: out-of-fold splits (3 folds each) whose scores fit the offsets and the temperature
CALIBRATION_SPLITS = 2

#: candidate offsets for one class's score (SVM margin units), tried in this order
_OFFSET_GRID = np.linspace(-0.5, 0.5, 21)


def fit_offsets(scores: np.ndarray, y: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Per-class offsets added to the scores, maximising the macro-F1 of out-of-fold scores
    by coordinate ascent on a grid. Balanced class weights leave the decision thresholds
    slightly off for macro-F1 (small classes such as 交通运输 lose to the broad 城乡建设);
    fitting them on out-of-fold scores inside the training data keeps the test data out."""
    k = scores.shape[1]
    offsets = np.zeros(k)
    best = macro_f1(y, scores.argmax(axis=1), k)
    for _ in range(rounds):
        for c in range(k):
            for value in _OFFSET_GRID:
                trial = offsets.copy()
                trial[c] = value
                f1 = macro_f1(y, (scores + trial).argmax(axis=1), k)
                if f1 > best + 1e-9:
                    best, offsets = f1, trial
    return offsets


def log_count_ratios(x: sp.csr_matrix, y: np.ndarray, n_classes: int, alpha: float) -> np.ndarray:
    """Naive-Bayes log-count ratios, one row per class: log of (smoothed share of the class's
    messages containing the feature) over (the same for all other messages), normalised by
    the totals as in NB-SVM. Binarised features; shape (classes, features)."""
    present = sp.csr_matrix(x, dtype=np.float32, copy=True)
    present.data[:] = 1.0
    onehot = sp.csr_matrix(
        (np.ones(len(y), dtype=np.float32), (y, np.arange(len(y)))), shape=(n_classes, len(y))
    )
    counts = np.asarray((onehot @ present).todense(), dtype=np.float64)
    p = alpha + counts
    q = alpha + counts.sum(axis=0, keepdims=True) - counts
    ratios = np.log(p / p.sum(axis=1, keepdims=True)) - np.log(q / q.sum(axis=1, keepdims=True))
    out: np.ndarray = ratios.astype(np.float32)
    return out


@dataclass
class LinearScores:
    """One linear scorer per class: score = x · weights[:, c] + intercept[c] (NB ratios
    folded in). `weights` is (features, classes) and C-contiguous: the sparse × dense product
    then needs no copy of the matrix (a transposed view cost a copy per call, halving the
    one-message-at-a-time throughput)."""

    weights: np.ndarray
    intercept: np.ndarray

    def scores(self, x: sp.csr_matrix) -> np.ndarray:
        out: np.ndarray = np.asarray(x @ self.weights, dtype=np.float64) + self.intercept
        return out


def fit_nbsvm(
    x: sp.csr_matrix, y: np.ndarray, n_classes: int, config: PipelineConfig
) -> LinearScores:
    """One-vs-rest linear SVMs on NB-scaled features (plain features when `nb_alpha` is 0).
    A class absent from `y` gets a constant very low score (the only class: very high)."""
    if config.nb_alpha > 0:
        ratios = log_count_ratios(x, y, n_classes, config.nb_alpha)
    else:
        ratios = np.ones((n_classes, x.shape[1]), dtype=np.float32)
    coef = np.zeros((n_classes, x.shape[1]), dtype=np.float32)
    intercept = np.full(n_classes, -10.0)
    for c in range(n_classes):
        positive = (y == c).astype(np.int64)
        if positive.all() or not positive.any():
            intercept[c] = 10.0 if positive.all() else -10.0
            continue
        svc = LinearSVC(C=config.svc_c, class_weight=config.class_weight)
        svc.fit(x @ sp.diags(ratios[c]), positive)
        coef[c] = svc.coef_[0] * ratios[c]
        intercept[c] = float(svc.intercept_[0])
    return LinearScores(np.ascontiguousarray(coef.T), intercept)


class TextPipeline:
    """Fitted vectorisers and classifiers. Pickled into the model file.

    Model files of format 1 hold a pipeline with a multi-class `LinearSVC` in `_svc` and no
    `_linear`; they still predict (with their own features and temperature)."""

    def __init__(self, config: PipelineConfig | None = None) -> None:
        self.config = config or PipelineConfig()
        self.classes_: list[str] = []
        self.temperature_ = 1.0
        self.offsets_: np.ndarray = np.zeros(0)
        self._full: CharNgramTfidf | None = None
        self._subject: CharNgramTfidf | None = None
        self._linear: LinearScores | None = None
        self._svc: LinearSVC | None = None  # format-1 model files only

    # -- features

    def _features(self, subjects: list[str], whole: list[str], *, fit: bool) -> sp.csr_matrix:
        c = self.config
        if fit:
            self._full = CharNgramTfidf(c.full_ngrams, _min_df(c.full_min_df, len(whole)))
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
        self.offsets_, self.temperature_ = self._calibrate(x, y)
        self._linear = fit_nbsvm(x, y, len(self.classes_), self.config)
        return self

    def _calibrate(self, x: sp.csr_matrix, y: np.ndarray) -> tuple[np.ndarray, float]:
        """Out-of-fold scores (3 folds, twice with different splits, on the already built
        features: a small leak of the vocabulary, harmless for offsets and a temperature) →
        per-class offsets, then the softmax temperature of the offset scores. Two splits
        give every message two out-of-fold scores and steadier offsets (cross-validated
        macro-F1 +0.001 over one split, docs/intelligence.md)."""
        k = len(self.classes_)
        folds = min(3, int(np.bincount(y, minlength=k).min()))
        if folds < 2:
            return np.zeros(k), 1.0
        scores: list[np.ndarray] = []
        for seed in range(CALIBRATION_SPLITS):
            oof = np.zeros((len(y), k))
            splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
            for train, test in splitter.split(x, y):
                oof[test] = fit_nbsvm(x[train], y[train], k, self.config).scores(x[test])
            scores.append(oof)
        stacked, truth = np.vstack(scores), np.tile(y, CALIBRATION_SPLITS)
        offsets = fit_offsets(stacked, truth) if self.config.tune_offsets else np.zeros(k)
        return offsets, _fit_temperature(stacked + offsets, truth)

    # -- prediction

    def decision_scores(
        self, rows: Sequence[Sequence[str]], *, normalised: bool = False
    ) -> np.ndarray:
        """Per-class scores (offsets included), one row per message (`prepare`)."""
        subjects, whole = prepare(rows, normalised=normalised)
        x = self._features(subjects, whole, fit=False)
        linear: LinearScores | None = getattr(self, "_linear", None)
        if linear is not None:
            scores = linear.scores(x)
            scores += self.offsets_
            return scores
        assert self._svc is not None, "the pipeline is not fitted"
        return self._legacy_scores(self._svc, x)

    def _legacy_scores(self, svc: LinearSVC, x: sp.csr_matrix) -> np.ndarray:
        raw = np.asarray(svc.decision_function(x))
        if raw.ndim == 1:  # two classes: one score for the second class
            raw = np.column_stack([-raw, raw])
        out = np.full((x.shape[0], len(self.classes_)), -10.0)
        out[:, svc.classes_] = raw
        return out

    def predict_proba(
        self, rows: Sequence[Sequence[str]], *, normalised: bool = False
    ) -> np.ndarray:
        return _softmax(self.decision_scores(rows, normalised=normalised), self.temperature_)

    def predict(self, rows: Sequence[Sequence[str]]) -> list[str]:
        scores = self.decision_scores(rows)
        return [self.classes_[i] for i in scores.argmax(axis=1)]
