"""The session cookie, CSRF, and the `Principal` a page request acts as.

A session holds either a person (`uid`: employer, worker, bureau admin) or an agency's
API key (`kid`: a housekeeping clerk, training or evaluation staff signed in with a key the
agency or the bureau issued). Each request re-reads the account or key, so a deactivated
account, a changed password or a revoked key ends the session at once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from base64 import b64decode
from dataclasses import dataclass
from secrets import compare_digest
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import (
    CSRF_SECRET_LENGTH,
    CSRFMiddleware,
    generate_csrf_hash,
    generate_csrf_token,
)
from litestar.middleware.session.client_side import AAD, NONCE_SIZE, ClientSideSessionBackend, CookieBackendConfig
from litestar.serialization import decode_json
from litestar.types import ASGIApp, Receive, Scope, Send

from service.accounts.guards import AGENCY_SCOPES, ANONYMOUS, Principal, Role
from service.accounts.tables import ApiKey, User
from service.settings import Settings

# Paths that never use the cookie: the JSON API (bearer tokens and API keys), probes, docs.
NOT_COOKIE_PATHS = ["^/api/", "^/schema", "^/health", "^/ready", "^/metrics"]
SESSION_MAX_AGE = 8 * 3600


def _derived(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()


class RotatingSessionBackend(ClientSideSessionBackend):
    """The session cookie, read when it was encrypted with the current key or with one
    derived from an earlier SECRET_KEY (`OLD_SECRET_KEYS`), and always written with the
    current key: every answer to a signed-in person re-issues the cookie under it, so a
    rotation signs nobody out."""

    def __init__(self, config: RotatingCookieConfig) -> None:
        super().__init__(config)
        self.earlier = [AESGCM(secret) for secret in config.old_secrets]

    def load_data(self, data: list[bytes]) -> dict[str, Any]:
        # As ClientSideSessionBackend.load_data, trying each key in turn.
        decoded = b64decode(b"".join(data))
        nonce = decoded[:NONCE_SIZE]
        aad_starts_from = decoded.find(AAD)
        associated_data = decoded[aad_starts_from:].replace(AAD, b"") if aad_starts_from != -1 else None
        if not associated_data or decode_json(value=associated_data)["expires_at"] <= round(time.time()):
            return {}
        encrypted = decoded[NONCE_SIZE:aad_starts_from]
        for aead in (self.aesgcm, *self.earlier):
            try:
                return self.deserialize_data(aead.decrypt(nonce, encrypted, associated_data=associated_data))
            except InvalidTag:
                continue
        raise InvalidTag  # the middleware leaves the session empty


@dataclass
class RotatingCookieConfig(CookieBackendConfig):
    _backend_class = RotatingSessionBackend  # type: ignore[assignment]

    old_secrets: tuple[bytes, ...] = ()


def session_config(settings: Settings) -> RotatingCookieConfig:
    return RotatingCookieConfig(
        secret=_derived(settings.secret_key, "web-session"),
        old_secrets=tuple(_derived(key, "web-session") for key in settings.old_secret_keys),
        key="nanyue_session",
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.environment != "development",
        exclude=NOT_COOKIE_PATHS,
    )


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=_derived(settings.secret_key, "web-csrf").hex(),
        cookie_name="nanyue_csrf",
        header_name="x-csrftoken",
        cookie_secure=settings.environment != "development",
        cookie_samesite="lax",
        cookie_httponly=True,
        exclude=NOT_COOKIE_PATHS,
    )


class RotatingCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF check, also accepting tokens signed with a key derived from an
    earlier SECRET_KEY; a page answered to a browser holding such a cookie re-issues it
    (the same token, signed with the current key), so open forms keep working."""

    def __init__(self, app: ASGIApp, config: CSRFConfig, old_secrets: tuple[str, ...] = ()) -> None:
        super().__init__(app, config)
        self.old_secrets = old_secrets

    def _token_secret(self, token: str, secrets: tuple[str, ...]) -> str | None:
        if len(token) < CSRF_SECRET_LENGTH + 1:
            return None
        token_secret, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
        for secret in secrets:
            if compare_digest(signature, generate_csrf_hash(token=token_secret, secret=secret)):
                return token_secret
        return None

    def _decode_csrf_token(self, token: str) -> str | None:
        return self._token_secret(token, (self.config.secret, *self.old_secrets))

    def create_send_wrapper(self, send: Send, token: str, csrf_cookie: str | None) -> Send:
        if csrf_cookie is not None and self._token_secret(csrf_cookie, (self.config.secret,)) is None:
            # Signed with an earlier key (or an unknown one): the cookie is set again under the current key.
            earlier = self._decode_csrf_token(csrf_cookie)
            token = (
                earlier + generate_csrf_hash(token=earlier, secret=self.config.secret)
                if earlier
                else generate_csrf_token(secret=self.config.secret)
            )
            csrf_cookie = None
        return super().create_send_wrapper(send, token=token, csrf_cookie=csrf_cookie)


def csrf_middleware(settings: Settings) -> DefineMiddleware:
    """The CSRF check of the pages (in place of the app's `csrf_config`, which cannot take
    earlier keys)."""
    return DefineMiddleware(
        RotatingCSRFMiddleware,
        config=csrf_config(settings),
        old_secrets=tuple(_derived(key, "web-csrf").hex() for key in settings.old_secret_keys),
    )


def password_stamp(password_hash: str) -> str:
    """Changes when the password does: a reset signs out every other session."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


async def principal_from_session(session: dict) -> Principal:
    if (uid := session.get("uid")) is not None:
        user = (
            await User.select(User.id, User.role, User.is_active, User.password_hash).where(User.id == int(uid)).first()
        )
        if user and user["is_active"] and session.get("pw") == password_stamp(user["password_hash"]):
            return Principal(role=Role(user["role"]), user_id=user["id"])
    elif (kid := session.get("kid")) is not None:
        key = (
            await ApiKey.select(ApiKey.id, ApiKey.scopes, ApiKey.revoked_at, ApiKey.agency.id, ApiKey.agency.kind)
            .where(ApiKey.id == int(kid))
            .first()
        )
        if key and key["revoked_at"] is None:
            role = Role(key["agency.kind"])
            return Principal(
                role=role,
                agency_id=key["agency.id"],
                api_key_id=key["id"],
                scopes=frozenset(key["scopes"]) & AGENCY_SCOPES[role],
            )
    return ANONYMOUS


class SessionPrincipalMiddleware:
    """After the API's AuthMiddleware: a page request without a bearer token or key acts as
    whoever its session names."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/api/"):
            user = scope.get("user")
            session = scope.get("session")
            if (user is None or not user.is_authenticated) and isinstance(session, dict) and session:
                scope["user"] = await principal_from_session(session)
        await self.app(scope, receive, send)


def session_principal_middleware() -> DefineMiddleware:
    return DefineMiddleware(SessionPrincipalMiddleware)
