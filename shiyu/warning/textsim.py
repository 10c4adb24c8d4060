"""Text similarity for hot issues and repeated appeals: jieba words, TF-IDF weights and the
pairs of messages whose cosine similarity reaches a threshold.

Written with numpy only (no scipy/scikit-learn): the TF-IDF matrix is kept as CSR arrays, and
the similar pairs come from an inverted index. Every pair sharing a word gets that word's
contribution w_i·w_j, and the contributions are summed per pair with `np.bincount` on one
block of rows at a time. The work is Σ df(t)² over the kept words, which the document-frequency
cap (`max_df`) keeps small: for the 4,326 messages of hot.csv it is a few million products."""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import jieba  # type: ignore[import-untyped]
import numpy as np
import numpy.typing as npt

from shiyu.kit import text as kit_text

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# words that say nothing about which problem a message is about (function words, the
# phrases of petition letters and the masked place markers of the data set)
_STOPWORD_TEXT = """
    的 了 是 我 我们 你 您 他 她 他们 在 有 和 与 及 以及 或 或者 也 都 就 还 又 而 但 但是
    因为 所以 如果 这 那 这个 那个 这些 那些 这样 那样 什么 怎么 怎么办 为什么 如何 是否 能否
    可以 能 会 要 想 应该 已经 没有 不 没 很 非常 一直 一个 一些 现在 目前 今天 今年 去年 时候
    对 对于 关于 由于 通过 根据 按照 进行 给 让 把 被 从 向 到 为 于 以 之 其 等 等等 个 些
    请 请问 希望 恳请 麻烦 谢谢 感谢 您好 你好 尊敬 领导 书记 市长 局长 政府 部门 相关 有关
    问题 情况 反映 投诉 咨询 建议 要求 解决 处理 回复 答复 留言 举报 诉求 尽快 及时 予以
    西地省 市 区 县 省
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[\u3400-\u9fff]{2,}|[a-z][a-z0-9]+|[0-9]+[a-z]+[0-9a-z]*|[0-9]{2,}")
#: masked place names of the data set (A市, A3区, K9县) are places, not topic words
_MASKED_PLACE = re.compile(r"^[a-z][0-9]+$")

#: the document-frequency cap never drops a word found in this many documents or fewer
MIN_DF_CAP = 20

_tokenizer: jieba.Tokenizer | None = None
_lock = threading.Lock()


def _jieba() -> jieba.Tokenizer:
    """One dictionary per process (about 1 s to load); later calls reuse it."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _tokenizer = tokenizer
    return _tokenizer


def words(text: str) -> list[str]:
    """Content words of a message: normalised (Traditional → Simplified, half-width), cut by
    jieba in precise mode without HMM (new words from HMM are mostly noise here), lower-cased,
    without stop words, one-character words, punctuation and masked place codes."""
    normal = kit_text.normalise(text).lower()
    out: list[str] = []
    for token in _jieba().cut(normal, HMM=False):
        for piece in _WORD.findall(token):
            if piece in STOPWORDS or _MASKED_PLACE.match(piece):
                continue
            out.append(piece)
    return out


@dataclass(frozen=True)
class Tfidf:
    """Rows of l2-normalised TF-IDF weights in CSR form (`indptr`, `indices`, `data`) and the
    same matrix by column (`col_ptr`, `col_rows`, `col_data`) for the inverted index."""

    n_rows: int
    vocabulary: dict[str, int]
    indptr: IntArray
    indices: IntArray
    data: FloatArray
    col_ptr: IntArray
    col_rows: IntArray
    col_data: FloatArray
    #: per row, the squared weight of the words not stored (1 − Σ stored²): part of its norm
    residual: FloatArray

    def row(self, i: int) -> tuple[IntArray, FloatArray]:
        a, b = int(self.indptr[i]), int(self.indptr[i + 1])
        return self.indices[a:b], self.data[a:b]

    def dense_rows(self, rows: Sequence[int]) -> FloatArray:
        """The given rows as a dense (len(rows), vocabulary) array (small groups only)."""
        out = np.zeros((len(rows), len(self.vocabulary)))
        for k, i in enumerate(rows):
            cols, vals = self.row(i)
            out[k, cols] = vals
        return out


