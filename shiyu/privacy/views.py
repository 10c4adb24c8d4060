"""Every view of unmasked personal data is itself audited: one `personal_data.view` record
per request (not per field or row), naming the records whose data was shown.

The services decide masking (events.service.to_read) and call `note()` when they return an
unmasked value; the request's session dependency writes the record after the request's own
transaction (`flush()`), so a read-only request stays read-only until then. Outside a request
(CLI, jobs) nothing is collected.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.auth.access import Actor

ACTION = "personal_data.view"
#: object ids listed in one record; the count is always complete
MAX_LISTED = 500


@dataclass
class ViewLog:
    method: str
    path: str
    actor: Actor | None = None
    object_type: str = ""
    #: object id -> scope path, in the order first shown
    objects: dict[str, str] = field(default_factory=dict)
    fields: set[str] = field(default_factory=set)


_current: ContextVar[ViewLog | None] = ContextVar("personal_data_views", default=None)


def begin(method: str, path: str) -> Token[ViewLog | None]:
    """Start collecting for one request (the ASGI middleware, in the request's own context,
    so that handler threads share the same log)."""
    return _current.set(ViewLog(method=method, path=path))


def end(token: Token[ViewLog | None]) -> None:
    _current.reset(token)


def note(
    actor: Actor | None, object_type: str, object_id: str, scope_path: str, fields: list[str]
) -> None:
    """Remember that `fields` of the object were returned unmasked to `actor`."""
    log = _current.get()
    if log is None or actor is None:
        return
    log.actor = log.actor or actor
    log.object_type = log.object_type or object_type
    log.objects.setdefault(object_id, scope_path)
    log.fields.update(fields)


def current() -> ViewLog | None:
    """The request's log (also when nothing was noted yet)."""
    return _current.get()


def pending() -> ViewLog | None:
    log = _current.get()
    return log if log is not None and log.objects else None


def flush(session: Session, log: ViewLog) -> None:
    """Write the request's one audit record (in the caller's transaction) and clear the log."""
    ids = list(log.objects)
    scopes = set(log.objects.values())
    scope = scopes.pop() if len(scopes) == 1 else (log.actor.scope_path if log.actor else "/")
    audit.record(
        session,
        actor=log.actor,
        action=ACTION,
        object_type=log.object_type,
        object_id=ids[0] if len(ids) == 1 else f"{len(ids)} records",
        scope_path=scope,
        extra={
            "request": f"{log.method} {log.path}",
            "count": len(ids),
            "ids": ids[:MAX_LISTED],
            "fields": sorted(log.fields),
        },
    )
    log.objects.clear()
    log.fields.clear()
