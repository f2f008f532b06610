"""Bureau staff: the training → employment report with its charts and downloads, and the
subsidy-integrity flags to confirm or dismiss. The same services as the API compute and
decide; the pages only ask and show."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import QueryParameter

from service.accounts.guards import Role, principal_of, requires
from service.accounts.tables import User
from service.errors import AppError
from service.registry.domain import today_local
from service.reports import flags, reports
from service.reports.controllers import DateFrom, DateTo, _report
from service.reports.schemas import FlagDecision
from service.schemas import PathId
from service.web.charts import completion_bars, monthly_bars
from service.web.common import form_values, page, see_other
from service.web.forms import FormErrors, app_error_fields, decode_form

REPORT = "training-employment"
MONTHLY_SERIES = [("trained", "培训人次"), ("certified", "取证人次"), ("placed_180d", "180天内上岗")]
TARGET_SERIES = [("trained", "培训"), ("certified", "取证"), ("placed", "就业")]
FLAG_STATUS = {"open": "待核实", "confirmed": "已确认", "dismissed": "已排除"}
DateText = Annotated[str | None, QueryParameter(max_length=10, pattern=r"^(\d{4}-\d{2}-\d{2})?$")]
GroupBy = Annotated[list[str] | None, QueryParameter(max_items=5)]


def _period(date_from: str | None, date_to: str | None) -> tuple[date, date, dict[str, str]]:
    today = today_local()
    errors: dict[str, str] = {}
    parsed = []
    for name, text, default in (("date_from", date_from, date(today.year, 1, 1)), ("date_to", date_to, today)):
        try:
            parsed.append(date.fromisoformat(text) if text else default)
        except ValueError:
            errors[name] = "不是有效的日期 (not a valid date)"
            parsed.append(default)
    return parsed[0], parsed[1], errors


class BureauReportPages(Controller):
    path = "/bureau"
    guards = [requires(Role.ADMIN)]

    @get("/reports")
    async def report(
        self,
        request: Request,
        date_from: DateText = None,
        date_to: DateText = None,
        group_by: GroupBy = None,
    ) -> object:
        principal = principal_of(request)
        start, end, errors = _period(date_from, date_to)
        dims = [d for d in (group_by or ["programme"]) if d]
        values = {"date_from": start.isoformat(), "date_to": end.isoformat(), "group_by": dims}
        context: dict = {"dimensions": reports.TRAINING_EMPLOYMENT.dimensions, "values": values, "errors": errors}
        if errors:
            return page(request, "bureau/reports.html", status_code=422, **context)
        try:
            table = await reports.run_report(principal, REPORT, group_by=dims, date_from=start, date_to=end)
            by_month = await reports.run_report(principal, REPORT, group_by=["month"], date_from=start, date_to=end)
            by_district = await reports.run_report(
                principal, REPORT, group_by=["district"], date_from=start, date_to=end
            )
        except AppError as exc:
            failed = app_error_fields(exc)
            return page(
                request,
                "bureau/reports.html",
                status_code=exc.status_code,
                form_error=failed.message,
                **(context | {"errors": failed.fields}),
            )
        months = [r for r in by_month["rows"] if r["group"] == ["month"]]
        districts = [
            r | {"label": r["district_name"] or r["district"] or "未填区县"}
            for r in by_district["rows"]
            if r["group"] == ["district"]
        ]
        district_total = next((r | {"label": "合计"} for r in by_district["rows"] if r["group"] == []), None)
        query = [("date_from", values["date_from"]), ("date_to", values["date_to"])] + [("group_by", d) for d in dims]
        return page(
            request,
            "bureau/reports.html",
            **context,
            table=table,
            months=months,
            districts=districts,
            district_total=district_total,
            targets_apply=start.year == end.year,
            monthly_chart=monthly_bars(months, MONTHLY_SERIES, "按结业月份：培训 → 取证 → 上岗"),
            district_chart=completion_bars(districts, TARGET_SERIES, "各区县目标完成率"),
            download_query="&".join(f"{k}={v}" for k, v in query),
        )

    @get("/reports/download")
    async def download(
        self,
        request: Request,
        format: Annotated[str, QueryParameter(pattern=r"^(csv|xlsx)$")],
        date_from: DateFrom,
        date_to: DateTo,
        group_by: GroupBy = None,
    ) -> object:
        return await _report(request, REPORT, ",".join(group_by or []), date_from, date_to, format)

    @get("/flags")
    async def flags_page(
        self,
        request: Request,
        status: Annotated[str | None, QueryParameter(pattern=r"^(open|confirmed|dismissed)?$")] = "open",
        rule: Annotated[str | None, QueryParameter(pattern=r"^[a-z_]{0,32}$")] = None,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
    ) -> object:
        return await self._flags(request, status=status or None, rule=rule or None, offset=offset)

    async def _flags(
        self,
        request: Request,
        *,
        status: str | None,
        rule: str | None,
        offset: int = 0,
        status_code: int = 200,
        errors: dict | None = None,
        values: dict | None = None,
        form_error: str = "",
        target: str = "",
    ) -> object:
        principal = principal_of(request)
        rows, total = await flags.list_flags(
            principal, rule=rule, status=status, institution_id=None, limit=50, offset=offset
        )
        deciders = {r["decided_by"] for r in rows if r["decided_by"]}
        names = (
            {
                u["id"]: u["display_name"]
                for u in await User.select(User.id, User.display_name).where(User.id.is_in(list(deciders)))
            }
            if deciders
            else {}
        )
        return page(
            request,
            "bureau/flags.html",
            status_code=status_code,
            rows=rows,
            total=total,
            offset=offset,
            status=status or "",
            rule=rule or "",
            rules=flags.RULE_NAMES,
            flag_status=FLAG_STATUS,
            deciders=names,
            errors=errors or {},
            values=values or {},
            form_error=form_error,
            target=target,
        )

    @post("/flags/{flag_id:int}")
    async def decide_flag(self, request: Request, flag_id: PathId) -> object:
        form = await request.form()
        target = f"flag-{flag_id}"
        back = form.get("back_status") if form.get("back_status") in FLAG_STATUS else ""
        try:
            data = decode_form(form, FlagDecision)
            try:
                await flags.decide_flag(principal_of(request), flag_id, decision=data.decision, reason=data.reason)
            except AppError as exc:
                if exc.status_code == 404:
                    raise
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return await self._flags(
                request,
                status=back or None,
                rule=None,
                status_code=422,
                errors={f"{target}.{k}": v for k, v in errors.fields.items()},
                values=form_values(form),
                form_error=errors.message,
                target=target,
            )
        return see_other(f"/bureau/flags?status={back}#{target}")
