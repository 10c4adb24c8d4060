"""event search: bigrams and the last character of each Chinese run, no longer every character

Revision ID: 0016searchtokens
Revises: 0015residentaddr
Create Date: 2026-12-06 01:00:00

A one-character query now asks for the tokens that begin with it (`shiyu.events.search`), so
the single characters stored until now would still be found; storing the tokens again drops
a third of them from the index, whose upkeep is the largest cost of storing a report.
"""

from __future__ import annotations

from alembic import op

revision = "0016searchtokens"
down_revision = "0015residentaddr"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from shiyu.events.search import IN_EVENTS, retokenise

    retokenise(op.get_bind(), into=IN_EVENTS)


def downgrade() -> None:
    """Every character again: revision 0015's queries ask for one as a whole token."""
    from shiyu.events.search import IN_EVENTS, retokenise

    retokenise(op.get_bind(), _with_characters, into=IN_EVENTS)


def _with_characters(*parts: str | None) -> str:
    """Revision 0015's tokens: today's, and every character of the Chinese runs (each is in
    one of their tokens)."""
    from shiyu.events.search import _CJK, document_text

    tokens = dict.fromkeys(document_text(*parts).split())
    for token in list(tokens):
        if _CJK.match(token):
            tokens.update(dict.fromkeys(token))
    return " ".join(tokens)
