"""Password hashing (argon2) and signed, expiring access tokens."""

from __future__ import annotations

import secrets
import time
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


#: verified tokens -> their claims: a client sends the same token with every request, and
#: checking its signature cost more than the rest of an authenticated request's auth
_verified: dict[tuple[str, str], dict[str, Any]] = {}
_VERIFIED_MAX = 20_000


def decode_token(token: str, *, secret: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired token, else None. Revocation is not decided here
    (the token version is checked against the user: `service.actor_from_token`)."""
    key = (token, secret)
    claims = _verified.get(key)
    if claims is None:
        try:
            claims = jwt.decode(
                token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "tv"]}
            )
        except jwt.PyJWTError:
            return None
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        _verified[key] = claims
    if claims["exp"] <= time.time():  # as jwt.decode judges expiry, without leeway
        _verified.pop(key, None)
        return None
    return dict(claims)
