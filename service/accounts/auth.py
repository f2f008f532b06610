"""Authentication middleware: a bearer token (people) or an X-API-Key (agencies)."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from service.accounts.guards import AGENCY_SCOPES, ANONYMOUS, Principal, Role
from service.database import fetchrow
from service.errors import Unauthorized
from service.security import api_key_digest, api_key_prefix, digests_match, read_token

# Every request reads its caller afresh (a deactivated account or a revoked key stops at
# once), as one prepared statement each.
_USER = "SELECT id, role, is_active, password_changed_at FROM app_user WHERE id = $1"
_API_KEY = """
    SELECT k.id, k.digest, k.scopes, k.revoked_at, a.id AS agency_id, a.kind AS agency_kind
    FROM api_key k JOIN agency a ON a.id = k.agency WHERE k.prefix = $1
"""


class AuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        settings = connection.app.state.settings
        authorization = connection.headers.get("authorization")
        api_key = connection.headers.get("x-api-key")
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() != "bearer" or not credentials:
                raise Unauthorized("Authorization 头应为 Bearer 令牌 (expected a Bearer token)")
            return AuthenticationResult(
                user=await _principal_from_token(credentials.strip(), settings.secret_key, settings.old_secret_keys),
                auth=None,
            )
        if api_key:
            return AuthenticationResult(user=await _principal_from_api_key(api_key.strip()), auth=None)
        return AuthenticationResult(user=ANONYMOUS, auth=None)


async def _principal_from_token(encoded: str, secret: str, old_secrets: tuple[str, ...] = ()) -> Principal:
    token = read_token(encoded, secret, old_secrets)
    if token is None or not token.sub.isdigit():
        raise Unauthorized("令牌无效或已过期 (the token is invalid or expired)")
    user = await fetchrow(_USER, int(token.sub))
    changed = user["password_changed_at"] if user else None
    # JWT times are whole seconds: a token from before the last password change is refused.
    if changed is not None and token.iat.timestamp() < int(changed.timestamp()):
        user = None
    if user is None or not user["is_active"]:
        raise Unauthorized("令牌无效或已过期 (the token is invalid or expired)")
    return Principal(role=Role(user["role"]), user_id=user["id"])


async def _principal_from_api_key(key: str) -> Principal:
    prefix = api_key_prefix(key)
    row = None
    if prefix is not None:
        row = await fetchrow(_API_KEY, prefix)
    if row is None or row["revoked_at"] is not None or not digests_match(row["digest"], api_key_digest(key)):
        raise Unauthorized("API 密钥无效或已吊销 (the API key is invalid or revoked)")
    role = Role(row["agency_kind"])
    return Principal(
        role=role,
        agency_id=row["agency_id"],
        api_key_id=row["id"],
        scopes=frozenset(row["scopes"]) & AGENCY_SCOPES[role],
    )
