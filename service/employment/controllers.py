from __future__ import annotations

from datetime import timedelta

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import JSONBody

from service.accounts.guards import Role, principal_of, requires
from service.employment import services
from service.employment.schemas import (
    AppealCreate,
    AppealDecision,
    ComplaintCreate,
    ComplaintDecision,
    ComplaintOut,
    EmployerSuspensionOut,
    Integrity,
    IntegritySummary,
    OfferCreate,
    OfferOut,
    PlacementEnd,
    PlacementOut,
    PlacementResign,
    PlacementTerminate,
    RequestReopen,
    ReviewCreate,
    ReviewOut,
    ReviewUpdate,
    Staffing,
    SuspensionCreate,
    SuspensionLift,
)
from service.idempotency import idempotent
from service.matching.schemas import MatchExplanation
from service.schemas import PathId

OWNERS = (Role.EMPLOYER, Role.HOUSEKEEPING, Role.ADMIN)
PARTIES = (Role.EMPLOYER, Role.HOUSEKEEPING, Role.WORKER, Role.ADMIN)


def offer_out(row: dict) -> OfferOut:
    return msgspec.convert({**row, "request_id": row["request"], "worker_id": row["worker"]}, OfferOut, strict=False)


def placement_out(row: dict) -> PlacementOut:
    return msgspec.convert(
        {
            **row,
            "offer_id": row["offer"],
            "request_id": row["request"],
            "worker_id": row["worker"],
            "employer_id": row["employer"],
            "agency_id": row["agency"],
        },
        PlacementOut,
        strict=False,
    )


def review_out(row: dict) -> ReviewOut:
    return msgspec.convert({**row, "placement_id": row["placement"]}, ReviewOut, strict=False)


def complaint_out(row: dict) -> ComplaintOut:
    return msgspec.convert(
        {**row, "placement_id": row["placement"], "worker_id": row["worker"]}, ComplaintOut, strict=False
    )


class OfferController(Controller):
    tags = ["employment"]

    @post(
        "/api/v1/job-requests/{request_id:int}/offers",
        operation_id="createOffer",
        guards=[requires(*OWNERS, scope="jobs:write")],
        summary="向匹配到的家政服务员发出邀约 (offer the job to a matched worker)",
    )
    async def create(self, request: Request, request_id: PathId, data: JSONBody[OfferCreate]) -> Response[OfferOut]:
        settings = request.app.state.settings

        async def act():
            row = await services.make_offer(
                principal_of(request),
                request_id,
                worker_id=data.worker_id,
                wage=data.wage,
                message=data.message,
                ttl=timedelta(hours=settings.offer_ttl_hours),
            )
            return offer_out(row)

        return await idempotent(request, act, status_code=201)

    @get(
        "/api/v1/offers/{offer_id:int}",
        operation_id="getOffer",
        guards=[requires(*PARTIES, scope="jobs:read")],
        summary="查看邀约 (read an offer)",
    )
    async def read(self, request: Request, offer_id: PathId) -> OfferOut:
        return offer_out(await services.get_offer(principal_of(request), offer_id))

    @get(
        "/api/v1/offers/{offer_id:int}/explanation",
        operation_id="explainMyRanking",
        guards=[requires(Role.WORKER)],
        summary="我为何排在这个位置：按当前算法重新计算的排名与各项得分 (why I ranked where I did for the "
        "request I was offered: my place and each part of my score, computed now; PIPL Art. 24)",
    )
    async def explanation(self, request: Request, offer_id: PathId) -> MatchExplanation:
        data = await services.explain_offer(principal_of(request), offer_id, index=request.app.state.matcher)
        return msgspec.convert(data, MatchExplanation, strict=False)

    @get(
        "/api/v1/offers",
        operation_id="listMyOffers",
        guards=[requires(Role.WORKER)],
        summary="我收到的邀约 (offers made to me)",
    )
    async def mine(self, request: Request) -> list[OfferOut]:
        return [offer_out(r) for r in await services.list_my_offers(principal_of(request))]

    @post(
        "/api/v1/offers/{offer_id:int}/accept",
        operation_id="acceptOffer",
        guards=[requires(Role.WORKER)],
        summary="接受邀约，生成服务记录 (accept: a placement is created)",
    )
    async def accept(self, request: Request, offer_id: PathId) -> Response[PlacementOut]:
        async def act():
            return placement_out(await services.accept_offer(principal_of(request), offer_id))

        return await idempotent(request, act, status_code=201)

    @post(
        "/api/v1/offers/{offer_id:int}/decline",
        operation_id="declineOffer",
        guards=[requires(Role.WORKER)],
        summary="拒绝邀约 (decline)",
    )
    async def decline(self, request: Request, offer_id: PathId) -> Response[OfferOut]:
        async def act():
            return offer_out(await services.decline_offer(principal_of(request), offer_id))

        return await idempotent(request, act)

    @post(
        "/api/v1/offers/{offer_id:int}/withdraw",
        operation_id="withdrawOffer",
        guards=[requires(*OWNERS, scope="jobs:write")],
        summary="撤回邀约（接受之前）(withdraw, until accepted)",
    )
    async def withdraw(self, request: Request, offer_id: PathId) -> Response[OfferOut]:
        async def act():
            return offer_out(await services.withdraw_offer(principal_of(request), offer_id))

        return await idempotent(request, act)


