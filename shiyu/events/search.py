"""Chinese full-text search: bigram tokens stored in `event_search.document`.

Neither SQLite's FTS5 nor PostgreSQL's text search segments Chinese, so the application does
it: every event stores its title, description and address as a space-separated list of
tokens, and both databases only split that list on spaces (FTS5's `ascii` tokenizer,
PostgreSQL `to_tsvector('simple', ...)`). A query goes through the same normalisation; its
terms must all be present (AND).

- Runs of Chinese are indexed as their overlapping bigrams and their last character (人行道 →
  人行, 行道, 道), as CJK analyzers in search engines do; runs of ASCII letters or digits stay
  whole. A query of two or more Chinese characters asks for all its bigrams. A one-character
  query is a prefix term: every occurrence of a character starts a bigram or ends its run, so
  the tokens beginning with it find exactly the texts that contain it. Every text that
  contains the query as written is found, with no dependence on how a word segmenter would cut
  the phrase in the document.
- Indexing every character as well (as until revision 0016) made a third more tokens, and the
  index's upkeep is the largest single cost of storing a report.
- This replaced jieba word segmentation (0.7–4 ms a row, which capped bulk imports), and costs
  tens of microseconds a row.
- Documents and queries alike go through `kit.text.normalise` (Traditional → Simplified, as
  the stored text) and NFKC (full-width letters and digits become half-width), lower-cased:
  a query typed in Traditional characters finds the report typed in Simplified, and the other
  way round.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shiyu.kit import text as kit_text

# runs of ASCII letters/digits, or of other letters (Chinese); punctuation and spaces drop out,
# and mixed tokens such as "5号楼" are split the same way for documents and queries
_PIECE = re.compile(r"[0-9a-z]+|[^\W\d_a-z]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: a query may not ask for more words than this (each adds a condition to the search)
MAX_QUERY_TERMS = 16
_RETOKENISE_BATCH = 2000


def _separator_only(char: str) -> bool:
    """NFKC makes the character ASCII punctuation or spaces, which split tokens and are none
    (Chinese full-width punctuation: ，→ , ）→ ) ：→ :)."""
    folded = unicodedata.normalize("NFKC", char)
    return folded != char and folded.isascii() and _PIECE.search(folded.lower()) is None


#: characters NFKC turns into token separators (CJK and full-width forms, general punctuation)
_SEPARATORS = re.compile(
    "["
    + "".join(
        re.escape(chr(code))
        for lo, hi in ((0x2000, 0x206F), (0x3000, 0x303F), (0xFE30, 0xFE6F), (0xFF00, 0xFFEF))
        for code in range(lo, hi + 1)
        if _separator_only(chr(code))
    )
    + "]"
)


def normalise(text: str, *, normalised: bool = False) -> str:
    """`normalised`: the text went through `kit.text.normalise` already (it is idempotent).

    NFKC is run only on text it would change beyond punctuation: the full-width punctuation
    of nearly every Chinese text (，：（）) is first made a space, which splits tokens as the
    ASCII mark NFKC makes of it does, and most texts are then in NFKC already (a quick check
    in C); NFKC itself cost a third of a report's tokenising."""
    text = text if normalised else kit_text.normalise(text)
    if "Σ" not in text:  # lower-casing it looks at its neighbours, punctuation included
        text = _SEPARATORS.sub(" ", text)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.lower()


def document_text(*parts: str | None, normalised: bool = False) -> str:
    """The value of `event_search.document` for the given fields (tokens separated by
    spaces): each token once, in order of first appearance. `normalised`: the fields are an
    event's stored text (`events.service.stored_text`), not normalised again."""
    text = normalise(" ".join(p for p in parts if p), normalised=normalised)
    # every token in order, then each once (intake tokenises every report: the loop does as
    # little as it can per run, the rest runs in C)
    tokens: list[str] = []
    for piece in _PIECE.findall(text):
        if _is_cjk(piece[0]):
            # a run of Chinese: its bigrams (paired by `map`) and its last character
            tokens.extend(map(operator.add, piece, piece[1:]))
            tokens.append(piece[-1])
        else:
            tokens.append(piece)
    return " ".join(dict.fromkeys(tokens))


def _is_cjk(char: str) -> bool:
    """`_CJK`'s ranges, without a regular expression call."""
    return (
        "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" or "\uf900" <= char <= "\ufaff"
    )


def query_terms(query: str) -> list[str]:
    """The terms a query asks for, in order, without duplicates (at most MAX_QUERY_TERMS):
    the bigrams of each Chinese run (its character if it is one long: see `is_prefix`) and
    each other run."""
    terms: dict[str, None] = {}
    for piece in _PIECE.findall(normalise(query)):
        if _CJK.match(piece) and len(piece) > 1:
            terms.update(dict.fromkeys(piece[i : i + 2] for i in range(len(piece) - 1)))
        else:
            terms.setdefault(piece)
    return list(terms)[:MAX_QUERY_TERMS]


def is_prefix(term: str) -> bool:
    """A single Chinese character matches the tokens that begin with it (module docstring)."""
    return len(term) == 1 and _CJK.match(term) is not None


def fts5_match(terms: Iterable[str]) -> str:
    """An FTS5 MATCH expression requiring every term; each term is a quoted string, so FTS5
    operators typed by users (AND, NOT, *, column filters) are plain text. Each term is one
    token (`query_terms`): the index keeps no positions (revision 0019searchrowids), so FTS5
    would refuse a phrase of two."""
    return " ".join(
        '"' + term.replace('"', '""') + '"' + ("*" if is_prefix(term) else "") for term in terms
    )


def tsquery(terms: Iterable[str]) -> str:
    """A PostgreSQL `to_tsquery` text requiring every term, each a quoted lexeme (so the
    operators & | ! ( ) : typed by users are plain text)."""
    return " & ".join(
        "'"
        + term.replace("\\", "\\\\").replace("'", "''")
        + "'"
        + (":*" if is_prefix(term) else "")
        for term in terms
    )


@dataclass(frozen=True)
class Documents:
    """Where the documents are stored: table, its event id column, its document column."""

    table: str
    event_id: str
    document: str


#: since revision 0018eventsearch
IN_EVENT_SEARCH = Documents("event_search", "event_id", "document")
#: revisions 0007search to 0017statusindex kept them in the events' own rows
IN_EVENTS = Documents("events", "id", "search_text")


def retokenise(
    conn: Connection,
    tokens: Callable[..., str] = document_text,
    *,
    into: Documents = IN_EVENT_SEARCH,
) -> None:
    """Store every event's tokens (`tokens(title, description, address)`) again, for a
    migration that changed them (in batches; on SQLite the update trigger keeps FTS5 in step,
    on PostgreSQL the GIN index is over an expression of the column). `into`: where the
    schema of the migration's revision keeps them."""
    events = sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("description", sa.Text),
        sa.column("address", sa.String),
    )
    target = sa.table(into.table, sa.column(into.event_id, sa.Integer), sa.column(into.document))
    update = (
        target.update()
        .where(target.c[into.event_id] == sa.bindparam("of_event"))
        .values({into.document: sa.bindparam("tokens")})
    )
    after = 0
    while True:
        rows = conn.execute(
            sa.select(events.c.id, events.c.title, events.c.description, events.c.address)
            .where(events.c.id > after)
            .order_by(events.c.id)
            .limit(_RETOKENISE_BATCH)
        ).all()
        if not rows:
            return
        conn.execute(
            update,
            [
                {"of_event": i, "tokens": tokens(title, description, address)}
                for i, title, description, address in rows
            ],
        )
        after = rows[-1][0]
