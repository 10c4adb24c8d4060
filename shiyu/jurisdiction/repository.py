from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, undefer

from shiyu.auth.access import Actor
from shiyu.jurisdiction.models import Jurisdiction
from shiyu.kit.paths import within


def readable_by(actor: Actor) -> Select[Jurisdiction]:
    return select(Jurisdiction).where(within(Jurisdiction.path, actor.scope_path))


def get_readable(session: Session, actor: Actor, code: str) -> Jurisdiction | None:
    return session.scalars(readable_by(actor).where(Jurisdiction.code == code)).first()


def get(session: Session, code: str) -> Jurisdiction | None:
    return session.get(Jurisdiction, code)


def unit_rows(session: Session) -> list[tuple[str, str, str | None, str]]:
    """(code, path, parent code, level) of every unit."""
    rows = session.execute(
        select(Jurisdiction.code, Jurisdiction.path, Jurisdiction.parent_code, Jurisdiction.level)
    )
    return [(code, path, parent, level) for code, path, parent, level in rows]


def get_many(session: Session, codes: Iterable[str]) -> dict[str, Jurisdiction]:
    found: dict[str, Jurisdiction] = {}
    codes = list(dict.fromkeys(codes))
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        stmt = select(Jurisdiction).where(Jurisdiction.code.in_(chunk))
        for row in session.scalars(stmt.options(undefer(Jurisdiction.geometry))):
            found[row.code] = row
    return found


def children(session: Session, code: str) -> Sequence[Jurisdiction]:
    return session.scalars(
        select(Jurisdiction).where(Jurisdiction.parent_code == code).order_by(Jurisdiction.code)
    ).all()


def descendants(
    session: Session, root_path: str, *, level: str | None = None
) -> Sequence[Jurisdiction]:
    stmt = (
        select(Jurisdiction)
        .where(within(Jurisdiction.path, root_path))
        .options(undefer(Jurisdiction.geometry))
    )
    if level:
        stmt = stmt.where(Jurisdiction.level == level)
    return session.scalars(stmt.order_by(Jurisdiction.path)).all()


def roots(session: Session) -> Sequence[Jurisdiction]:
    return session.scalars(
        select(Jurisdiction).where(Jurisdiction.parent_code.is_(None)).order_by(Jurisdiction.code)
    ).all()


def grids_outside(session: Session, excluded: set[str]) -> list[tuple[str, dict[str, object]]]:
    """Stored grid polygons, except those the caller is replacing."""
    rows = session.execute(
        select(Jurisdiction.code, Jurisdiction.geometry).where(Jurisdiction.level == "grid")
    )
    return [(code, geom) for code, geom in rows if code not in excluded and geom]
