"""The session cookie, CSRF, and the `Principal` a page request acts as.

A session holds either a person (`uid`: employer, worker, bureau admin) or an agency's
API key (`kid`: a housekeeping clerk, training or evaluation staff signed in with a key the
agency or the bureau issued). Each request re-reads the account or key, so a deactivated
account, a changed password or a revoked key ends the session at once.
"""

from __future__ import annotations

import hashlib
import hmac

from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from service.accounts.guards import AGENCY_SCOPES, ANONYMOUS, Principal, Role
from service.accounts.tables import ApiKey, User
from service.settings import Settings

# Paths that never use the cookie: the JSON API (bearer tokens and API keys), probes, docs.
NOT_COOKIE_PATHS = ["^/api/", "^/schema", "^/health", "^/ready", "^/metrics"]
SESSION_MAX_AGE = 8 * 3600


def _derived(settings: Settings, purpose: str) -> bytes:
    return hmac.new(settings.secret_key.encode(), purpose.encode(), hashlib.sha256).digest()


def session_config(settings: Settings) -> CookieBackendConfig:
    return CookieBackendConfig(
        secret=_derived(settings, "web-session"),
        key="nanyue_session",
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.environment != "development",
        exclude=NOT_COOKIE_PATHS,
    )


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=_derived(settings, "web-csrf").hex(),
        cookie_name="nanyue_csrf",
        header_name="x-csrftoken",
        cookie_secure=settings.environment != "development",
        cookie_samesite="lax",
        cookie_httponly=True,
        exclude=NOT_COOKIE_PATHS,
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
