"""A short-lived per-process cache of what a token check reads (the user, their unit and
roles), so that a busy process does not open a database session for every request.

- A change made through this process (logout, password change, roles, deactivation, units)
  clears the cache when its transaction commits, so it takes effect at once here.
- A change made by another process takes effect here within `auth_cache_seconds`, except
  that a token newer than the cached row (signed in again after a sign-out elsewhere) is never
  refused on the cache's word: a version mismatch reads the database again.
"""

from __future__ import annotations

from shiyu.auth.models import Role, User
from shiyu.auth.repository import ActorRow
from shiyu.jurisdiction.models import Jurisdiction
from shiyu.kit.watch import WatchedCache

#: one per process; the time to live is the caller's (`Settings.auth_cache_seconds`)
cache: WatchedCache[int, ActorRow] = WatchedCache("actors", (User, Role, Jurisdiction), ttl=0.0)
