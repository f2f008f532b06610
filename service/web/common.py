"""What every page shares: rendering, labels, the HTML face of errors, form re-rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig
from litestar.types import ExceptionHandlersMap

from service.accounts.guards import Principal, Role, principal_of
from service.errors import AppError, Unauthorized, problem_response
from service.registry.domain import GUANGDONG_TZ, HEALTH_TIER_NAMES, WAGE_UNIT_LABELS
from service.taxonomy.rules import CATEGORY_LABELS, CATEGORY_NAMES

HERE = Path(__file__).parent

CATEGORY_SHORT = CATEGORY_NAMES
STATUS_LABELS = {
    "open": "招聘中",
    "filled": "已招满",
    "cancelled": "已取消",
    "expired": "已过期",
    "offered": "待答复",
    "accepted": "已接受",
    "declined": "已拒绝",
    "withdrawn": "已撤回",
    "active": "服务中",
    "completed": "已完成",
    "terminated": "已终止",
    "no_show": "未到岗",
    "pending": "待核验",
    "verified": "已核验",
    "rejected": "已驳回",
    "revoked": "已吊销",
    "substantiated": "属实",
    "dismissed": "不属实",
    "overturned": "申诉后撤销",
    "none": "无",
    "upheld": "申诉成立",
    "paused": "暂停接单",
    "suspended": "已暂停",
    "passed": "通过",
    "failed": "未通过",
    "in_progress": "培训中",
}
WORKER_STATUS_LABELS = {"active": "正常接单", "paused": "暂停接单", "suspended": "已被人社局暂停"}
ROLE_LABELS = {
    "employer": "雇主家庭",
    "worker": "家政服务员",
    "admin": "人社局工作人员",
    "housekeeping": "家政企业",
    "training": "培训机构",
    "evaluation": "评价机构",
}
COMPLAINT_LABELS = {
    "abuse": "虐待",
    "theft": "偷盗",
    "violence": "暴力",
    "negligence": "疏忽失职",
    "misconduct": "不当行为",
    "no_show": "未到岗",
    "other": "其他",
}
EMPLOYER_RATING_LABELS = {"quality": "服务质量", "communication": "沟通", "reliability": "守时可靠", "honesty": "诚实"}
WORKER_RATING_LABELS = {
    "respect": "尊重",
    "pay_on_time": "按时支付工资",
    "working_conditions": "工作条件",
    "honesty": "诚实",
}
HEALTH_TIERS = dict(HEALTH_TIER_NAMES)

HOME_BY_ROLE = {
    Role.EMPLOYER: "/household",
    Role.WORKER: "/worker",
    Role.ADMIN: "/bureau",
    Role.HOUSEKEEPING: "/agency",
    Role.TRAINING: "/agency",
    Role.EVALUATION: "/agency",
}


def _stars(n: int | None) -> str:
    n = int(n or 0)
    return "★" * n + "☆" * (5 - n)


def _engine_callback(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.globals.update(
        CATEGORY_LABELS=CATEGORY_LABELS,
        CATEGORY_SHORT=CATEGORY_SHORT,
        STATUS_LABELS=STATUS_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        COMPLAINT_LABELS=COMPLAINT_LABELS,
        HEALTH_TIERS=HEALTH_TIERS,
        EMPLOYER_RATING_LABELS=EMPLOYER_RATING_LABELS,
        WORKER_RATING_LABELS=WORKER_RATING_LABELS,
    )
    env.filters["stars"] = _stars
    env.filters["status"] = lambda s: STATUS_LABELS.get(s, s)
    env.filters["dt"] = lambda v: v.astimezone(GUANGDONG_TZ).strftime("%Y-%m-%d %H:%M") if v else ""
    env.filters["worker_status"] = lambda s: WORKER_STATUS_LABELS.get(s, s)
    env.filters["yuan"] = lambda v, unit="month": f"{v:,} {WAGE_UNIT_LABELS.get(unit, unit)}"


def template_config() -> TemplateConfig:
    return TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine, engine_callback=_engine_callback)


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> Template:
    principal = principal_of(request)
    return Template(
        template_name=name,
        status_code=status_code,
        media_type=MediaType.HTML,
        context={
            "me": principal,
            "role": principal.role.value if principal.role else None,
            "home": HOME_BY_ROLE.get(principal.role, "/") if principal.role else "/",
            **context,
        },
    )


def form_page(request: Request, name: str, errors: Any, values: dict, **context: Any) -> Template:
    """The form again, with each message next to its field and everything typed kept."""
    return page(
        request, name, status_code=422, errors=errors.fields, form_error=errors.message, values=values, **context
    )


def see_other(path: str) -> Redirect:
    return Redirect(path=path, status_code=303)


def form_values(form) -> dict[str, Any]:
    """What was typed, to fill the form again (lists for repeated names)."""
    values: dict[str, Any] = {}
    for key in form.keys():
        items = [v for v in form.getall(key) if isinstance(v, str)]
        if key == "_csrf_token":
            continue
        values[key] = items if len(items) > 1 else (items[0] if items else "")
    return values


def as_list(value: Any) -> list:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


# Errors as pages -----------------------------------------------------------------------


NOT_PAGES = ("/api/", "/schema", "/health", "/ready", "/metrics")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(NOT_PAGES)


def html_error(request: Request, exc: Exception) -> Response:
    if not _wants_html(request):
        return problem_response(request, exc)
    if isinstance(exc, (Unauthorized, NotAuthorizedException)):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(path=f"/login?next={quote(target)}", status_code=303)
    if isinstance(exc, AppError):
        status, message = exc.status_code, exc.detail
    elif isinstance(exc, PermissionDeniedException):
        status, message = 403, "页面已过期或请求来源不明，请返回重试 (the form expired; go back and try again)"
    elif isinstance(exc, HTTPException):
        status, message = exc.status_code, str(exc.detail)
    else:
        problem_response(request, exc)  # logs it
        status, message = 500, "服务出错，已记录 (something went wrong; it was logged)"
    titles = {403: "无权访问 (forbidden)", 404: "页面不存在 (not found)", 409: "无法完成 (conflict)"}
    return page(
        request,
        "error.html",
        status_code=status,
        status=status,
        title=titles.get(status, "出错了 (error)"),
        message=message,
    )


PAGE_EXCEPTION_HANDLERS: ExceptionHandlersMap = {AppError: html_error, HTTPException: html_error, Exception: html_error}


def principal(request: Request) -> Principal:
    return principal_of(request)
