from __future__ import annotations

from typing import Literal

from alembic import context
from sqlalchemy import Connection

from shiyu.db import Base, make_engine
from shiyu.kit.types import UTCDateTime
from shiyu.models import load_all

load_all()
config = context.config
target_metadata = Base.metadata


def _include(obj: object, name: str | None, type_: str, *_: object) -> bool:
    # dialect-specific objects live in migrations, not in the models: PostgreSQL
    # varchar_pattern_ops and GIN search indexes, SQLite's FTS5 tables
    if name is None:
        return True
    if type_ == "index" and (name.endswith("_prefix") or name == "ix_event_search_document"):
        return False
    return not (type_ == "table" and name.startswith("event_search_fts"))


def _render_item(type_: str, obj: object, autogen_context: object) -> str | Literal[False]:
    # our column types render as their plain SQLAlchemy equivalents in migrations
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
