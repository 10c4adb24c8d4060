"""Chinese full-text search: jieba tokens stored in `events.search_text`.

Neither SQLite's FTS5 nor PostgreSQL's text search segments Chinese, so the application does
it: every event stores its title, description and address as a space-separated list of jieba
tokens, and both databases only split that list on spaces (FTS5 `unicode61`, PostgreSQL
`to_tsvector('simple', ...)`). A query goes through the same normalisation; its words must all
be present (AND).

- Documents are cut with `jieba.cut_for_search`, which emits every precise-mode word plus the
  dictionary words inside it (人行道 → 人行, 行道, 人行道), and every Chinese character on its
  own, so a one-character query (路) still finds 解放路.
- Queries are cut in precise mode: each precise word of the query is then among a document's
  tokens whenever jieba segments that phrase the same way in the document.
- Text is NFKC-normalised (full-width letters and digits become half-width) and lower-cased.
  Traditional characters are not converted (opencc is not installed yet).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable

import jieba  # type: ignore[import-untyped]

# runs of ASCII letters/digits, or of other letters (Chinese); punctuation and spaces drop out,
# and mixed tokens such as "5号楼" are split the same way for documents and queries
_PIECE = re.compile(r"[0-9a-z]+|[^\W\d_a-z]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: a query may not ask for more words than this (each adds a condition to the search)
MAX_QUERY_TERMS = 16

_tokenizer: jieba.Tokenizer | None = None
_lock = threading.Lock()


def _jieba() -> jieba.Tokenizer:
    """Loads the dictionary once per process (about 1 s); later calls reuse it."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _tokenizer = tokenizer
    return _tokenizer


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _pieces(words: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for word in words:
        for piece in _PIECE.findall(word):
            seen.setdefault(piece)
    return list(seen)


def document_text(*parts: str | None) -> str:
    """The value of `events.search_text` for the given fields (tokens separated by spaces)."""
    text = normalise(" ".join(p for p in parts if p))
    words = list(_jieba().cut_for_search(text))
    tokens = _pieces(words)
    chars = dict.fromkeys(_CJK.findall(text))
    return " ".join([*tokens, *(c for c in chars if c not in tokens)])


def query_terms(query: str) -> list[str]:
    """The words a query asks for, in order, without duplicates (at most MAX_QUERY_TERMS)."""
    return _pieces(_jieba().cut(normalise(query)))[:MAX_QUERY_TERMS]


def fts5_match(terms: Iterable[str]) -> str:
    """An FTS5 MATCH expression requiring every term; each term is a quoted string, so FTS5
    operators typed by users (AND, NOT, *, column filters) are plain text."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)
