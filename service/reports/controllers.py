from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from service.accounts.guards import Role, principal_of, requires
from service.reports import flags, reports, subsidies
from service.reports.export import to_csv, to_xlsx
from service.reports.schemas import (
    BudgetOut,
    BudgetSet,
    CheckRunOut,
    ClaimCreate,
    ClaimDecision,
    ClaimOut,
    ClaimPage,
    FlagDecision,
    FlagOut,
    FlagPage,
    Report,
    SubsidyRuleCreate,
    SubsidyRuleOut,
    TargetOut,
    TargetSet,
)
from service.schemas import MAX_ID, PathId

GroupBy = Annotated[
    str, QueryParameter(pattern=r"^[a-z_]+(,[a-z_]+){0,5}$", description="逗号分隔的分组维度", examples=[])
]
DateFrom = Annotated[date, QueryParameter(description="起始日期（含）(first day, inclusive)")]
DateTo = Annotated[date, QueryParameter(description="截止日期（含）(last day, inclusive)")]
Format = Annotated[Literal["json", "csv", "xlsx"], QueryParameter(description="json（默认）、csv 或 xlsx")]
TITLES = {"training-employment": "培训就业情况", "certificates": "新增技能证书", "subsidies": "培训补贴资金"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _report(request: Request, name: str, group_by: str, date_from: date, date_to: date, fmt: str) -> Response:
    body = await reports.run_report(
        principal_of(request),
        name,
        group_by=[g for g in group_by.split(",") if g],
        date_from=date_from,
        date_to=date_to,
    )
    filename = f"{name}_{date_from}_{date_to}"
    if fmt == "csv":
        return Response(
            to_csv(body),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            to_xlsx(body, TITLES[name]),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
        )
    return Response(msgspec.convert(body, Report))


class ReportController(Controller):
    """Reports for the bureau; institutions and companies see their own part only."""

    path = "/api/v1/reports"
    tags = ["reports"]

    @get(
        "/training-employment",
        operation_id="reportTrainingEmployment",
        summary="培训→就业：培训、取证、30/90/180天内上岗、上岗天数与月薪中位数、6个月留存、评分，对比目标 "
        "(training to employment, against targets)",
        description="group_by: programme, training_type, institution, district, month (any combination). "
        "Trainings are counted in the period in which they finished.",
        guards=[requires(Role.ADMIN, Role.TRAINING, Role.HOUSEKEEPING, scope="reports:read")],
    )
    async def training_employment(
        self,
        request: Request,
        date_from: DateFrom,
        date_to: DateTo,
        group_by: GroupBy = "programme",
        format: Format = "json",
    ) -> Response[Report]:
        return await _report(request, "training-employment", group_by, date_from, date_to, format)

    @get(
        "/certificates",
        operation_id="reportCertificates",
        summary="新增证书：类别、职业、等级、评价机构，含新增高级工 (new certificates, new 高级工 and above)",
        description="group_by: kind, occupation, level, evaluator, district, month.",
        guards=[requires(Role.ADMIN, Role.EVALUATION, scope="reports:read")],
    )
    async def certificates(
        self,
        request: Request,
        date_from: DateFrom,
        date_to: DateTo,
        group_by: GroupBy = "kind",
        format: Format = "json",
    ) -> Response[Report]:
        return await _report(request, "certificates", group_by, date_from, date_to, format)

    @get(
        "/subsidies",
        operation_id="reportSubsidies",
        summary="补贴资金：申领、核准、拨付、追回，对比预算，按月、季度趋势 (money against budget, monthly and quarterly)",
        description="group_by: programme, institution, quarter, month.",
        guards=[requires(Role.ADMIN, Role.TRAINING, scope="reports:read")],
    )
    async def subsidies(
        self,
        request: Request,
        date_from: DateFrom,
        date_to: DateTo,
        group_by: GroupBy = "programme",
        format: Format = "json",
    ) -> Response[Report]:
        return await _report(request, "subsidies", group_by, date_from, date_to, format)


def _rule_out(row: dict) -> SubsidyRuleOut:
    return msgspec.convert(row, SubsidyRuleOut, strict=False)


def _claim_out(row: dict) -> ClaimOut:
    return msgspec.convert(row, ClaimOut, strict=False)


class SubsidyController(Controller):
    path = "/api/v1/bureau"
    tags = ["bureau: subsidies and targets"]

    @get(
        "/subsidy-rules",
        operation_id="listSubsidyRules",
        summary="补贴标准 (subsidy rules)",
        guards=[requires(Role.ADMIN, Role.TRAINING, scope="reports:read")],
    )
    async def list_rules(self) -> list[SubsidyRuleOut]:
        return [_rule_out(r) for r in await subsidies.list_rules()]

    @post(
        "/subsidy-rules",
        operation_id="createSubsidyRule",
        summary="新增补贴标准 (add a rule)",
        guards=[requires(Role.ADMIN)],
    )
    async def create_rule(self, request: Request, data: JSONBody[SubsidyRuleCreate]) -> SubsidyRuleOut:
        return _rule_out(
            await subsidies.create_rule(
                principal_of(request), msgspec.structs.asdict(data), taxonomy=request.app.state.taxonomy
            )
        )

    @post(
        "/subsidy-rules/{rule_id:int}/retire",
        status_code=HTTP_200_OK,
        operation_id="retireSubsidyRule",
        summary="停用补贴标准 (retire a rule)",
        guards=[requires(Role.ADMIN)],
    )
    async def retire_rule(self, request: Request, rule_id: PathId) -> SubsidyRuleOut:
        return _rule_out(await subsidies.retire_rule(principal_of(request), rule_id))

    @post(
        "/subsidy-claims",
        operation_id="createSubsidyClaim",
        summary="培训机构为一名学员的一次培训申领补贴 (an institution claims the subsidy for one training)",
        guards=[requires(Role.TRAINING, scope="subsidies:write")],
    )
    async def create_claim(self, request: Request, data: JSONBody[ClaimCreate]) -> ClaimOut:
        return _claim_out(await subsidies.create_claim(principal_of(request), data.training_id))

    @get(
        "/subsidy-claims",
        operation_id="listSubsidyClaims",
        summary="补贴申领（机构只看本机构）(claims; an institution sees its own)",
        guards=[requires(Role.ADMIN, Role.TRAINING, scope="reports:read")],
    )
    async def list_claims(
        self,
        request: Request,
        status: Annotated[str | None, QueryParameter(pattern=r"^(claimed|approved|paid|refused|recovered)$")] = None,
        institution_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
    ) -> ClaimPage:
        rows, total = await subsidies.list_claims(
            principal_of(request), status=status, institution_id=institution_id, limit=limit, offset=offset
        )
        return ClaimPage(total=total, limit=limit, offset=offset, items=[_claim_out(r) for r in rows])

    @get(
        "/subsidy-claims/{claim_id:int}",
        operation_id="getSubsidyClaim",
        summary="补贴申领及其审批记录 (a claim and its history)",
        guards=[requires(Role.ADMIN, Role.TRAINING, scope="reports:read")],
    )
    async def get_claim(self, request: Request, claim_id: PathId) -> ClaimOut:
        return _claim_out(await subsidies.get_claim(principal_of(request), claim_id))

    @post(
        "/subsidy-claims/{claim_id:int}/decision",
        status_code=HTTP_200_OK,
        operation_id="decideSubsidyClaim",
        summary="核准、拨付、不予核准或追回 (approve, pay, refuse or recover)",
        guards=[requires(Role.ADMIN)],
    )
    async def decide_claim(self, request: Request, claim_id: PathId, data: JSONBody[ClaimDecision]) -> ClaimOut:
        return _claim_out(
            await subsidies.decide_claim(principal_of(request), claim_id, to=data.status, reason=data.reason)
        )

    @get("/targets", operation_id="listTargets", summary="年度目标 (yearly targets)", guards=[requires(Role.ADMIN)])
    async def list_targets(
        self,
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
    ) -> list[TargetOut]:
        return [msgspec.convert(r, TargetOut, strict=False) for r in await subsidies.list_targets(year)]

    @put(
        "/targets",
        operation_id="setTarget",
        summary="设定年度目标：项目、区县或机构的培训、取证、就业、新增高级工 (set a yearly target)",
        guards=[requires(Role.ADMIN)],
    )
    async def set_target(self, request: Request, data: JSONBody[TargetSet]) -> TargetOut:
        row = await subsidies.set_target(
            principal_of(request), msgspec.structs.asdict(data), taxonomy=request.app.state.taxonomy
        )
        return msgspec.convert(row, TargetOut, strict=False)

    @get(
        "/budgets",
        operation_id="listBudgets",
        summary="项目年度预算 (programme budgets)",
        guards=[requires(Role.ADMIN)],
    )
    async def list_budgets(
        self, year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None
    ) -> list[BudgetOut]:
        return [msgspec.convert(r, BudgetOut, strict=False) for r in await subsidies.list_budgets(year)]

    @put(
        "/budgets",
        operation_id="setBudget",
        summary="设定项目年度预算 (set a programme's yearly budget)",
        guards=[requires(Role.ADMIN)],
    )
    async def set_budget(self, request: Request, data: JSONBody[BudgetSet]) -> BudgetOut:
        row = await subsidies.set_budget(principal_of(request), msgspec.structs.asdict(data))
        return msgspec.convert(row, BudgetOut, strict=False)


class IntegrityFlagController(Controller):
    path = "/api/v1/bureau"
    tags = ["bureau: subsidy integrity"]

    @post(
        "/integrity-checks",
        status_code=HTTP_200_OK,
        operation_id="runIntegrityCheck",
        summary="立即运行补贴诚信检查 (run the subsidy-integrity check now)",
        guards=[requires(Role.ADMIN)],
    )
    async def run_check(self) -> CheckRunOut:
        return msgspec.convert(await flags.run_check("api"), CheckRunOut, strict=False)

    @get(
        "/integrity-flags",
        operation_id="listIntegrityFlags",
        summary="补贴诚信问题：管理员看全部，机构只看已确认的本机构问题 (flags; institutions see confirmed flags about them)",
        guards=[requires(Role.ADMIN, Role.TRAINING, Role.EVALUATION, Role.HOUSEKEEPING, scope="reports:read")],
    )
    async def list_flags(
        self,
        request: Request,
        rule: Annotated[str | None, QueryParameter(pattern=r"^[a-z_]{1,32}$")] = None,
        status: Annotated[str | None, QueryParameter(pattern=r"^(open|confirmed|dismissed)$")] = None,
        institution_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
    ) -> FlagPage:
        rows, total = await flags.list_flags(
            principal_of(request), rule=rule, status=status, institution_id=institution_id, limit=limit, offset=offset
        )
        return FlagPage(
            total=total, limit=limit, offset=offset, items=[msgspec.convert(r, FlagOut, strict=False) for r in rows]
        )

    @get(
        "/integrity-flags/{flag_id:int}",
        operation_id="getIntegrityFlag",
        summary="一个诚信问题及证据 (a flag and its evidence)",
        guards=[requires(Role.ADMIN, Role.TRAINING, Role.EVALUATION, Role.HOUSEKEEPING, scope="reports:read")],
    )
    async def get_flag(self, request: Request, flag_id: PathId) -> FlagOut:
        return msgspec.convert(await flags.get_flag(principal_of(request), flag_id), FlagOut, strict=False)

    @post(
        "/integrity-flags/{flag_id:int}/decision",
        status_code=HTTP_200_OK,
        operation_id="decideIntegrityFlag",
        summary="确认（暂停相关补贴）或排除，须说明理由 (confirm, which holds the claim, or dismiss; with a reason)",
        guards=[requires(Role.ADMIN)],
    )
    async def decide_flag(self, request: Request, flag_id: PathId, data: JSONBody[FlagDecision]) -> FlagOut:
        row = await flags.decide_flag(principal_of(request), flag_id, decision=data.decision, reason=data.reason)
        return msgspec.convert(row, FlagOut, strict=False)
