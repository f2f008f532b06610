"""Cryptography in one place: passwords, API keys, bearer tokens and national ID numbers.

- Passwords: argon2id (`argon2-cffi`).
- API keys: 32 random bytes shown once; only a SHA-256 digest is stored, found by its prefix.
- Bearer tokens: JWT (HS256) through Litestar's `Token`.
- National ID numbers: AES-256-GCM (`cryptography`) with a random nonce; an HMAC-SHA256
  blind index (key derived from the data key by HKDF) finds duplicates without decrypting.
  Both carry the data key's version, so keys rotate (`nanyue rotate-keys` re-encrypts).
- One-time phone codes: only an HMAC-SHA256 of phone, purpose and code is stored (key
  derived from the secret key by HKDF), so a leaked table cannot be brute-forced offline.
- The client address: the one function that decides it, for rate limits and throttles.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
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


@lru_cache(maxsize=1)
def dummy_password_hash() -> str:
    """A hash to verify against when the phone is unknown, so both paths cost the same.
    Made once per process, not at import (the CLI's commands would pay one deliberately
    slow hash each): the app makes it in a thread at start-up, so no login waits for it."""
    return _hasher.hash("not-a-real-password")


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash new passwords with `hasher`'s parameters (hashes made before still verify with
    their own). The tests use argon2id with a small memory and time cost."""
    global _hasher
    _hasher = hasher
    dummy_password_hash.cache_clear()


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


def issue_token(*, user_id: int, role: str, secret: str, ttl_seconds: int, password: datetime | None = None) -> str:
    """A signed token for the user. `password` is when the password that was checked was set
    (None: never changed); the token names it, so a password changed while the login was being
    checked leaves the token dead instead of valid."""
    now = datetime.now(timezone.utc)
    # `iat` is whole seconds (RFC 7519 as PyJWT writes it); `iat_ms` tells a token made just
    # before a password change from one made just after it within the same second.
    extras = {"role": role, "iat_ms": issued_ms(now), "pwd": password_version(password)}
    return Token(exp=now + timedelta(seconds=ttl_seconds), sub=str(user_id), extras=extras).encode(
        secret, JWT_ALGORITHM
    )


def issued_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def password_version(changed_at: datetime | None) -> int:
    """A password's version: when it was set, in whole microseconds (0: the first password)."""
    return 0 if changed_at is None else (changed_at - _EPOCH) // timedelta(microseconds=1)


def issued_before(token: Token, moment: datetime) -> bool:
    """Whether `token` was issued before `moment` (a password change): to the millisecond
    where the token says (`iat_ms`); tokens without it, to the second, as JWT times are;
    a token of the same millisecond counts as before."""
    precise = token.extras.get("iat_ms")
    if isinstance(precise, int) and not isinstance(precise, bool):
        return precise <= issued_ms(moment)
    return token.iat.timestamp() < int(moment.timestamp())


def for_current_password(token: Token, changed_at: datetime | None) -> bool:
    """Whether `token` was issued for the password the account has now. A token that names
    its password (`pwd`) must name this one; older tokens must be newer than the change."""
    named = token.extras.get("pwd")
    if isinstance(named, int) and not isinstance(named, bool):
        return named == password_version(changed_at)
    return changed_at is None or not issued_before(token, changed_at)


def read_token(encoded: str, secret: str, old_secrets: tuple[str, ...] = ()) -> Token | None:
    """The token's claims, or None when it is malformed, forged or expired. Tokens signed
    with an earlier secret (`old_secrets`) stay valid until they expire, so rotating the
    secret signs nobody out; new tokens are signed with `secret` only."""
    for key in (secret, *old_secrets):
        try:
            return Token.decode(encoded, key, JWT_ALGORITHM)
        except NotAuthorizedException:
            continue
    return None


