"""Encryption of personal data at rest (reporters' names and phones) and keyed hashes for
looking such values up without decrypting them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


def _derive(secret: str, label: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(f"{label}:{secret}".encode()).digest())


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


class Cipher:
    """The first key encrypts; every key decrypts (so keys can be rotated). The key derived
    from the secret key (the default when no keys are configured) always decrypts too, so a
    city that starts configuring keys can rotate its existing data (`shiyu keys rotate`)."""

    def __init__(self, keys: list[str], secret: str) -> None:
        derived = _derive(secret, "data").decode()
        self.keys = (*keys, derived) if keys and derived not in keys else (*keys,) or (derived,)
        self.secret = secret

    def encrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        return _fernet(self.keys).encrypt(value.encode()).decode()

    def decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return _fernet(self.keys).decrypt(token.encode()).decode()
        except InvalidToken:
            return None

    def lookup_hash(self, value: str) -> str:
        """Deterministic keyed hash, for equality look-ups and rate limits."""
        return hmac.new(_derive(self.secret, "lookup"), value.encode(), hashlib.sha256).hexdigest()


def normalise_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "*" * len(phone)


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"
