from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from shiyu.config import Settings
from tests.factories.world import World
from tests.metrics.dataset import DataSet, build


@pytest.fixture
def data(session: Session, settings: Settings, world: World) -> DataSet:
    return build(session, settings, world)
