"""Dependencies shared by every router: the request's database session and settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from shiyu.config import Settings
from shiyu.db import Database
from shiyu.errors import ShiyuError
from shiyu.group_commit import GroupCommitter
from shiyu.writer_process import WriterProcess

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def request_settings(request: Request) -> Settings:
    """The settings of the application serving this request."""
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def intake_writer(request: Request) -> GroupCommitter | WriterProcess:
    """The process's group-commit writer for reports (`shiyu.group_commit`). Async: a plain
    function dependency costs a worker thread's round trip on every report."""
    writer: GroupCommitter | WriterProcess = request.app.state.intake_writer
    return writer


def get_session(request: Request) -> Iterator[Session]:
    """The request owns the transaction: commit when the handler returns, roll back on error
    (unless the error asks to keep what was done, such as a recorded login failure)."""
    db = get_database(request)
    with db.session(write=request.method not in _READ_METHODS) as session:
        try:
            yield session
        except ShiyuError as exc:
            if exc.persist:
                session.commit()
            else:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
        else:
            session.commit()
    _audit_personal_data_views(db)


def _audit_personal_data_views(db: Database) -> None:
    """One `personal_data.view` audit record for a request that showed unmasked personal
    data, in its own short write transaction (the request's may have been read-only)."""
    from shiyu.privacy import views  # late: privacy -> audit -> auth.access -> this module

    log = views.pending()
    if log is None:
        return
    with db.transaction() as session:
        views.flush(session, log)


IntakeWriterDep = Annotated[GroupCommitter | WriterProcess, Depends(intake_writer)]

# scope="function": commit before the response is sent, so a client that got 201 can read it.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
