"""`unit_info`: what intake reads of a unit, cached per process for all units at once."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from shiyu.jurisdiction import service
from shiyu.jurisdiction.models import Jurisdiction
from tests.factories.world import World


def _unit(code: str, parent: str, path: str) -> dict[str, object]:
    return {"code": code, "name": "新网格", "level": "grid", "parent_code": parent, "path": path}


def test_every_unit_from_one_read(session: Session, world: World) -> None:
    grid = world.city.grids[0]
    info = service.unit_info(session, grid)
    unit = service.get_unit(session, grid)
    assert info is not None and unit is not None
    assert (info.code, info.path, info.parent_code, info.level) == (
        unit.code,
        unit.path,
        unit.parent_code,
        "grid",
    )
    assert service.unit_info(session, "999999999999") is None


def test_a_unit_newer_than_the_cache_is_found(session: Session, world: World) -> None:
    """Another process adds a grid: this process's cache does not know it yet, and a report
    from that grid must still be placed."""
    grid = service.get_unit(session, world.city.grids[0])
    assert grid is not None and grid.parent_code is not None
    assert service.unit_info(session, grid.code) is not None  # the cache is filled
    # a Core insert, as another process's change looks from here: nothing is cleared
    session.execute(
        insert(Jurisdiction), [_unit("420100999999", grid.parent_code, grid.path + "x/")]
    )
    found = service.unit_info(session, "420100999999")
    assert found is not None and found.parent_code == grid.parent_code


def test_a_transaction_reads_the_units_it_changed(session: Session, world: World) -> None:
    grid = service.get_unit(session, world.city.grids[1])
    assert grid is not None and grid.parent_code is not None
    assert service.unit_info(session, grid.code) is not None
    grid.path = grid.path + "moved/"
    session.flush()
    info = service.unit_info(session, grid.code)
    assert info is not None and info.path.endswith("moved/")
