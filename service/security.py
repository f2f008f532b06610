"""Cryptography in one place: passwords, API keys, bearer tokens and national ID numbers.

- Passwords: argon2id (`argon2-cffi`).
- API keys: 32 random bytes shown once; only a SHA-256 digest is stored, found by its prefix.
- Bearer tokens: JWT (HS256) through Litestar's `Token`.
- National ID numbers: AES-256-GCM (`cryptography`) with a random nonce; an HMAC-SHA256
  blind index (key derived from the data key by HKDF) finds duplicates without decrypting.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token

_hasher = PasswordHasher()
JWT_ALGORITHM = "HS256"
API_KEY_PREFIX = "nyk"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the phone is unknown, so both paths cost the same.
DUMMY_PASSWORD_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class NewApiKey:
    key: str
    prefix: str
    digest: str


def new_api_key() -> NewApiKey:
    prefix = secrets.token_hex(4)
    key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewApiKey(key=key, prefix=prefix, digest=api_key_digest(key))


def api_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_prefix(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or len(parts[1]) != 8:
        return None
    return parts[1]


def digests_match(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def issue_token(*, user_id: int, role: str, secret: str, ttl_seconds: int) -> str:
    exp = datetime.now(timezone.utc) + timedelta(seconds=ttl_seconds)
    return Token(exp=exp, sub=str(user_id), extras={"role": role}).encode(secret, JWT_ALGORITHM)


def read_token(encoded: str, secret: str) -> Token | None:
    """The token's claims, or None when it is malformed, forged or expired."""
    try:
        return Token.decode(encoded, secret, JWT_ALGORITHM)
    except NotAuthorizedException:
        return None


class IdNumberCipher:
    """Encrypts national ID numbers and computes their blind index."""

    _AAD = b"worker.id_number.v1"

    def __init__(self, data_key: bytes) -> None:
        self._aead = AESGCM(data_key)
        self._index_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"id-number-blind-index"
        ).derive(data_key)

    def encrypt(self, value: str, purpose: bytes = _AAD) -> bytes:
        """Encrypt `value`; `purpose` is bound in as associated data, so a ciphertext made
        for one purpose (an ID number, a webhook secret) never decrypts as another."""
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, value.encode(), purpose)

    def decrypt(self, blob: bytes, purpose: bytes = _AAD) -> str:
        return self._aead.decrypt(blob[:12], blob[12:], purpose).decode()

    def blind_index(self, id_number: str) -> str:
        return hmac.new(self._index_key, id_number.upper().encode(), hashlib.sha256).hexdigest()
