"""Routes of the privacy slice: audited reads, her export and erasure, the bureau's log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_200_OK

from service.accounts.guards import Role, principal_of, requires
from service.privacy import audit, services
from service.privacy.audit import SensitiveField
from service.privacy.schemas import (
    ErasureStatus,
    FieldName,
    PersonalDataExport,
    PersonalDataReadOut,
    PersonalDataReadPage,
    SensitiveData,
)
from service.schemas import LINE, MAX_ID, PathId

Purpose = Annotated[
    str,
    QueryParameter(
        max_length=200,
        pattern=LINE,
        description="读取目的，记入审计日志 (why it is read; kept in the audit log)",
    ),
]


def _route(request: Request) -> str:
    return f"{request.method} {request.url.path}"


class PrivacyController(Controller):
    path = "/api/v1/workers/{worker_id:int}"
    tags = ["privacy"]

    @get(
        "/personal-data",
        operation_id="readPersonalData",
        summary="读取完整身份证号或手机号：本人、所属机构、管理员；每次读取记入审计日志 "
        "(her full ID number or phone, for herself, her agency or the bureau; every read is logged)",
        guards=[requires(Role.WORKER, Role.HOUSEKEEPING, Role.ADMIN, scope="workers:read")],
    )
    async def read(
        self,
        request: Request,
        worker_id: PathId,
        purpose: Purpose = "",
        fields: Annotated[
            list[FieldName] | None, QueryParameter(description="id_number 和/或 phone (id_number and/or phone)")
        ] = None,
    ) -> Response[SensitiveData]:
        wanted = [SensitiveField(f) for f in fields or [] if f in ("id_number", "phone")]
        row = await services.reveal(
            principal_of(request),
            worker_id,
            wanted,
            purpose=purpose,
            route=_route(request),
            cipher=request.app.state.cipher,
        )
        return Response(msgspec.convert(row, SensitiveData), headers={"Cache-Control": "no-store"})

    @get(
        "/export",
        operation_id="exportMyData",
        summary="下载本人全部个人信息（JSON），含谁读取过 (download all her data as JSON, with who read it; "
        "PIPL Art. 45)",
        guards=[requires(Role.WORKER)],
    )
    async def export(self, request: Request, worker_id: PathId) -> Response[PersonalDataExport]:
        data = await services.export(
            principal_of(request), worker_id, route=_route(request), cipher=request.app.state.cipher
        )
        return Response(
            msgspec.convert(data, PersonalDataExport, strict=False),
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": f'attachment; filename="personal-data-{worker_id}.json"',
            },
        )

    @post(
        "/erasure",
        status_code=HTTP_200_OK,
        operation_id="requestErasure",
        summary="申请删除个人信息：立即撤回授权、不再展示，保存期满后删除 (ask for erasure: consent is "
        "withdrawn at once; personal fields are erased after the retention period; PIPL Art. 47)",
        guards=[requires(Role.WORKER)],
    )
    async def request_erasure(self, request: Request, worker_id: PathId) -> ErasureStatus:
        row = await services.request_erasure(
            principal_of(request), worker_id, retention_days=request.app.state.settings.erasure_retention_days
        )
        return msgspec.convert(row, ErasureStatus)

    @get(
        "/erasure",
        operation_id="getErasure",
        summary="删除申请的状态 (the state of her erasure request)",
        guards=[requires(Role.WORKER)],
    )
    async def erasure(self, request: Request, worker_id: PathId) -> ErasureStatus:
        row = await services.erasure_status(
            principal_of(request), worker_id, retention_days=request.app.state.settings.erasure_retention_days
        )
        return msgspec.convert(row, ErasureStatus)


class AuditController(Controller):
    path = "/api/v1/bureau/personal-data-reads"
    tags = ["bureau: privacy"]

    @get(
        "/",
        operation_id="listPersonalDataReads",
        summary="敏感个人信息读取日志（管理员，只读）(the log of sensitive personal-data reads; admin, read-only)",
        guards=[requires(Role.ADMIN)],
    )
    async def list_reads(
        self,
        request: Request,
        worker_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
        user_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
        agency_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
        field: Annotated[FieldName | None, QueryParameter()] = None,
        since: Annotated[datetime | None, QueryParameter()] = None,
        until: Annotated[datetime | None, QueryParameter()] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> PersonalDataReadPage:
        rows, total = await audit.list_reads(
            principal_of(request),
            worker_id=worker_id,
            user_id=user_id,
            agency_id=agency_id,
            field=field,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
        return PersonalDataReadPage(
            total=total,
            limit=limit,
            offset=offset,
            items=[msgspec.convert(r, PersonalDataReadOut) for r in rows],
        )
