"""The token check's per-process cache: changes made here apply at once, changes made
elsewhere within `auth_cache_seconds`, and a newer token is never refused on the cache's word.
On a database whose commits are real, as in production."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from shiyu.auth import security
from shiyu.auth import service as auth
from shiyu.auth.models import User
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.errors import Unauthorized
from shiyu.kit import watch
from tests.conftest import make_settings
from tests.factories.world import World
from tests.helpers import committed_world

TTL = 0.5


@pytest.fixture
def setup(fresh_database: str) -> Iterator[tuple[Database, Settings, World]]:
    world = committed_world(fresh_database)
    settings = make_settings(fresh_database, auth_cache_seconds=TTL)
    db = Database(settings)
    watch.clear_all()
    yield db, settings, world
    watch.clear_all()
    db.dispose()


def _token(settings: Settings, user_id: int, version: int) -> str:
    token, _ = security.create_token(
        user_id=user_id, token_version=version, secret=settings.secret_key, minutes=5
    )
    return token


def _check(db: Database, settings: Settings, token: str) -> int:
    return auth.actor_from_token(lambda: db.session(write=False), settings, token=token).user_id


def _update_behind_the_orm(db: Database, user_id: int, **values: object) -> None:
    """A change as another process (or a statement that bypasses the ORM) makes it."""
    with db.transaction() as session:
        session.execute(update(User).where(User.id == user_id).values(**values))


def test_a_change_through_this_process_applies_at_once(
    setup: tuple[Database, Settings, World],
) -> None:
    db, settings, world = setup
    uid = world.users["grid_worker"].id
    token = _token(settings, uid, 0)
    assert _check(db, settings, token) == uid  # cached now
    with db.transaction() as session:
        user = session.get(User, uid)
        assert user is not None
        user.token_version += 1  # what logout does
    with pytest.raises(Unauthorized):
        _check(db, settings, token)


def test_a_change_elsewhere_applies_within_the_delay(
    setup: tuple[Database, Settings, World],
) -> None:
    db, settings, world = setup
    uid = world.users["grid_worker"].id
    token = _token(settings, uid, 0)
    assert _check(db, settings, token) == uid
    _update_behind_the_orm(db, uid, is_active=False)
    watch_missed = _check(db, settings, token)  # still the cached row
    time.sleep(TTL + 0.1)
    with pytest.raises(Unauthorized):
        _check(db, settings, token)
    assert watch_missed == uid


def test_a_newer_token_reads_the_database_again(
    setup: tuple[Database, Settings, World],
) -> None:
    db, settings, world = setup
    uid = world.users["grid_worker"].id
    assert _check(db, settings, _token(settings, uid, 0)) == uid  # version 0 cached
    # signed out and in again through another process: version 1 in the database
    _update_behind_the_orm(db, uid, token_version=1)
    assert _check(db, settings, _token(settings, uid, 1)) == uid
    with pytest.raises(Unauthorized):
        _check(db, settings, _token(settings, uid, 0))  # and the old one is refused now


def test_zero_disables_the_cache(setup: tuple[Database, Settings, World]) -> None:
    db, settings, world = setup
    uncached = settings.model_copy(update={"auth_cache_seconds": 0.0})
    uid = world.users["grid_worker"].id
    token = _token(uncached, uid, 0)
    assert _check(db, uncached, token) == uid
    _update_behind_the_orm(db, uid, is_active=False)
    with pytest.raises(Unauthorized):
        _check(db, uncached, token)


def test_requests_that_miss_the_expired_entry_together_read_the_database_once(
    setup: tuple[Database, Settings, World],
) -> None:
    db, settings, world = setup
    uid = world.users["grid_worker"].id
    token = _token(settings, uid, 0)
    opened: list[int] = []
    start = threading.Barrier(20)

    def open_session() -> Session:
        opened.append(1)
        time.sleep(0.05)  # a slow read: the others arrive while it runs
        return db.session(write=False)

    def check() -> int:
        start.wait()
        return auth.actor_from_token(open_session, settings, token=token).user_id

    with ThreadPoolExecutor(20) as pool:
        users = list(pool.map(lambda _: check(), range(20)))
    assert users == [uid] * 20
    assert len(opened) == 1
