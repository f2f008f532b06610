"""Account and agency logic: phone codes, registration, login, password reset, agencies
and their API keys."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from enum import StrEnum

import anyio
from asyncpg.exceptions import UniqueViolationError

from service.accounts.callers import forget_callers
from service.accounts.guards import AGENCY_SCOPES, Principal, Role
from service.accounts.passwords import check_password
from service.accounts.sms import SmsError, SmsSender
from service.accounts.tables import Agency, ApiKey, PhoneCode, User
from service.errors import Conflict, Forbidden, InvalidField, NotFound, Unauthorized
from service.security import (
    digests_match,
    dummy_password_hash,
    hash_password,
    issue_token,
    new_api_key,
    new_phone_code,
    phone_code_digest,
    verify_password,
)

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=5)
CODE_TRIES = 5
WRONG_CODE = "验证码错误或已失效，请重新获取 (the code is wrong or no longer valid; request a new one)"


class CodePurpose(StrEnum):
    REGISTER = "register"
    CLAIM = "claim"
    RESET_PASSWORD = "reset_password"


async def new_phone_code_message(*, phone: str, purpose: CodePurpose, secret: str) -> str | None:
    """Store a new code for `purpose` and `phone` (it replaces any earlier one) and answer
    the text to send, or None when nothing is to be sent.

    A registration code goes to any phone; a code to claim a record or reset a password
    only to a phone with an account (of a worker, to claim). Both paths do the same
    database work and the sending happens after the answer, so neither the answer nor its
    timing tells whether the phone has an account."""
    exists = User.exists().where(User.phone == phone)
    if purpose == CodePurpose.CLAIM:
        exists = exists.where(User.role == Role.WORKER.value)
    deliver = purpose == CodePurpose.REGISTER or await exists
    code = new_phone_code()
    now = datetime.now(timezone.utc)
    await PhoneCode(
        phone=phone,
        purpose=purpose.value,
        created_at=now,
        expires_at=now + CODE_TTL,
        code_digest=phone_code_digest(secret, phone=phone, purpose=purpose.value, code=code),
    ).save()
    if not deliver:
        return None
    minutes = int(CODE_TTL.total_seconds() // 60)
    return f"【南粤家政】您的验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。"


async def deliver_sms(sender: SmsSender, phone: str, message: str) -> None:
    try:
        await sender.send(phone, message)
    except SmsError:
        log.exception("sending a phone code failed")


async def use_phone_code(*, phone: str, purpose: CodePurpose, code: str, secret: str) -> None:
    """Accept `code` once if it is the newest code for `phone` and `purpose`, unexpired,
    unused and tried fewer than `CODE_TRIES` times; otherwise 422 naming `phone_code`.
    Each try is counted atomically, so parallel guesses cannot exceed the limit."""
    newest = (
        await PhoneCode.select(PhoneCode.id)
        .where((PhoneCode.phone == phone) & (PhoneCode.purpose == purpose.value))
        .order_by(PhoneCode.id, ascending=False)
        .first()
    )
    if newest is None:
        raise InvalidField("phone_code", WRONG_CODE)
    now = datetime.now(timezone.utc)
    tried = (
        await PhoneCode.update({PhoneCode.attempts: PhoneCode.attempts + 1})
        .where(
            (PhoneCode.id == newest["id"])
            & PhoneCode.used_at.is_null()
            & (PhoneCode.expires_at > now)
            & (PhoneCode.attempts < CODE_TRIES)
        )
        .returning(PhoneCode.code_digest)
    )
    expected = phone_code_digest(secret, phone=phone, purpose=purpose.value, code=code)
    if not tried or not digests_match(tried[0]["code_digest"], expected):
        raise InvalidField("phone_code", WRONG_CODE)
    used = (
        await PhoneCode.update({PhoneCode.used_at: now})
        .where((PhoneCode.id == newest["id"]) & PhoneCode.used_at.is_null())
        .returning(PhoneCode.id)
    )
    if not used:  # a parallel request used it first
        raise InvalidField("phone_code", WRONG_CODE)


async def use_own_phone_code(user_id: int, *, purpose: CodePurpose, code: str, secret: str) -> None:
    """Check a code sent to the phone of the caller's own account."""
    account = await User.select(User.phone).where(User.id == user_id).first()
    if account is None:
        raise Unauthorized()
    await use_phone_code(phone=account["phone"], purpose=purpose, code=code, secret=secret)


