"""Evaluation institutions' registrations (备案): which occupations each may certify, and when.

The bureau (admin) keeps them. A certificate of a kind that needs a registration
(职业技能等级证书, 专项职业能力证书) pushed outside it, by occupation or by date, is kept but
not verified: it waits for the bureau, and the subsidy-integrity check flags it. Refusing
it would lose the evidence of what the institution did; accepting it as verified would
let an unregistered institution's certificates count.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from asyncpg.exceptions import UniqueViolationError

from service.accounts.guards import Principal, Role
from service.accounts.tables import Agency
from service.errors import Conflict, Forbidden, InvalidField, NotFound, found
from service.registry.tables import EvaluatorRegistration
from service.taxonomy.services import Taxonomy

OUT_OF_SCOPE_REASON = (
    "评价机构在发证日未备案该职业，待人社局核验 (the institution was not registered for this occupation "
    "on the issue date; the bureau decides)"
)


async def registered_for(agency_id: int, occupation_code: str, on: date) -> bool:
    return await EvaluatorRegistration.exists().where(
        (EvaluatorRegistration.agency == agency_id)
        & (EvaluatorRegistration.status == "active")
        & (EvaluatorRegistration.valid_from <= on)
        & (EvaluatorRegistration.valid_until >= on)
        & EvaluatorRegistration.occupation_codes.any(occupation_code)
    )


def _out(row: dict) -> dict:
    return {**row, "agency_id": row["agency"]}


def _check_occupations(codes: list[str], taxonomy: Taxonomy) -> list[str]:
    unknown = [c for c in codes if c not in taxonomy.occupations]
    if unknown:
        raise InvalidField("occupation_codes", f"未知的职业编码 (unknown occupation codes): {', '.join(unknown)}")
    return list(dict.fromkeys(codes))


async def create_registration(principal: Principal, data: dict[str, Any], *, taxonomy: Taxonomy) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    if not await Agency.exists().where((Agency.id == data["agency_id"]) & (Agency.kind == Role.EVALUATION.value)):
        raise InvalidField("agency_id", "不是已登记的评价机构 (not a registered evaluation institution)")
    if data["valid_until"] < data["valid_from"]:
        raise InvalidField("valid_until", "不能早于 valid_from (must not be before valid_from)")
    row = EvaluatorRegistration(
        agency=data["agency_id"],
        registration_no=data["registration_no"],
        valid_from=data["valid_from"],
        valid_until=data["valid_until"],
        occupation_codes=_check_occupations(data["occupation_codes"], taxonomy),
        decided_by=principal.user_id,
    )
    try:
        await row.save()
    except UniqueViolationError:
        raise Conflict(
            "备案编号已存在 (this registration number exists)", fields={"registration_no": "already exists"}
        ) from None
    return _out(row.to_dict())


async def update_registration(
    principal: Principal, registration_id: int, changes: dict[str, Any], *, taxonomy: Taxonomy
) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    row = await EvaluatorRegistration.select().where(EvaluatorRegistration.id == registration_id).first()
    if row is None:
        raise NotFound("备案不存在 (no such registration)")
    values: dict[Any, Any] = {
        EvaluatorRegistration.decided_by: principal.user_id,
        EvaluatorRegistration.updated_at: datetime.now(timezone.utc),
    }
    if "status" in changes:
        values[EvaluatorRegistration.status] = changes["status"]
    if "valid_until" in changes:
        if changes["valid_until"] < row["valid_from"]:
            raise InvalidField("valid_until", "不能早于 valid_from (must not be before valid_from)")
        values[EvaluatorRegistration.valid_until] = changes["valid_until"]
    if "occupation_codes" in changes:
        values[EvaluatorRegistration.occupation_codes] = _check_occupations(changes["occupation_codes"], taxonomy)
    await EvaluatorRegistration.update(values).where(EvaluatorRegistration.id == registration_id)
    return _out(found(await EvaluatorRegistration.select().where(EvaluatorRegistration.id == registration_id).first()))


async def list_registrations(principal: Principal, agency_id: int | None = None) -> list[dict]:
    """Admins see all (or one agency's); an evaluation institution sees only its own."""
    query = EvaluatorRegistration.select().order_by(EvaluatorRegistration.id)
    if principal.role == Role.EVALUATION:
        query = query.where(EvaluatorRegistration.agency == principal.agency_id)
    elif not principal.is_admin:
        raise Forbidden()
    elif agency_id is not None:
        query = query.where(EvaluatorRegistration.agency == agency_id)
    return [_out(r) for r in await query]
