"""Account and agency logic: registration, login, agencies and their API keys."""

from __future__ import annotations

from datetime import datetime, timezone

import anyio
from asyncpg.exceptions import UniqueViolationError

from service.accounts.guards import AGENCY_SCOPES, Principal, Role
from service.accounts.tables import Agency, ApiKey, User
from service.errors import Conflict, Forbidden, InvalidField, NotFound, Unauthorized
from service.security import (
    DUMMY_PASSWORD_HASH,
    hash_password,
    issue_token,
    new_api_key,
    verify_password,
)


async def register_user(*, role: Role, phone: str, password: str, display_name: str) -> dict:
    password_hash = await anyio.to_thread.run_sync(hash_password, password)
    user = User(phone=phone, password_hash=password_hash, role=role.value, display_name=display_name)
    try:
        await user.save()
    except UniqueViolationError:
        raise Conflict("该手机号已注册 (this phone number is already registered)", fields={"phone": "already registered"}) from None
    return user.to_dict()


async def get_user(user_id: int) -> dict:
    row = await User.select().where(User.id == user_id).first()
    if row is None:
        raise NotFound()
    return row


async def login(*, phone: str, password: str, secret: str, ttl_seconds: int) -> str:
    row = await User.select(User.id, User.role, User.password_hash, User.is_active).where(User.phone == phone).first()
    # Verify against a dummy hash when the phone is unknown, so timing does not reveal it;
    # argon2 is deliberately slow, so it runs off the event loop.
    valid = await anyio.to_thread.run_sync(
        verify_password, row["password_hash"] if row else DUMMY_PASSWORD_HASH, password)
    if row is None or not valid or not row["is_active"]:
        raise Unauthorized("手机号或密码错误 (wrong phone number or password)")
    return issue_token(user_id=row["id"], role=row["role"], secret=secret, ttl_seconds=ttl_seconds)


async def create_agency(*, name: str, kind: str, district_code: str, credit_code: str) -> dict:
    agency = Agency(name=name, kind=kind, district_code=district_code, credit_code=credit_code)
    try:
        await agency.save()
    except UniqueViolationError:
        raise Conflict("该统一社会信用代码已登记 (this credit code is already registered)", fields={"credit_code": "already registered"}) from None
    return agency.to_dict()


async def get_agency(principal: Principal, agency_id: int) -> dict:
    if not (principal.is_admin or principal.is_agency_of(agency_id)):
        raise NotFound()
    row = await Agency.select().where(Agency.id == agency_id).first()
    if row is None:
        raise NotFound()
    return row


def _ensure_manages_keys(principal: Principal, agency_id: int) -> None:
    if principal.is_admin:
        return
    if not principal.is_agency_of(agency_id):
        raise NotFound()
    if not principal.has_scope("keys:manage"):
        raise Forbidden("API 密钥缺少权限范围 (the API key lacks the scope): keys:manage")


async def issue_api_key(principal: Principal, agency_id: int, *, scopes: list[str] | None, label: str) -> dict:
    _ensure_manages_keys(principal, agency_id)
    agency = await get_agency(principal, agency_id)
    allowed = AGENCY_SCOPES[Role(agency["kind"])]
    wanted = set(allowed if scopes is None else scopes)
    if unknown := wanted - allowed:
        raise InvalidField("scopes", f"not available to a {agency['kind']} agency: {', '.join(sorted(unknown))}")
    if principal.is_agency and not wanted <= principal.scopes:
        raise Forbidden("不能签发超出自身权限的密钥 (a key cannot grant more than the caller's own scopes)")
    issued = new_api_key()
    key = ApiKey(agency=agency_id, prefix=issued.prefix, digest=issued.digest, scopes=sorted(wanted), label=label)
    await key.save()
    return {**key.to_dict(), "key": issued.key}


async def list_api_keys(principal: Principal, agency_id: int) -> list[dict]:
    _ensure_manages_keys(principal, agency_id)
    return await ApiKey.select().where(ApiKey.agency == agency_id).order_by(ApiKey.id)


async def revoke_api_key(principal: Principal, agency_id: int, key_id: int) -> None:
    _ensure_manages_keys(principal, agency_id)
    # Revoking twice is harmless: the first revocation time is kept.
    found = await ApiKey.select(ApiKey.id).where((ApiKey.id == key_id) & (ApiKey.agency == agency_id)).first()
    if found is None:
        raise NotFound()
    await ApiKey.update({ApiKey.revoked_at: datetime.now(timezone.utc)}).where(
        (ApiKey.id == key_id) & ApiKey.revoked_at.is_null()
    )


async def create_admin(*, phone: str, password: str, display_name: str = "管理员") -> dict:
    return await register_user(role=Role.ADMIN, phone=phone, password=password, display_name=display_name)
