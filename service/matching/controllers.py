from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from service.accounts.guards import Role, principal_of, requires
from service.database import jsonb
from service.matching import services
from service.matching.schemas import (
    JobRequest,
    JobRequestCreate,
    JobRequestUpdate,
    MatchExplanation,
    MatchPage,
    Understanding,
    UnderstandRequest,
)
from service.schemas import PathId
from service.taxonomy.services import Taxonomy

OWNERS = (Role.EMPLOYER, Role.HOUSEKEEPING, Role.ADMIN)


def present(row: dict, taxonomy: Taxonomy) -> JobRequest:
    return msgspec.convert(
        {
            **row,
            "language_names": taxonomy.language_refs(row["languages"]),
            "employer_id": row["employer"],
            "agency_id": row["agency"],
            "understood": jsonb(row["understood"]),
            "effective_skills": services.effective_skills(row),
            "location": {"lat": row["lat"], "lon": row["lon"]} if row["lat"] is not None else None,
            "required_certificate": services.required_certificate_view(row, taxonomy),
            "service_period": services.service_period(row),
            "status": services.effective_status(row),
        },
        JobRequest,
        strict=False,
    )


def _builtins(data: msgspec.Struct) -> dict:
    """The body as plain values, dates kept as dates, unset fields left out."""
    return msgspec.to_builtins(data, builtin_types=(date,))


class JobRequestController(Controller):
    path = "/api/v1/job-requests"
    tags = ["job requests"]

    @post(
        "/",
        operation_id="createJobRequest",
        guards=[requires(Role.EMPLOYER, Role.HOUSEKEEPING, scope="jobs:write")],
        summary="发布用工需求（雇主，或家政企业代雇主）(post a job request)",
    )
    async def create(self, request: Request, data: JSONBody[JobRequestCreate]) -> JobRequest:
        state = request.app.state
        row = await services.create_request(
            principal_of(request), _builtins(data), taxonomy=state.taxonomy, vocabulary=state.vocabulary
        )
        return present(row, request.app.state.taxonomy)

    @post(
        "/understand",
        status_code=HTTP_200_OK,
        operation_id="understandJobText",
        guards=[requires(*OWNERS, scope="jobs:read")],
        summary="预览：自由文本理解为哪些技能和条件（不保存）(preview what free text is understood as; nothing saved)",
    )
    async def understand(self, request: Request, data: JSONBody[UnderstandRequest]) -> Understanding:
        understood = services.understand(request.app.state.vocabulary, data.skills_text, data.household_notes)
        return msgspec.convert(understood, Understanding, strict=False)

    @get(
        "/{request_id:int}",
        operation_id="getJobRequest",
        guards=[requires(*OWNERS, scope="jobs:read")],
        summary="查看需求及其理解结果 (read a job request and what was understood)",
    )
    async def read(self, request: Request, request_id: PathId) -> JobRequest:
        return present(await services.get_request(principal_of(request), request_id), request.app.state.taxonomy)

    @patch(
        "/{request_id:int}",
        operation_id="updateJobRequest",
        guards=[requires(*OWNERS, scope="jobs:write")],
        summary="修改需求（仅限进行中）(change an open job request)",
    )
    async def update(self, request: Request, request_id: PathId, data: JSONBody[JobRequestUpdate]) -> JobRequest:
        changes = _builtins(data)
        state = request.app.state
        row = await services.update_request(
            principal_of(request), request_id, changes, taxonomy=state.taxonomy, vocabulary=state.vocabulary
        )
        return present(row, request.app.state.taxonomy)

    @post(
        "/{request_id:int}/cancel",
        status_code=HTTP_200_OK,
        operation_id="cancelJobRequest",
        guards=[requires(*OWNERS, scope="jobs:write")],
        summary="取消需求 (cancel a job request)",
    )
    async def cancel(self, request: Request, request_id: PathId) -> JobRequest:
        return present(await services.cancel_request(principal_of(request), request_id), request.app.state.taxonomy)

    @get(
        "/{request_id:int}/explanations/{worker_id:int}",
        operation_id="explainWorkerForRequest",
        guards=[requires(*OWNERS, scope="jobs:read")],
        summary="某位服务员为何未出现在匹配结果中：未满足的硬性条件 (why a worker is not shown: the request's "
        "hard conditions she does not meet; nothing else of hers)",
    )
    async def explanation(self, request: Request, request_id: PathId, worker_id: PathId) -> MatchExplanation:
        data = await services.explain_worker(
            principal_of(request), request_id, worker_id, index=request.app.state.matcher
        )
        return msgspec.convert(data, MatchExplanation, strict=False)

    @get(
        "/{request_id:int}/matches",
        operation_id="listMatches",
        guards=[requires(*OWNERS, scope="jobs:read")],
        summary="匹配结果：排序、每项得分与理由 (ranked matches, each with its reasons)",
    )
    async def matches(
        self,
        request: Request,
        request_id: PathId,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1000)] = 0,
    ) -> MatchPage:
        state = request.app.state
        page = await services.find_matches(
            principal_of(request),
            request_id,
            limit=limit,
            offset=offset,
            index=state.matcher,
            cache=request.app.stores.get("matches"),
        )
        return msgspec.convert(page, MatchPage, strict=False)
