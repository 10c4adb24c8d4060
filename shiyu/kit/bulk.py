"""Bulk inserts as multi-row `INSERT ... VALUES (...), (...)` statements.

Not a plain `executemany`: on SQLite every statement an executemany runs is its own statement,
and FTS5 flushes its pending index data at the end of each one, so a table whose search index
is kept by a trigger (`events`) wrote one tiny index segment per row and spent most of a 12345
import merging them (20,000 rows: 0.83 s as an executemany against 0.13 s as 40 multi-row
statements, in memory).

SQLAlchemy's "insertmanyvalues" does the batching: an INSERT with RETURNING executed with many
parameter sets is sent as multi-row statements of up to 1,000 rows (fewer when the columns
would exceed the database's limit on parameters), from one cached compiled statement. Building
`insert().values([...])` instead compiles every chunk anew, which cost more than it saved.
On PostgreSQL an executemany is sent as one pipeline by psycopg and stays the faster way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Column, Dialect, Table, insert, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) on the session's connection."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        # psycopg sends an executemany as one pipeline: faster than multi-row statements
        conn.execute(insert(table), list(rows))
        return
    key = next(iter(table.primary_key.columns))
    conn.execute(insert(table).returning(key), list(rows)).all()


#: the driver's positional parameter marker, per DB-API paramstyle
_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def bind_processor(session: Session, column: Column[Any]) -> Callable[[Any], Any]:
    """What the column's type makes of a value before the driver gets it (for
    `insert_tuples`), on the session's database."""
    return _bind_processor(column, session.connection().dialect)


@functools.cache
def _bind_processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    # the type as this dialect runs it: a `TypeDecorator`'s own processor would hand its
    # value to the generic type's, and SQLite's driver would then write a datetime its own way
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else _as_is


def result_processor(conn: Connection, column: Column[Any]) -> Callable[[Any], Any]:
    """What the column's type makes of a value the driver returned (for a column read with
    `raw`): applied once per distinct value rather than by SQLAlchemy for every row."""
    return _result_processor(column, conn.dialect)


@functools.cache
def _result_processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    process = column.type.dialect_impl(dialect).result_processor(dialect, None)
    return process if process is not None else _as_is


def raw(column: Column[Any]) -> Any:
    """The column as the driver returns its values (`result_processor` makes them what the
    column's type would)."""
    return type_coerce(column, NullType()).label(column.name)


def _as_is(value: Any) -> Any:
    return value


@functools.cache
def _insert_sql(table: Table, columns: tuple[str, ...], dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    marker = _MARKERS[str(dialect.paramstyle)]
    return (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})"
    )


def insert_tuples(
    session: Session, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert `rows`, tuples of values in the order of `columns` as the driver takes them
    (`bind_processor` made them so): no dict, no parameter processing per row. SQLite runs
    one statement with every row (for a table without a full-text trigger: an executemany
    is a statement per row there, see the module's docstring); PostgreSQL takes them as a
    COPY, which spares the server a statement per row (a batch's 400 band rows: 5 ms as
    an executemany)."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        quote = conn.dialect.identifier_preparer.quote
        sql = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        driver = conn.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    conn.exec_driver_sql(_insert_sql(table, columns, conn.dialect), list(rows))
