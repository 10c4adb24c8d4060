from __future__ import annotations

from collections.abc import Iterator

import pytest

from shiyu.classify import service


@pytest.fixture(autouse=True)
def _fresh_model_holder() -> Iterator[None]:
    """The holder is per process (the test server shares it): after each test's rollback it
    must look at the database again instead of serving the test's model."""
    service.holder.invalidate()
    yield
    service.holder.invalidate()
