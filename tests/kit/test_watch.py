"""Per-process caches of rarely changed rows (`shiyu.kit.watch`): cleared by this process's
commits that change the watched rows, bypassed by a transaction that changed them and has not
committed, and expired after their time to live. On a database whose commits are real."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shiyu.db import Database
from shiyu.events.models import Category
from shiyu.kit.watch import WatchedCache
from tests.conftest import make_settings


@pytest.fixture
def db(fresh_database: str) -> Iterator[Database]:
    database = Database(make_settings(fresh_database))
    with database.transaction() as session:
        session.add(Category(code="T01", name="测试类", kind="event"))
    yield database
    database.dispose()


def _name(cache: WatchedCache[str, str | None], session: Session) -> str | None:
    return cache.get_or_load(
        session, "T01", lambda: session.scalar(select(Category.name).where(Category.code == "T01"))
    )


def test_a_commit_here_clears_the_cache(db: Database) -> None:
    cache: WatchedCache[str, str | None] = WatchedCache("t1", (Category,), ttl=60)
    with db.session() as session:
        assert _name(cache, session) == "测试类"
    with db.transaction() as session:
        category = session.get(Category, "T01")
        assert category is not None
        category.name = "改名"
    with db.session() as session:
        assert _name(cache, session) == "改名"


def test_a_rollback_forgets_what_the_transaction_saw(db: Database) -> None:
    cache: WatchedCache[str, str | None] = WatchedCache("t2", (Category,), ttl=60)
    with db.session() as session:
        category = session.get(Category, "T01")
        assert category is not None
        category.name = "未提交"
        session.flush()
        assert _name(cache, session) == "未提交"  # its own write, not cached
        session.rollback()
    with db.session() as session:
        assert _name(cache, session) == "测试类"


def test_pending_changes_are_read_before_they_are_flushed(db: Database) -> None:
    cache: WatchedCache[str, str | None] = WatchedCache("t3", (Category,), ttl=60)
    with db.session() as session:
        assert _name(cache, session) == "测试类"  # cached
        category = session.get(Category, "T01")
        assert category is not None
        category.name = "待写入"
        assert _name(cache, session) == "待写入"
        session.rollback()


def test_changes_elsewhere_show_after_the_time_to_live(db: Database) -> None:
    cache: WatchedCache[str, str | None] = WatchedCache("t4", (Category,), ttl=0.3)
    with db.session() as session:
        assert _name(cache, session) == "测试类"
    # another process (or a Core statement the ORM does not see)
    with db.transaction() as session:
        session.execute(update(Category).where(Category.code == "T01").values(name="别处改"))
    with db.session() as session:
        assert _name(cache, session) == "测试类"
    time.sleep(0.35)
    with db.session() as session:
        assert _name(cache, session) == "别处改"


def test_a_pending_deletion_is_read_before_it_is_flushed(db: Database) -> None:
    cache: WatchedCache[str, str | None] = WatchedCache("t5", (Category,), ttl=60)
    with db.session() as session:
        assert _name(cache, session) == "测试类"  # cached
        category = session.get(Category, "T01")
        assert category is not None
        session.delete(category)
        assert cache.changed_in(session)
        session.flush()
        assert _name(cache, session) is None
        session.rollback()
    with db.session() as session:
        assert not cache.changed_in(session)
        assert _name(cache, session) == "测试类"
