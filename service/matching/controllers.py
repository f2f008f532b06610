from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, MediaType, Request, Response, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from service.accounts.guards import Role, principal_of, requires
from service.database import jsonb
from service.idempotency import idempotent
from service.matching import services
from service.matching.schemas import (
    InterestedWorker,
    InterestOut,
    JobRequest,
    JobRequestCreate,
    JobRequestUpdate,
    MatchExplanation,
    MatchPage,
    OpenRequestPage,
    Understanding,
    UnderstandRequest,
)
from service.schemas import PathId
from service.taxonomy.rules import CATEGORY_NAMES
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
    ) -> Response[MatchPage]:
        state = request.app.state
        body = await services.match_page_json(
            principal_of(request),
            request_id,
            limit=limit,
            offset=offset,
            index=state.matcher,
            cache=request.app.stores.get("matches"),
        )
        # Already a MatchPage's JSON (a cached page is served as stored, not decoded again).
        # The annotation keeps MatchPage in the OpenAPI document; the body is its bytes.
        return Response(body, media_type=MediaType.JSON)  # type: ignore[arg-type]

    @get(
        "/{request_id:int}/interests",
        operation_id="listInterests",
        guards=[requires(*OWNERS, scope="jobs:read")],
        summary="表示有意向的家政服务员（目前可见者）(workers who said they are interested, if visible now)",
    )
    async def interests(self, request: Request, request_id: PathId) -> list[InterestedWorker]:
        rows = await services.list_interests(principal_of(request), request_id)
        return [msgspec.convert(r, InterestedWorker, strict=False) for r in rows]

    @post(
        "/{request_id:int}/interest",
        status_code=HTTP_200_OK,
        operation_id="expressInterest",
        guards=[requires(Role.WORKER)],
        summary="家政服务员表示有意向（可重复，效果相同）(she says she is interested; saying it again changes nothing)",
    )
    async def express_interest(self, request: Request, request_id: PathId) -> Response[InterestOut]:
        async def act():
            row = await services.express_interest(principal_of(request), request_id, index=request.app.state.matcher)
            return msgspec.convert(row, InterestOut, strict=False)

        return await idempotent(request, act)

    @delete(
        "/{request_id:int}/interest",
        status_code=HTTP_204_NO_CONTENT,
        operation_id="withdrawInterest",
        guards=[requires(Role.WORKER)],
        summary="撤回意向（可重复）(she withdraws her interest; withdrawing again is fine)",
    )
    async def withdraw_interest(self, request: Request, request_id: PathId) -> None:
        await services.withdraw_interest(principal_of(request), request_id, index=request.app.state.matcher)


def present_open_request(row: dict, taxonomy: Taxonomy) -> dict:
    """A request as a worker sees it: no household, notes, free text or coordinates."""
    return {
        "id": row["id"],
        "category": row["category"],
        "category_name": CATEGORY_NAMES.get(row["category"], row["category"]),
        "district": {"code": row["district_code"], "name_zh": taxonomy.district_name(row["district_code"])},
        "search_scope": row["search_scope"],
        "start_date": row["start_date"],
        "end_date": row["end_date"],
        "hours_per_week": row["hours_per_week"],
        "live_in": row["live_in"],
        "budget_min": row["budget_min"],
        "budget_max": row["budget_max"],
        "budget_unit": row["budget_unit"],
        "skills": [
            {"code": c, "name_zh": taxonomy.skills.get(c, {}).get("name_zh", c)} for c in services.effective_skills(row)
        ],
        "languages": taxonomy.language_refs(list(row["languages"])),
        "required_certificate": None
        if row["required_occupation_code"] is None
        else {
            "occupation_code": row["required_occupation_code"],
            "work_type": row.get("required_work_type"),
            "min_level": row["required_min_level"],
        },
        "background_check_required": row["background_check_required"],
    }


def present_open_requests(page: dict, taxonomy: Taxonomy) -> OpenRequestPage:
    items = [item | {"request": present_open_request(item["request"], taxonomy)} for item in page["items"]]
    return msgspec.convert(page | {"items": items}, OpenRequestPage, strict=False)


class WorkerSideController(Controller):
    tags = ["job requests"]

    @get(
        "/api/v1/workers/me/open-requests",
        operation_id="listMyOpenRequests",
        guards=[requires(Role.WORKER)],
        summary="适合我的招聘需求：按薪资、距离、技能、开工时间排序并说明 (open requests she fits, ranked and explained "
        "from her side)",
    )
    async def open_requests(
        self,
        request: Request,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1000)] = 0,
        include_near: Annotated[
            bool,
            QueryParameter(
                description="也列出只差证书、体检或背景审查的需求 (also those she lacks only a credential for)"
            ),
        ] = False,
    ) -> OpenRequestPage:
        page = await services.open_requests_for_worker(
            principal_of(request),
            index=request.app.state.matcher,
            limit=limit,
            offset=offset,
            include_near=include_near,
        )
        return present_open_requests(page, request.app.state.taxonomy)
