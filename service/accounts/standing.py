"""Whether an employer may post job requests and make offers now. The bureau suspends one
for a serious complaint it upheld (the employment domain writes the rows); the matching
and employment domains ask here before a request is posted or reopened and before an offer."""

from __future__ import annotations

from service.accounts.guards import Principal, Role
from service.accounts.tables import EmployerSuspension
from service.errors import Forbidden


async def active_suspension(*, user_id: int | None, agency_id: int | None) -> dict | None:
    """The employer's suspension in force, if any: a household by its account, else the agency."""
    in_force = EmployerSuspension.lifted_at.is_null()
    if user_id is not None:
        query = EmployerSuspension.select().where(in_force & (EmployerSuspension.user == user_id))
    elif agency_id is not None:
        query = EmployerSuspension.select().where(
            in_force & (EmployerSuspension.agency == agency_id) & EmployerSuspension.user.is_null()
        )
    else:
        return None
    return await query.first()


async def ensure_may_hire(*, user_id: int | None, agency_id: int | None) -> None:
    """403 with the bureau's reason while the employer is suspended."""
    row = await active_suspension(user_id=user_id, agency_id=agency_id)
    if row is not None:
        raise Forbidden(
            f"该雇主已被人社部门暂停发布需求和发出邀约，原因：{row['reason']}；可对所涉投诉申诉 "
            "(this employer is suspended from posting requests and making offers; the complaint may be appealed)"
        )


async def ensure_principal_may_hire(principal: Principal) -> None:
    if principal.role == Role.EMPLOYER:
        await ensure_may_hire(user_id=principal.user_id, agency_id=None)
    elif principal.role == Role.HOUSEKEEPING:
        await ensure_may_hire(user_id=None, agency_id=principal.agency_id)