class StaffingController(Controller):
    path = "/api/v1/job-requests/{request_id:int}"
    tags = ["employment"]

    @get(
        "/staffing",
        operation_id="getStaffing",
        guards=[requires(*OWNERS, scope="jobs:read")],
        summary="需求的在岗人数、提前离开者与能否重新招聘 (places filled, who left early, and whether it can reopen)",
    )
    async def read(self, request: Request, request_id: PathId) -> Staffing:
        return msgspec.convert(await services.staffing(principal_of(request), request_id), Staffing, strict=False)

    @post(
        "/reopen",
        operation_id="reopenRequest",
        guards=[requires(*OWNERS, scope="jobs:write")],
        summary="有人提前离开后重新招聘；不会自动再邀约离开者 (reopen after someone left early; she is not offered it again)",
    )
    async def reopen(
        self, request: Request, request_id: PathId, data: JSONBody[RequestReopen | None] = None
    ) -> Response[Staffing]:
        async def act():
            row = await services.reopen_request(
                principal_of(request), request_id, start_date=data.start_date if data else None
            )
            return msgspec.convert(row, Staffing, strict=False)

        return await idempotent(request, act)


class PlacementController(Controller):
    path = "/api/v1/placements/{placement_id:int}"
    tags = ["employment"]

    @get(
        "/",
        operation_id="getPlacement",
        guards=[requires(*PARTIES, scope="jobs:read")],
        summary="查看服务记录；雇主在接受后可见联系方式 (read a placement; the household sees her phone once accepted)",
    )
    async def read(self, request: Request, placement_id: PathId) -> PlacementOut:
        return placement_out(
            await services.get_placement(
                principal_of(request), placement_id, route=f"{request.method} {request.url.path}"
            )
        )

    @post(
        "/complete",
        operation_id="completePlacement",
        guards=[requires(*PARTIES, scope="jobs:write")],
        summary="服务完成 (the placement is completed)",
    )
    async def complete(
        self, request: Request, placement_id: PathId, data: JSONBody[PlacementEnd | None] = None
    ) -> Response[PlacementOut]:
        async def act():
            row = await services.end_placement(
                principal_of(request), placement_id, outcome="completed", reason=data.reason if data else ""
            )
            return placement_out(row)

        return await idempotent(request, act)

    @post(
        "/terminate",
        operation_id="terminatePlacement",
        guards=[requires(*PARTIES, scope="jobs:write")],
        summary="提前终止，注明原因；未到岗记为爽约 (end early with a reason; a no-show is recorded as such)",
    )
    async def terminate(
        self, request: Request, placement_id: PathId, data: JSONBody[PlacementTerminate]
    ) -> Response[PlacementOut]:
        async def act():
            row = await services.end_placement(
                principal_of(request),
                placement_id,
                outcome="no_show" if data.no_show else "terminated",
                reason=data.reason,
            )
            return placement_out(row)

        return await idempotent(request, act)

    @post(
        "/resign",
        operation_id="resignPlacement",
        guards=[requires(Role.WORKER)],
        summary="家政服务员结束服务：注明原因，按规定提前通知；未提前通知计入爽约，雇主过错并投诉的除外 "
        "(she ends the placement with a reason and notice; too little notice counts as a no-show unless it is the "
        "employer's fault and she complains)",
    )
    async def resign(
        self, request: Request, placement_id: PathId, data: JSONBody[PlacementResign]
    ) -> Response[PlacementOut]:
        async def act():
            row = await services.resign_placement(
                principal_of(request),
                placement_id,
                category=data.category,
                reason=data.reason,
                last_day=data.last_day,
                complaint=msgspec.to_builtins(data.complaint) if data.complaint else None,
            )
            return placement_out(row)

        return await idempotent(request, act)

    @post(
        "/reviews",
        operation_id="createReview",
        guards=[requires(*PARTIES, scope="jobs:write")],
        summary="服务结束后双方各评价一次 (each side reviews the other once, after the placement)",
    )
    async def review(self, request: Request, placement_id: PathId, data: JSONBody[ReviewCreate]) -> Response[ReviewOut]:
        window = timedelta(hours=request.app.state.settings.review_edit_hours)

        async def act():
            row = await services.add_review(
                principal_of(request), placement_id, ratings=data.ratings, comment=data.comment, edit_window=window
            )
            return review_out(row)

        return await idempotent(request, act, status_code=201)

    @get(
        "/reviews",
        operation_id="listReviews",
        guards=[requires(*PARTIES, scope="jobs:read")],
        summary="该服务的评价 (the placement's reviews)",
    )
    async def reviews(self, request: Request, placement_id: PathId) -> list[ReviewOut]:
        return [review_out(r) for r in await services.list_reviews(principal_of(request), placement_id)]

    @post(
        "/complaints",
        operation_id="createComplaint",
        guards=[requires(*PARTIES, scope="jobs:write")],
        summary="投诉：雇主一方投诉家政服务员，或家政服务员投诉雇主（欠薪、虐待、不安全）；由人社部门认定 "
        "(either party complains about the other; the bureau decides)",
    )
    async def complain(
        self, request: Request, placement_id: PathId, data: JSONBody[ComplaintCreate]
    ) -> Response[ComplaintOut]:
        async def act():
            row = await services.file_complaint(
                principal_of(request), placement_id, category=data.category, description=data.description
            )
            return complaint_out(row)

        return await idempotent(request, act, status_code=201)


