from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from service.schemas import Output, Page

FieldName = Literal["id_number", "phone", "background_check", "health_check"]


class SensitiveData(Output, kw_only=True):
    """What was asked for, in full; every field read is logged with the purpose."""

    worker_id: int
    id_number: str | None
    phone: str | None
    purpose: str


class PersonalDataReadOut(Output, kw_only=True):
    id: int
    at: datetime
    actor_role: str
    user_id: int | None
    agency_id: int | None
    api_key_id: int | None
    worker_id: int
    field: FieldName
    purpose: str
    route: str
    request_id: str


class PersonalDataReadPage(Page, kw_only=True):
    items: list[PersonalDataReadOut]


class ReadOfMyData(Output, kw_only=True):
    id: int
    at: datetime
    actor_role: str
    user_id: int | None
    agency_id: int | None
    agency_name: str | None
    field: FieldName
    purpose: str
    route: str


class PersonalDataExport(Output, kw_only=True):
    """Everything the registry holds about her (PIPL Art. 45), and who read it."""

    generated_at: datetime
    worker: dict[str, Any]
    records: dict[str, list[dict[str, Any]]]
    reads: list[ReadOfMyData]


class ErasureStatus(Output, kw_only=True):
    worker_id: int
    requested_at: datetime | None
    erase_after: datetime | None
    erased_at: datetime | None