async def register_account(
    *, role: Role, phone: str, password: str, display_name: str, phone_code: str, secret: str
) -> dict:
    """Register with a code sent to the phone. Only a caller who holds a valid code learns
    that the phone already has an account."""
    check_password(password, phone=phone)
    await use_phone_code(phone=phone, purpose=CodePurpose.REGISTER, code=phone_code, secret=secret)
    return await register_user(role=role, phone=phone, password=password, display_name=display_name)


WRONG_LOGIN = "手机号或密码错误 (wrong phone number or password)"


async def reset_password(*, phone: str, phone_code: str, new_password: str, secret: str) -> None:
    """Set a new password with a code sent to the phone; tokens issued before stop working."""
    check_password(new_password, phone=phone, field="new_password")
    await use_phone_code(phone=phone, purpose=CodePurpose.RESET_PASSWORD, code=phone_code, secret=secret)
    password_hash = await anyio.to_thread.run_sync(hash_password, new_password)
    updated = (
        await User.update({User.password_hash: password_hash, User.password_changed_at: datetime.now(timezone.utc)})
        .where(User.phone == phone)
        .returning(User.id)
    )
    forget_callers()
    if not updated:  # codes are only sent to registered phones; the account went away since
        raise InvalidField("phone_code", WRONG_CODE)


async def register_user(*, role: Role, phone: str, password: str, display_name: str) -> dict:
    """Create the account (the phone is already proven, or an admin is created locally)."""
    check_password(password, phone=phone)
    password_hash = await anyio.to_thread.run_sync(hash_password, password)
    user = User(phone=phone, password_hash=password_hash, role=role.value, display_name=display_name)
    try:
        await user.save()
    except UniqueViolationError:
        raise Conflict(
            "该手机号已注册 (this phone number is already registered)", fields={"phone": "already registered"}
        ) from None
    return user.to_dict()


async def get_user(user_id: int) -> dict:
    row = await User.select().where(User.id == user_id).first()
    if row is None:
        raise NotFound()
    return row


async def login(*, phone: str, password: str, secret: str, ttl_seconds: int) -> str:
    columns = (User.id, User.role, User.password_hash, User.password_changed_at, User.is_active)
    row = await User.select(*columns).where(User.phone == phone).first()
    # Verify against a dummy hash when the phone is unknown, so timing does not reveal it;
    # argon2 is deliberately slow, so it runs off the event loop (the dummy hash is made there too).
    valid = await anyio.to_thread.run_sync(
        lambda: verify_password(row["password_hash"] if row else dummy_password_hash(), password)
    )
    if row is None or not valid or not row["is_active"]:
        raise Unauthorized(WRONG_LOGIN)
    # The password may have been reset while it was being checked: then the one checked is
    # no longer the account's. The token also names it, so a reset after this read kills it.
    current = await User.select(User.password_changed_at).where(User.id == row["id"]).first()
    if current is None or current["password_changed_at"] != row["password_changed_at"]:
        raise Unauthorized(WRONG_LOGIN)
    return issue_token(
        user_id=row["id"],
        role=row["role"],
        secret=secret,
        ttl_seconds=ttl_seconds,
        password=row["password_changed_at"],
    )


async def create_agency(*, name: str, kind: str, district_code: str, credit_code: str) -> dict:
    agency = Agency(name=name, kind=kind, district_code=district_code, credit_code=credit_code)
    try:
        await agency.save()
    except UniqueViolationError:
        raise Conflict(
            "该统一社会信用代码已登记 (this credit code is already registered)",
            fields={"credit_code": "already registered"},
        ) from None
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
    forget_callers()


async def create_admin(*, phone: str, password: str, display_name: str = "管理员") -> dict:
    return await register_user(role=Role.ADMIN, phone=phone, password=password, display_name=display_name)