class IdNumberCipher:
    """Encrypts national ID numbers (and other secrets) and computes their blind index,
    with versioned keys.

    A ciphertext starts with `NK` and its key's version (two bytes), then the nonce; one
    written before keys had versions (nonce first) is tried with every key, the GCM tag
    telling the right one. A blind index made with the version-1 key is the bare hex
    digest (as before versions); later versions write `v<n>:<hex>`. Lookups try the
    index under every known version, so rows not yet re-encrypted are still found.
    """

    _AAD = b"worker.id_number.v1"
    _MAGIC = b"NK"

    def __init__(self, data_key: bytes | dict[int, bytes], current: int | None = None) -> None:
        keys = data_key if isinstance(data_key, dict) else {1: data_key}
        self.current = current if current is not None else max(keys)
        if self.current not in keys:
            raise ValueError("the current data key version has no key")
        self._aeads = {version: AESGCM(key) for version, key in keys.items()}
        self._index_keys = {
            version: HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"id-number-blind-index").derive(key)
            for version, key in keys.items()
        }

    @property
    def versions(self) -> list[int]:
        return sorted(self._aeads)

    def encrypt(self, value: str, purpose: bytes = _AAD) -> bytes:
        """Encrypt `value` with the current key; `purpose` is bound in as associated data, so
        a ciphertext made for one purpose (an ID number, a webhook secret) never decrypts as another."""
        nonce = os.urandom(12)
        header = self._MAGIC + self.current.to_bytes(2, "big")
        return header + nonce + self._aeads[self.current].encrypt(nonce, value.encode(), purpose)

    def version_of(self, blob: bytes) -> int | None:
        """The key version a ciphertext names (None: written before versions)."""
        if blob[:2] == self._MAGIC and len(blob) > 16:
            return int.from_bytes(blob[2:4], "big")
        return None

    def decrypt(self, blob: bytes, purpose: bytes = _AAD) -> str:
        version = self.version_of(blob)
        if version in self._aeads:
            try:
                return self._aeads[version].decrypt(blob[4:16], blob[16:], purpose).decode()
            except InvalidTag:
                pass  # an unversioned ciphertext whose nonce happens to start like a header
        for aead in self._aeads.values():
            try:
                return aead.decrypt(blob[:12], blob[12:], purpose).decode()
            except InvalidTag:
                continue
        raise InvalidTag()

    def blind_index(self, id_number: str, version: int | None = None) -> str:
        version = self.current if version is None else version
        digest = hmac.new(self._index_keys[version], id_number.upper().encode(), hashlib.sha256).hexdigest()
        return digest if version == 1 else f"v{version}:{digest}"

    def blind_indexes(self, id_number: str) -> list[str]:
        """The index under every known key version, the current one first."""
        return [
            self.blind_index(id_number, v) for v in [self.current, *(v for v in self.versions if v != self.current)]
        ]

    def index_version(self, index: str) -> int:
        return int(index[1 : index.index(":")]) if index.startswith("v") else 1


def new_phone_code() -> str:
    """Six random digits."""
    return f"{secrets.randbelow(10**6):06d}"


def phone_code_digest(secret_key: str, *, phone: str, purpose: str, code: str) -> str:
    key = _derived_key(secret_key, b"phone-code")
    return hmac.new(key, f"{phone}|{purpose}|{code}".encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=8)
def _derived_key(secret_key: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret_key.encode())


@lru_cache(maxsize=16)
def _networks(trusted: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in trusted)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, networks: tuple) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(connection: Any) -> str:
    """The address of the client behind `connection` (a Litestar request or connection).

    The peer of the TCP connection is the client, unless it is one of the configured
    `trusted_proxies`: then `X-Forwarded-For` is read from the right, each hop appended by
    a trusted proxy, and the first address not trusted is the client (`X-Real-IP` when
    there is no `X-Forwarded-For`). Headers from any other peer are ignored, so a caller
    cannot choose the address it is limited under.
    """
    peer = connection.scope.get("client")
    host = peer[0] if peer else "unknown"
    networks = _networks(tuple(connection.app.state.settings.trusted_proxies))
    peer_ip = _ip(host)
    if peer_ip is not None:
        host = str(peer_ip)
    if not _trusted(peer_ip, networks):
        return host
    headers = connection.headers
    hops = [hop for value in headers.getall("x-forwarded-for", []) for hop in value.split(",") if hop.strip()]
    if not hops and headers.get("x-real-ip"):
        hops = [headers["x-real-ip"]]
    for hop in reversed(hops):
        address = _ip(hop)
        if address is None:
            break  # a malformed hop: nothing left of it can be believed
        host = str(address)
        if not _trusted(address, networks):
            break
    return host
