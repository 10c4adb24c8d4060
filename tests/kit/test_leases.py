"""`kit.leases.held`: a periodic job's run holds the lease for its body, or skips."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from shiyu.db import Database
from shiyu.kit import leases
from shiyu.kit.leases import JobLease


def test_a_held_lease_makes_the_other_holder_skip(db: Database, session: Session) -> None:
    with leases.held(db, name="t.job", holder="a", seconds=60) as mine:
        assert mine
        with leases.held(db, name="t.job", holder="b", seconds=60) as theirs:
            assert not theirs
        lease = session.get(JobLease, "t.job")
        assert lease is not None and lease.holder == "a"  # b's skip left it alone
    # released at the end: the next holder gets it at once
    with leases.held(db, name="t.job", holder="b", seconds=60) as mine:
        assert mine


def test_released_when_the_body_fails(db: Database, session: Session) -> None:
    with pytest.raises(RuntimeError), leases.held(db, name="t.fail", holder="a", seconds=60):
        raise RuntimeError("job failed")
    with leases.held(db, name="t.fail", holder="b", seconds=60) as mine:
        assert mine
