"""`shiyu keys rotate`: personal data re-encrypted under the newest key, in batches,
idempotent, resumable after a crash, audited."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from shiyu.audit.models import AuditRecord
from shiyu.db import Database
from shiyu.events.models import Event
from shiyu.kit.crypto import Cipher
from shiyu.privacy import keys
from tests.conftest import TEST_SECRET, make_settings
from tests.factories.world import create_world
from tests.helpers import run_cli

K1, K2 = keys.generate_key(), keys.generate_key()


def _tokens(url: str) -> list[str]:
    db = Database(make_settings(url))
    with db.transaction(write=False) as session:
        rows = session.execute(select(Event.reporter_name, Event.reporter_phone)).all()
    db.dispose()
    return [v for row in rows for v in row if v]


def _decrypts_with(key: str, tokens: list[str]) -> bool:
    try:
        for t in tokens:
            Fernet(key.encode()).decrypt(t.encode())
    except InvalidToken:
        return False
    return True


@pytest.fixture
def city(fresh_database: str) -> str:
    settings = make_settings(fresh_database)
    db = Database(settings)
    with db.transaction() as session:
        create_world(session, settings)
    db.dispose()
    return fresh_database


def test_rotation_from_the_derived_key_then_again(city: str) -> None:
    before = _tokens(city)
    assert before and not _decrypts_with(K1, before)

    first = run_cli(city, "keys", "rotate", SHIYU_ENCRYPTION_KEYS=json.dumps([K1]))
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["rotated"] == len(before) and report["unreadable"] == 0
    after = _tokens(city)
    assert _decrypts_with(K1, after)
    phones = {Cipher([K1], TEST_SECRET).decrypt(t) for t in after}
    assert "13900000000" in phones  # same plaintext, new key

    again = run_cli(city, "keys", "rotate", SHIYU_ENCRYPTION_KEYS=json.dumps([K1]))
    assert json.loads(again.stdout)["rotated"] == 0  # idempotent
    assert _tokens(city) == after

    # K2 first, K1 kept for decryption; one row per batch
    second = run_cli(
        city, "keys", "rotate", "--batch-size", "1", SHIYU_ENCRYPTION_KEYS=json.dumps([K2, K1])
    )
    assert json.loads(second.stdout)["rotated"] == len(before)
    assert _decrypts_with(K2, _tokens(city))

    db = Database(make_settings(city))
    with db.transaction(write=False) as session:
        actions = session.scalars(select(AuditRecord.action)).all()
        done = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "keys.rotate_done")
        ).all()
    db.dispose()
    assert actions.count("keys.rotate") >= 3  # one per committed batch that changed rows
    assert len(done) == 3
    assert K1 not in json.dumps([d.summary for d in done]) and K2 not in json.dumps(
        [d.summary for d in done]
    )
    verify = run_cli(city, "audit", "verify")
    assert verify.returncode == 0, verify.stdout


def test_interrupted_rotation_resumes(city: str) -> None:
    total = len(_tokens(city))
    settings = make_settings(city, encryption_keys=[K1])
    db = Database(settings)

    def crash(_report: keys.TableReport) -> None:
        raise KeyboardInterrupt  # the process dies after its first committed batch

    with pytest.raises(KeyboardInterrupt):
        keys.rotate(db, settings, batch_size=1, progress=crash)
    partly = _tokens(city)
    assert 0 < sum(_decrypts_with(K1, [t]) for t in partly) < total

    resumed = keys.rotate(db, settings, batch_size=1)  # the lease was released on the way out
    db.dispose()
    assert resumed.rotated == total - sum(_decrypts_with(K1, [t]) for t in partly)
    assert _decrypts_with(K1, _tokens(city))


def test_a_missing_old_key_is_reported(city: str) -> None:
    run_cli(city, "keys", "rotate", SHIYU_ENCRYPTION_KEYS=json.dumps([K1]))
    lost = run_cli(city, "keys", "rotate", SHIYU_ENCRYPTION_KEYS=json.dumps([K2]))
    assert lost.returncode == 3
    report = json.loads(lost.stdout)
    assert report["unreadable"] == len(_tokens(city)) and report["rotated"] == 0
