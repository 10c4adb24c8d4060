"""Per-process caches of rarely changed rows (users and roles, units, the category
catalogue) that the hot paths read on every request.

A cache is cleared when a transaction of this process that changed one of its watched models
commits, so a change made here applies at once; entries also expire after `ttl` seconds, which
bounds how long a change made by another process (or by a Core statement that bypasses the
ORM) goes unseen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

K = TypeVar("K")
V = TypeVar("V")

_DIRTY_KEY = "shiyu_watched_caches"
#: caches whose watched objects were added to the session and not flushed yet
_ADDED_KEY = "shiyu_watched_added"


class WatchedCache(Generic[K, V]):
    def __init__(
        self, name: str, watched: tuple[type, ...], *, ttl: float, max_entries: int = 50_000
    ) -> None:
        self.name = name
        self.watched = watched
        self.ttl = ttl
        self.max_entries = max_entries
        self._rows: dict[K, tuple[float, V]] = {}
        self._watches = _Watches(watched)
        self._lock = threading.Lock()
        _REGISTRY.append(self)

    def get(self, key: K, *, ttl: float | None = None) -> V | None:
        entry = self._rows.get(key)
        limit = self.ttl if ttl is None else ttl
        if entry is None or time.monotonic() - entry[0] >= limit:
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            if len(self._rows) >= self.max_entries:
                self._rows.clear()
            self._rows[key] = (time.monotonic(), value)

    def get_or_load(self, session: Session, key: K, load: Callable[[], V]) -> V:
        """The cached value, or `load()` remembered (None values included). A session that
        has changed watched rows and not committed yet reads its own writes: `load()`,
        neither cached nor from the cache."""
        if self.changed_in(session):
            return load()
        entry = self._rows.get(key)
        if entry is not None and time.monotonic() - entry[0] < self.ttl:
            return entry[1]
        value = load()
        if self.ttl > 0:
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()

    def changed_in(self, session: Session) -> bool:
        """The session changed watched rows and has not committed: `get_or_load` loads (a
        cache of a whole table may rather read the one row it needs)."""
        if id(self) in session.info.get(_DIRTY_KEY, ()):
            return True  # flushed, not committed
        if id(self) in session.info.get(_ADDED_KEY, ()):
            return True  # added, not flushed yet
        # changed or deleted and not flushed yet: only the objects changed since the last
        # flush are looked at (`session.dirty` would test every object the session holds,
        # and a batch of reports asks a dozen times per report), by their class (a set
        # look-up, not the object's weak reference and `isinstance`: 5 % of the intake
        # writer's time was spent here)
        watches = self._watches
        return any(
            watches[state.class_]
            for states in (session._dirty_states, session._deleted)
            for state in states
        )


class _Watches(dict[type, bool]):
    """Mapped class → whether its objects are watched (subclasses included), learnt as met."""

    def __init__(self, watched: tuple[type, ...]) -> None:
        super().__init__()
        self.watched = watched

    def __missing__(self, cls: type) -> bool:
        watched = self[cls] = issubclass(cls, self.watched)
        return watched


_REGISTRY: list[WatchedCache[Any, Any]] = []


def clear_all() -> None:
    for cache in _REGISTRY:
        cache.clear()


@event.listens_for(Session, "transient_to_pending")
def _note_added(session: Session, instance: Any) -> None:
    hit = {id(c) for c in _REGISTRY if isinstance(instance, c.watched)}
    if hit:
        session.info.setdefault(_ADDED_KEY, set()).update(hit)


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if not changed:
        return
    hit = {id(c) for c in _REGISTRY if any(isinstance(obj, c.watched) for obj in changed)}
    if hit:
        session.info.setdefault(_DIRTY_KEY, set()).update(hit)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _clear_changed(session: Session) -> None:
    """After a commit the cached rows may be old; after a rollback they may hold what the
    transaction wrote and undid (a cache filled while it ran saw its own changes)."""
    session.info.pop(_ADDED_KEY, None)
    hit = session.info.pop(_DIRTY_KEY, None)
    if hit:
        for cache in _REGISTRY:
            if id(cache) in hit:
                cache.clear()
