"""Recording and reading the log of sensitive personal-information reads.

`record_reads` is called by every code path that hands out a worker's full ID number,
phone, background-check detail or health results, in the same request, before the answer
leaves. The log is append-only: nothing here (nor in the API) updates or deletes a row,
and PostgreSQL's trigger `personal_data_read_append_only` refuses it anyway.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from enum import StrEnum

from piccolo.columns.combination import Where

from service.accounts.guards import Principal
from service.errors import Forbidden
from service.observability import request_id_var
from service.privacy.tables import PersonalDataRead


class SensitiveField(StrEnum):
    ID_NUMBER = "id_number"
    PHONE = "phone"
    BACKGROUND_CHECK = "background_check"
    HEALTH_CHECK = "health_check"


FIELD_NAMES = {
    SensitiveField.ID_NUMBER: "身份证号 (ID number)",
    SensitiveField.PHONE: "手机号 (phone)",
    SensitiveField.BACKGROUND_CHECK: "背景审查 (background check)",
    SensitiveField.HEALTH_CHECK: "体检结果 (health check)",
}


# Whoever wants to know which reads a request logged (the tests' scan of every response)
# sets a list here around the request; `record_reads` appends to it.
reads_in_request: ContextVar[list[tuple[int, str]] | None] = ContextVar("reads_in_request", default=None)


async def record_reads(
    principal: Principal, worker_id: int, fields: list[SensitiveField], *, purpose: str, route: str
) -> None:
    """One row per field read, all in one statement."""
    if not fields:
        return
    rows = [
        PersonalDataRead(
            actor_role=str(principal.role or "anonymous"),
            user_id=principal.user_id,
            agency_id=principal.agency_id,
            api_key_id=principal.api_key_id,
            worker_id=worker_id,
            field=field.value,
            purpose=purpose[:200],
            route=route[:200],
            request_id=request_id_var.get()[:64],
        )
        for field in dict.fromkeys(fields)
    ]
    await PersonalDataRead.insert(*rows)
    if (seen := reads_in_request.get()) is not None:
        seen.extend((worker_id, field.value) for field in fields)


async def list_reads(
    principal: Principal,
    *,
    worker_id: int | None = None,
    user_id: int | None = None,
    agency_id: int | None = None,
    field: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict], int]:
    """The bureau's view of the log, newest first, filtered."""
    if not principal.is_admin:
        raise Forbidden()
    where: list[Where] = []
    if worker_id is not None:
        where.append(PersonalDataRead.worker_id == worker_id)
    if user_id is not None:
        where.append(PersonalDataRead.user_id == user_id)
    if agency_id is not None:
        where.append(PersonalDataRead.agency_id == agency_id)
    if field is not None:
        where.append(PersonalDataRead.field == field)
    if since is not None:
        where.append(PersonalDataRead.at >= since)
    if until is not None:
        where.append(PersonalDataRead.at < until)

    def filtered(query):
        for clause in where:
            query = query.where(clause)
        return query

    rows = await filtered(
        PersonalDataRead.select().order_by(PersonalDataRead.id, ascending=False).limit(limit).offset(offset)
    )
    return rows, await filtered(PersonalDataRead.count())


async def reads_about(worker_id: int) -> list[dict]:
    """Every read of her data, oldest first, with the reading agency's name (her export)."""
    return await PersonalDataRead.raw(
        "SELECT r.id, r.at, r.actor_role, r.user_id, r.agency_id, a.name AS agency_name, r.field, r.purpose, r.route "
        "FROM personal_data_read r LEFT JOIN agency a ON a.id = r.agency_id WHERE r.worker_id = {} ORDER BY r.id",
        worker_id,
    )