class ReviewController(Controller):
    tags = ["employment"]

    @patch(
        "/api/v1/reviews/{review_id:int}",
        operation_id="updateReview",
        guards=[requires(*PARTIES, scope="jobs:write")],
        summary="在修改期内修改评价 (edit a review within its window)",
    )
    async def edit(self, request: Request, review_id: PathId, data: JSONBody[ReviewUpdate]) -> ReviewOut:
        return review_out(
            await services.edit_review(principal_of(request), review_id, ratings=data.ratings, comment=data.comment)
        )


class ComplaintController(Controller):
    path = "/api/v1/complaints/{complaint_id:int}"
    tags = ["employment"]

    @get(
        "/",
        operation_id="getComplaint",
        guards=[requires(*PARTIES, scope="jobs:read")],
        summary="查看投诉 (read a complaint)",
    )
    async def read(self, request: Request, complaint_id: PathId) -> ComplaintOut:
        return complaint_out(await services.get_complaint(principal_of(request), complaint_id))

    @post(
        "/decision",
        operation_id="decideComplaint",
        guards=[requires(Role.ADMIN)],
        summary="管理员认定投诉属实或驳回 (the bureau decides a complaint)",
    )
    async def decide(
        self, request: Request, complaint_id: PathId, data: JSONBody[ComplaintDecision]
    ) -> Response[ComplaintOut]:
        async def act():
            row = await services.decide_complaint(
                principal_of(request), complaint_id, substantiated=data.outcome == "substantiated", reason=data.reason
            )
            return complaint_out(row)

        return await idempotent(request, act)

    @post(
        "/appeal",
        operation_id="appealComplaint",
        guards=[requires(Role.WORKER, Role.EMPLOYER, Role.HOUSEKEEPING, scope="jobs:write")],
        summary="被投诉的一方对属实投诉申诉一次：家政服务员或雇主 (the one it is about appeals a substantiated "
        "complaint, once: she or the employer side)",
    )
    async def appeal(
        self, request: Request, complaint_id: PathId, data: JSONBody[AppealCreate]
    ) -> Response[ComplaintOut]:
        async def act():
            return complaint_out(await services.appeal(principal_of(request), complaint_id, text=data.text))

        return await idempotent(request, act)

    @post(
        "/appeal-decision",
        operation_id="decideAppeal",
        guards=[requires(Role.ADMIN)],
        summary="管理员裁决申诉 (the bureau decides the appeal)",
    )
    async def decide_appeal(
        self, request: Request, complaint_id: PathId, data: JSONBody[AppealDecision]
    ) -> Response[ComplaintOut]:
        async def act():
            row = await services.decide_appeal(
                principal_of(request), complaint_id, upheld=data.outcome == "upheld", reason=data.reason
            )
            return complaint_out(row)

        return await idempotent(request, act)


