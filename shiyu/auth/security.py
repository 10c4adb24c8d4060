"""Password hashing (argon2) and signed, expiring access tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from shiyu.kit.clock import utcnow

_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the user does not exist, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # malformed hash in the database: treat as a failed login
        return False


def create_token(*, user_id: int, token_version: int, secret: str, minutes: int) -> tuple[str, int]:
    now = utcnow()
    expires = now + timedelta(minutes=minutes)
    claims = {
        "sub": str(user_id),
        "tv": token_version,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), minutes * 60


def decode_token(token: str, *, secret: str) -> dict[str, Any] | None:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "tv"]}
        )
    except jwt.PyJWTError:
        return None
    return claims
