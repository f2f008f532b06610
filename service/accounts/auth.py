"""Authentication middleware: a bearer token (people) or an X-API-Key (agencies)."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from service.accounts.callers import CallerCache
from service.accounts.guards import AGENCY_SCOPES, ANONYMOUS, Principal, Role
from service.database import fetchrow
from service.errors import Unauthorized
from service.security import api_key_digest, api_key_prefix, digests_match, for_current_password, read_token

# The caller is read as one prepared statement, then remembered for a few seconds by the
# process's `CallerCache`, which forgets it when the account or key changes
# (`service.accounts.callers`): a deactivated account or a revoked key stops at once.
_USER = "SELECT id, role, is_active, password_changed_at FROM app_user WHERE id = $1"
_API_KEY = """
    SELECT k.id, k.digest, k.scopes, k.revoked_at, a.id AS agency_id, a.kind AS agency_kind
    FROM api_key k JOIN agency a ON a.id = k.agency WHERE k.prefix = $1
"""


class AuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        state = connection.app.state
        settings = state.settings
        cache: CallerCache | None = state.get("callers")
        authorization = connection.headers.get("authorization")
        api_key = connection.headers.get("x-api-key")
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() != "bearer" or not credentials:
                raise Unauthorized("Authorization 头应为 Bearer 令牌 (expected a Bearer token)")
            encoded = credentials.strip()
            principal = None
            if cache is not None:
                cache.signed_with(settings.secret_key, settings.old_secret_keys)
                principal = cache.get(encoded)
            if principal is None:
                principal = await _principal_from_token(encoded, settings.secret_key, settings.old_secret_keys, cache)
            return AuthenticationResult(user=principal, auth=None)
        if api_key:
            key = api_key.strip()
            digest = api_key_digest(key)
            principal = cache.get(digest) if cache is not None else None
            if principal is None:
                principal = await _principal_from_api_key(key, digest, cache)
            return AuthenticationResult(user=principal, auth=None)
        return AuthenticationResult(user=ANONYMOUS, auth=None)


async def _principal_from_token(
    encoded: str, secret: str, old_secrets: tuple[str, ...] = (), cache: CallerCache | None = None
) -> Principal:
    token = read_token(encoded, secret, old_secrets)
    if token is None or not token.sub.isdigit():
        raise Unauthorized("令牌无效或已过期 (the token is invalid or expired)")
    generation = cache.generation if cache is not None else 0
    user = await fetchrow(_USER, int(token.sub))
    # A token issued for an earlier password is refused.
    if user is not None and not for_current_password(token, user["password_changed_at"]):
        user = None
    if user is None or not user["is_active"]:
        raise Unauthorized("令牌无效或已过期 (the token is invalid or expired)")
    principal = Principal(role=Role(user["role"]), user_id=user["id"])
    if cache is not None:
        cache.put(encoded, principal, generation=generation, expires_at=token.exp.timestamp())
    return principal


async def _principal_from_api_key(key: str, digest: str, cache: CallerCache | None = None) -> Principal:
    prefix = api_key_prefix(key)
    generation = cache.generation if cache is not None else 0
    row = None
    if prefix is not None:
        row = await fetchrow(_API_KEY, prefix)
    if row is None or row["revoked_at"] is not None or not digests_match(row["digest"], digest):
        raise Unauthorized("API 密钥无效或已吊销 (the API key is invalid or revoked)")
    role = Role(row["agency_kind"])
    principal = Principal(
        role=role,
        agency_id=row["agency_id"],
        api_key_id=row["id"],
        scopes=frozenset(row["scopes"]) & AGENCY_SCOPES[role],
    )
    if cache is not None:
        cache.put(digest, principal, generation=generation)
    return principal