def suspension_out(row: dict) -> EmployerSuspensionOut:
    return msgspec.convert(
        {**row, "user_id": row["user"], "agency_id": row["agency"], "active": row["lifted_at"] is None},
        EmployerSuspensionOut,
        strict=False,
    )


class SuspensionController(Controller):
    tags = ["employment"]
    guards = [requires(Role.ADMIN)]

    @post(
        "/api/v1/complaints/{complaint_id:int}/employer-suspension",
        operation_id="suspendEmployer",
        summary="据经核实的严重投诉暂停雇主发布需求和发出邀约 (suspend the employer a serious upheld complaint is "
        "about from posting and making offers)",
    )
    async def suspend(
        self, request: Request, complaint_id: PathId, data: JSONBody[SuspensionCreate]
    ) -> Response[EmployerSuspensionOut]:
        async def act():
            row = await services.suspend_employer(principal_of(request), complaint_id, reason=data.reason)
            return suspension_out(row)

        return await idempotent(request, act, status_code=201)

    @post(
        "/api/v1/employer-suspensions/{suspension_id:int}/lift",
        operation_id="liftEmployerSuspension",
        summary="解除对雇主的暂停，注明原因 (lift a suspension, with a reason)",
    )
    async def lift(
        self, request: Request, suspension_id: PathId, data: JSONBody[SuspensionLift]
    ) -> Response[EmployerSuspensionOut]:
        async def act():
            row = await services.lift_suspension(principal_of(request), suspension_id, reason=data.reason)
            return suspension_out(row)

        return await idempotent(request, act)

    @get(
        "/api/v1/employer-suspensions",
        operation_id="listEmployerSuspensions",
        summary="雇主暂停记录（含已解除）(employer suspensions, lifted ones included)",
    )
    async def list_all(self, request: Request) -> list[EmployerSuspensionOut]:
        return [suspension_out(r) for r in await services.list_suspensions(principal_of(request))]


class IntegrityController(Controller):
    tags = ["integrity"]

    @get(
        "/api/v1/workers/{worker_id:int}/integrity",
        operation_id="getIntegrity",
        guards=[requires(Role.WORKER, Role.HOUSEKEEPING, Role.ADMIN, Role.EMPLOYER, scope="workers:read")],
        summary="诚信评价及其解释；雇主只见分数、星级和构成名称 (the integrity rating, explained; employers see a summary)",
    )
    async def read(self, request: Request, worker_id: PathId) -> Integrity | IntegritySummary:
        rating, full = await services.read_integrity(principal_of(request), worker_id)
        if full:
            return msgspec.convert(rating, Integrity, strict=False)
        return IntegritySummary(
            worker_id=worker_id,
            score=rating["score"],
            stars=rating["stars"],
            components=[c["label"] for c in rating["components"]],
            algorithm_version=rating["algorithm_version"],
        )
