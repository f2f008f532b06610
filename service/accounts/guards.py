"""Who is calling, and the guards that decide which roles reach a handler.

Default deny: every API route needs an authenticated caller unless its handler says
`opt={"public": True}`. Object-level checks (is this *her* worker record?) live in the
services, which receive the `Principal`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from service.errors import Forbidden, Unauthorized


class Role(StrEnum):
    EMPLOYER = "employer"
    WORKER = "worker"
    ADMIN = "admin"
    # Agencies, by kind.
    HOUSEKEEPING = "housekeeping"
    TRAINING = "training"
    EVALUATION = "evaluation"


AGENCY_ROLES = frozenset({Role.HOUSEKEEPING, Role.TRAINING, Role.EVALUATION})

# What a key of each agency kind may be allowed to do. A key carries a subset.
AGENCY_SCOPES: dict[Role, frozenset[str]] = {
    Role.HOUSEKEEPING: frozenset({"workers:read", "workers:write", "checks:write", "keys:manage", "reports:read"}),
    Role.TRAINING: frozenset({"workers:read", "trainings:write", "keys:manage", "reports:read", "subsidies:write"}),
    Role.EVALUATION: frozenset({"workers:read", "certificates:write", "keys:manage", "reports:read"}),
}


@dataclass(frozen=True)
class Principal:
    role: Role | None
    user_id: int | None = None
    agency_id: int | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_authenticated(self) -> bool:
        return self.role is not None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_agency(self) -> bool:
        return self.role in AGENCY_ROLES

    def is_agency_of(self, agency_id: int | None) -> bool:
        return self.is_agency and agency_id is not None and self.agency_id == agency_id

    def has_scope(self, scope: str) -> bool:
        return not self.is_agency or scope in self.scopes


ANONYMOUS = Principal(role=None)


def principal_of(connection: ASGIConnection) -> Principal:
    return connection.scope.get("user") or ANONYMOUS


# Served to anyone: API documentation, probes and metrics (keep /metrics behind the network edge).
UNAUTHENTICATED_PATHS = ("/schema", "/health", "/ready", "/metrics")


def require_authenticated(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    if handler.opt.get("public") or connection.scope["path"].startswith(UNAUTHENTICATED_PATHS):
        return
    if not principal_of(connection).is_authenticated:
        raise Unauthorized("需要登录或 API 密钥 (a bearer token or an X-API-Key is required)")


def requires(*roles: Role, scope: str | None = None):
    """Guard: the caller has one of `roles` (and, for agencies, the key has `scope`)."""
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if not principal.is_authenticated:
            raise Unauthorized()
        if principal.role not in allowed:
            raise Forbidden(f"此操作需要角色 (this needs the role): {', '.join(sorted(allowed))}")
        if scope and not principal.has_scope(scope):
            raise Forbidden(f"API 密钥缺少权限范围 (the API key lacks the scope): {scope}")

    guard.__name__ = f"requires_{'_'.join(sorted(allowed))}"
    return guard
