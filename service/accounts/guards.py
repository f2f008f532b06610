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

ALL_ROLES = frozenset(Role)

# What a key of each agency kind may be allowed to do. A key carries a subset, and every
# route an agency can reach names the one scope it needs (see `requires`).
#   agency:read         read the agency's own profile
#   keys:manage         issue, list and revoke the agency's API keys
#   workers:read        read workers (lists, lookup, records, consent history, credentials, rating)
#   workers:write       register and edit workers
#   checks:write        record health and background checks
#   trainings:write     push training records
#   certificates:write  push and revoke certificates
#   jobs:read           read job requests, matches, offers, placements, reviews and complaints
#   jobs:write          post and change job requests; make and withdraw offers; end placements,
#                       review, complain
#   webhooks:manage     subscribe, unsubscribe and read the delivery log
#   reports:read        read the bureau's reports, claims, registrations and confirmed flags about the agency
#   subsidies:write     claim training subsidies
AGENCY_SCOPES: dict[Role, frozenset[str]] = {
    Role.HOUSEKEEPING: frozenset(
        {
            "agency:read",
            "keys:manage",
            "workers:read",
            "workers:write",
            "checks:write",
            "jobs:read",
            "jobs:write",
            "webhooks:manage",
            "reports:read",
        }
    ),
    Role.TRAINING: frozenset(
        {
            "agency:read",
            "keys:manage",
            "workers:read",
            "trainings:write",
            "webhooks:manage",
            "reports:read",
            "subsidies:write",
        }
    ),
    Role.EVALUATION: frozenset(
        {"agency:read", "keys:manage", "workers:read", "certificates:write", "webhooks:manage", "reports:read"}
    ),
}
ALL_SCOPES = frozenset().union(*AGENCY_SCOPES.values())


@dataclass(frozen=True)
class Principal:
    role: Role | None
    user_id: int | None = None
    agency_id: int | None = None
    api_key_id: int | None = None
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

    @property
    def own_agency_id(self) -> int:
        """The agency the caller speaks for; a caller without one is refused."""
        if self.agency_id is None:
            raise Forbidden()
        return self.agency_id

    @property
    def own_user_id(self) -> int:
        """The caller's own account; a caller without one (an API key) is refused."""
        if self.user_id is None:
            raise Forbidden()
        return self.user_id

    def has_scope(self, scope: str) -> bool:
        return not self.is_agency or scope in self.scopes

    @property
    def credential(self) -> str:
        """The credential that made the request: an API key, or a person's account."""
        return f"key:{self.api_key_id}" if self.is_agency else f"user:{self.user_id}"


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
    """Guard: the caller has one of `roles` and, for agencies, the key has `scope`.

    A route open to an agency role must name its scope: leaving it out is refused when the
    routes are declared, so no route can forget it."""
    allowed = frozenset(roles)
    if not allowed:
        raise ValueError("requires() needs at least one role")
    if allowed & AGENCY_ROLES:
        if scope is None:
            raise ValueError(f"a route open to agencies must name the API-key scope it needs ({sorted(allowed)})")
        if not any(scope in AGENCY_SCOPES[role] for role in allowed & AGENCY_ROLES):
            raise ValueError(f"no agency role here can hold the scope {scope!r}")

    def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if not principal.is_authenticated:
            raise Unauthorized()
        if principal.role not in allowed:
            raise Forbidden(f"此操作需要角色 (this needs the role): {', '.join(sorted(allowed))}")
        if scope and not principal.has_scope(scope):
            raise Forbidden(f"API 密钥缺少权限范围 (the API key lacks the scope): {scope}")

    guard.__name__ = f"requires_{'_'.join(sorted(allowed))}"
    guard.roles = allowed  # type: ignore[attr-defined]  # read by the route audit test
    guard.scope = scope  # type: ignore[attr-defined]
    return guard
