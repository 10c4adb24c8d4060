"""Chinese full-text search: character and bigram tokens stored in `events.search_text`.

Neither SQLite's FTS5 nor PostgreSQL's text search segments Chinese, so the application does
it: every event stores its title, description and address as a space-separated list of
tokens, and both databases only split that list on spaces (FTS5 `unicode61`, PostgreSQL
`to_tsvector('simple', ...)`). A query goes through the same normalisation; its terms must all
be present (AND).

- Runs of Chinese are indexed as their characters and overlapping bigrams (人行道 → 人, 行,
  道, 人行, 行道), as CJK analyzers in search engines do; runs of ASCII letters or digits stay
  whole. A query of two or more Chinese characters asks for all its bigrams, a one-character
  query for the character, so every text that contains the query as written is found, with
  no dependence on how a word segmenter would cut the phrase in the document.
- This replaced jieba word segmentation (0.7–4 ms a row, which capped bulk imports), and costs
  tens of microseconds a row.
- Text is NFKC-normalised (full-width letters and digits become half-width) and lower-cased;
  Traditional characters are converted before, by `kit.text.normalise`, on the way in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# runs of ASCII letters/digits, or of other letters (Chinese); punctuation and spaces drop out,
# and mixed tokens such as "5号楼" are split the same way for documents and queries
_PIECE = re.compile(r"[0-9a-z]+|[^\W\d_a-z]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: a query may not ask for more words than this (each adds a condition to the search)
MAX_QUERY_TERMS = 16


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _grams(piece: str) -> list[str]:
    """A run of Chinese gives its characters and bigrams; anything else stays whole."""
    if not _CJK.match(piece):
        return [piece]
    return [*piece, *(piece[i : i + 2] for i in range(len(piece) - 1))]


def document_text(*parts: str | None) -> str:
    """The value of `events.search_text` for the given fields (tokens separated by spaces)."""
    text = normalise(" ".join(p for p in parts if p))
    tokens: dict[str, None] = {}
    for piece in _PIECE.findall(text):
        tokens.update(dict.fromkeys(_grams(piece)))
    return " ".join(tokens)


def query_terms(query: str) -> list[str]:
    """The terms a query asks for, in order, without duplicates (at most MAX_QUERY_TERMS):
    the bigrams of each Chinese run (its character if it is one long) and each other run."""
    terms: dict[str, None] = {}
    for piece in _PIECE.findall(normalise(query)):
        if _CJK.match(piece) and len(piece) > 1:
            terms.update(dict.fromkeys(piece[i : i + 2] for i in range(len(piece) - 1)))
        else:
            terms.setdefault(piece)
    return list(terms)[:MAX_QUERY_TERMS]


def fts5_match(terms: Iterable[str]) -> str:
    """An FTS5 MATCH expression requiring every term; each term is a quoted string, so FTS5
    operators typed by users (AND, NOT, *, column filters) are plain text."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)