def tfidf(documents: Sequence[Sequence[str]], *, min_df: int = 2, max_df: float = 0.05) -> Tfidf:
    """Sublinear TF (1 + ln tf) × smoothed IDF (ln((1+n)/(1+df)) + 1), rows l2-normalised.

    Words in fewer than `min_df` documents cannot link two messages, and words in more than
    `max_df` of them (a share) say little and cost Σ df² pairs, so neither is stored. Both still
    count in each row's norm: a message whose own words are unique is not reduced to the few
    common words it shares with others (which would make it look like them)."""
    n = len(documents)
    counts: dict[str, int] = {}
    for doc in documents:
        for word in set(doc):
            counts[word] = counts.get(word, 0) + 1
    # in a small set the cap would drop the very words a cluster shares (and costs nothing)
    cap = max(min_df, int(max_df * n), MIN_DF_CAP)
    kept = sorted(w for w, df in counts.items() if min_df <= df <= cap)
    vocabulary = {w: k for k, w in enumerate(kept)}
    log_n = math.log(1 + n)
    residual = np.zeros(n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    indices: list[int] = []
    data: list[float] = []
    for i, doc in enumerate(documents):
        tf: dict[str, int] = {}
        for word in doc:
            tf[word] = tf.get(word, 0) + 1
        weights = {
            w: (1.0 + math.log(c)) * (log_n - math.log(1 + counts[w]) + 1.0) for w, c in tf.items()
        }
        norm = math.sqrt(sum(v * v for v in weights.values()))
        cols = sorted((vocabulary[w], v) for w, v in weights.items() if w in vocabulary)
        indices.extend(c for c, _ in cols)
        data.extend(v / norm for _, v in cols)
        indptr[i + 1] = len(indices)
        residual[i] = max(0.0, 1.0 - sum((v / norm) ** 2 for _, v in cols)) if norm else 0.0
    return _with_columns(n, vocabulary, indptr, indices, data, len(vocabulary), residual)


def from_rows(
    rows: Sequence[dict[int, float]], residuals: Sequence[float], n_columns: int
) -> Tfidf:
    """A matrix of sparse rows ({column: weight}) such as centroids, each l2-normalised over
    its stored weights plus `residuals` (the squared weight of words not stored)."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indices: list[int] = []
    data: list[float] = []
    residual = np.zeros(len(rows))
    for i, (row, hidden) in enumerate(zip(rows, residuals, strict=True)):
        cols = sorted(row)
        squared = sum(row[c] ** 2 for c in cols) + hidden
        norm = math.sqrt(squared) if squared > 0 else 1.0
        indices.extend(cols)
        data.extend(row[c] / norm for c in cols)
        indptr[i + 1] = len(indices)
        residual[i] = hidden / (norm * norm)
    return _with_columns(len(rows), {}, indptr, indices, data, n_columns, residual)


def _with_columns(
    n: int,
    vocabulary: dict[str, int],
    indptr: IntArray,
    indices: list[int],
    data: list[float],
    n_columns: int,
    residual: FloatArray,
) -> Tfidf:
    ind = np.array(indices, dtype=np.int64)
    dat = np.array(data, dtype=np.float64)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    order = np.argsort(ind, kind="stable")
    col_ptr = np.zeros(n_columns + 1, dtype=np.int64)
    np.cumsum(np.bincount(ind, minlength=n_columns), out=col_ptr[1:])
    return Tfidf(n, vocabulary, indptr, ind, dat, col_ptr, rows[order], dat[order], residual)


def similar_pairs(
    matrix: Tfidf, *, threshold: float, block_cells: int = 5_000_000
) -> tuple[IntArray, IntArray, FloatArray]:
    """Every ordered pair (i, j), i ≠ j, with cosine(i, j) ≥ threshold, as three arrays.

    Rows are processed in blocks so that the per-block accumulator (rows × n floats) stays
    within `block_cells` cells."""
    n = matrix.n_rows
    if n == 0 or matrix.indices.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    df = np.diff(matrix.col_ptr)
    block = max(1, min(n, block_cells // max(n, 1)))
    out_i: list[IntArray] = []
    out_j: list[IntArray] = []
    out_s: list[FloatArray] = []
    for start in range(0, n, block):
        stop = min(n, start + block)
        lo, hi = int(matrix.indptr[start]), int(matrix.indptr[stop])
        terms = matrix.indices[lo:hi]
        weights = matrix.data[lo:hi]
        rows = np.repeat(
            np.arange(start, stop, dtype=np.int64), np.diff(matrix.indptr[start : stop + 1])
        )
        lengths = df[terms]
        total = int(lengths.sum())
        if total == 0:
            continue
        # positions of every posting of every word of the block's rows, without a Python loop
        first = np.repeat(matrix.col_ptr[terms] - np.cumsum(lengths) + lengths, lengths)
        positions = first + np.arange(total, dtype=np.int64)
        partners = matrix.col_rows[positions]
        products = np.repeat(weights, lengths) * matrix.col_data[positions]
        keys = (np.repeat(rows, lengths) - start) * n + partners
        sums = np.bincount(keys, weights=products, minlength=(stop - start) * n)
        hits = np.flatnonzero(sums >= threshold - 1e-12)
        i = hits // n + start
        j = hits % n
        keep = i != j
        out_i.append(i[keep])
        out_j.append(j[keep])
        out_s.append(np.minimum(sums[hits][keep], 1.0))
    if not out_i:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_s)


@dataclass(frozen=True)
class Bigrams:
    """Character-bigram counts of a text and their norm: a corpus-free similarity for comparing
    a handful of messages (repeated appeals), robust to jieba cutting two spellings apart."""

    grams: dict[str, int]
    norm: float

    @classmethod
    def of(cls, text: str) -> Bigrams:
        clean = _PUNCT.sub("", kit_text.normalise(text).lower())
        grams: dict[str, int] = {}
        for k in range(len(clean) - 1):
            g = clean[k : k + 2]
            grams[g] = grams.get(g, 0) + 1
        return cls(grams, sum(v * v for v in grams.values()) ** 0.5)

    def cosine(self, other: Bigrams) -> float:
        if not self.norm or not other.norm:
            return 0.0
        small, big = sorted((self.grams, other.grams), key=len)
        dot = sum(v * big.get(g, 0) for g, v in small.items())
        return float(dot / (self.norm * other.norm))


def bigram_cosine(a: str, b: str) -> float:
    return Bigrams.of(a).cosine(Bigrams.of(b))


_PUNCT = re.compile(r"[\W_]+")
