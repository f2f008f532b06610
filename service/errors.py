"""The one error tree of the service, and its mapping to RFC 9457 problem details.

    AppError                      (status, title in Chinese first, detail, fields)
     ├── BadRequest               400
     │    └── InvalidField        422  names one or more fields
     ├── Unauthorized             401
     ├── Forbidden                403
     ├── NotFound                 404  also for objects the caller may not know exist
     ├── Conflict                 409
     ├── PreconditionFailed       412  stale If-Match
     ├── PreconditionRequired     428  missing If-Match
     └── ServiceUnavailable       503  the database is away or too slow (with Retry-After)

Services raise these; they know nothing of HTTP beyond the status each class carries.
Litestar's own HTTP exceptions (validation of bodies and parameters, 404 for unknown
routes, 413 for oversize bodies) are mapped to the same shape. A database that refuses
connections, drops them, or does not answer within the pool's timeouts is a 503 with
`Retry-After`, not a 500 (`unavailable`).
"""

from __future__ import annotations

import logging
import re
from typing import Any, TypeVar

import asyncpg
from asyncpg.exceptions import DataError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.types import ExceptionHandlersMap

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://nanyue-jiazheng.example/problems/"


class AppError(Exception):
    status_code = 400
    slug = "bad-request"
    title = "请求无效 (bad request)"

    def __init__(
        self,
        detail: str | None = None,
        *,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.fields = fields or {}
        self.headers = headers
        self.extra = extra or {}


class BadRequest(AppError):
    pass


class InvalidField(BadRequest):
    status_code = 422
    slug = "invalid-field"
    title = "字段无效 (invalid field)"

    def __init__(self, field: str, message: str, **kwargs: Any) -> None:
        super().__init__(f"{field}: {message}", fields={field: message}, **kwargs)


class Unauthorized(AppError):
    status_code = 401
    slug = "unauthorized"
    title = "未认证或凭证无效 (authentication required)"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="api"'})
        super().__init__(detail, **kwargs)


class Forbidden(AppError):
    status_code = 403
    slug = "forbidden"
    title = "无权执行此操作 (forbidden)"


class NotFound(AppError):
    status_code = 404
    slug = "not-found"
    title = "对象不存在 (not found)"


T = TypeVar("T")


def found(row: T | None, detail: str = "记录不存在 (no such record)") -> T:
    """`row`, or a 404 when a row that should exist is gone (deleted meanwhile)."""
    if row is None:
        raise NotFound(detail)
    return row


class Conflict(AppError):
    status_code = 409
    slug = "conflict"
    title = "与现有数据冲突 (conflict)"


class PreconditionFailed(AppError):
    status_code = 412
    slug = "precondition-failed"
    title = "数据已被修改，请重新读取 (the object changed; read it again)"


class PreconditionRequired(AppError):
    status_code = 428
    slug = "precondition-required"
    title = "需要 If-Match 请求头 (If-Match header required)"


class ServiceUnavailable(AppError):
    status_code = 503
    slug = "service-unavailable"
    title = "服务暂不可用，请稍后重试 (service unavailable; retry shortly)"

    def __init__(self, detail: str | None = None, *, retry_after: int = 5, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(retry_after)})
        super().__init__(detail, **kwargs)


# What PostgreSQL being away, restarting or paused raises through asyncpg: refused or
# reset connections, connections closed under a query, "the database system is starting
# up / shutting down", and the pool's connect and command timeouts.
_DATABASE_AWAY = (
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
)


def _raised_in_asyncpg(exc: BaseException) -> bool:
    """An OSError from the database driver (a Unix socket that is gone, an unreachable host)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith("asyncpg"):
            return True
        tb = tb.tb_next
    return False


def unavailable(exc: Exception) -> ServiceUnavailable | None:
    """The 503 to answer for a failure of the database's availability, else None."""
    if isinstance(exc, asyncpg.exceptions.QueryCanceledError) or isinstance(exc, TimeoutError):
        return ServiceUnavailable("数据库响应超时 (the database did not answer in time)", retry_after=5)
    closed = isinstance(exc, asyncpg.InterfaceError) and ("closed" in str(exc) or "closing" in str(exc))
    if closed or isinstance(exc, _DATABASE_AWAY) or (isinstance(exc, OSError) and _raised_in_asyncpg(exc)):
        return ServiceUnavailable("数据库暂不可用 (the database is unavailable)", retry_after=5)
    return None


_STATUS_TITLES = {
    400: "请求无效 (bad request)",
    401: "未认证或凭证无效 (authentication required)",
    403: "无权执行此操作 (forbidden)",
    404: "对象不存在 (not found)",
    405: "不支持该请求方法 (method not allowed)",
    413: "请求体过大 (request body too large)",
    415: "不支持的内容类型 (unsupported media type)",
    429: "请求过于频繁，请稍后再试 (too many requests)",
    500: "服务器内部错误 (internal server error)",
    503: "服务暂不可用 (service unavailable)",
}

# msgspec says where a bad value sits as "at `$.field`" or "at `$.a[0].b`".
_JSON_PATH = re.compile(r"at `\$\.?([^`]*)`")
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")


_MISSING_PARAMETER = re.compile(r"Missing required \w+ parameter '([^']+)'")


def _field_errors(exc: ValidationException) -> dict[str, str]:
    fields: dict[str, str] = {}
    extra = exc.extra if isinstance(exc.extra, list) else []
    missing = _MISSING_PARAMETER.search(str(exc.detail))
    if not extra and missing:
        return {missing.group(1): f"缺少必填参数 (missing {missing.group(0).split(' for path')[0][8:]})"}
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", ""))
        key = item.get("key")
        name = None
        if key and key != "body":
            name = str(key)
        for pattern in (_UNKNOWN_FIELD, _MISSING_FIELD):
            found = pattern.search(message)
            if found:
                prefix = _JSON_PATH.search(message)
                parent = prefix.group(1) if prefix and prefix.group(1) else ""
                name = f"{parent}.{found.group(1)}" if parent else found.group(1)
                break
        if name is None:
            path = _JSON_PATH.search(message)
            name = path.group(1) if path and path.group(1) else "body"
        fields[name] = message
    return fields


def _too_deep(exc: Exception) -> bool:
    """A JSON body nested deeper than the decoder recurses: msgspec raises RecursionError
    from Litestar's `decode_json` (when `Request.json()` parses the body), before any
    handler runs. Other RecursionErrors are bugs and stay 500s."""
    if not isinstance(exc, RecursionError):
        return False
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name in ("decode_json", "decode_msgpack"):
            return True
        tb = tb.tb_next
    return False


def to_problem(exc: Exception) -> ProblemDetailsException:
    if isinstance(exc, AppError):
        extra: dict[str, Any] = dict(exc.extra)
        if exc.fields:
            extra["errors"] = [{"field": k, "message": v} for k, v in exc.fields.items()]
        return ProblemDetailsException(
            status_code=exc.status_code,
            type_=PROBLEM_BASE + exc.slug,
            title=exc.title,
            detail=exc.detail,
            headers=exc.headers,
            extra=extra or None,
        )
    if isinstance(exc, ValidationException):
        fields = _field_errors(exc)
        names = ", ".join(fields) or "body"
        return ProblemDetailsException(
            status_code=exc.status_code,
            type_=PROBLEM_BASE + "validation",
            title="请求数据校验失败 (validation failed)",
            detail=f"字段有误 (invalid fields): {names}",
            extra={"errors": [{"field": k, "message": v} for k, v in fields.items()]},
        )
    if _too_deep(exc):
        return ProblemDetailsException(
            status_code=400,
            type_=PROBLEM_BASE + "too-deep",
            title="请求数据嵌套过深 (the body is nested too deeply)",
            detail="JSON 嵌套层数超出解析上限 (the JSON nesting exceeds what the parser accepts)",
        )
    if isinstance(exc, DataError):
        # A value PostgreSQL cannot store (out of range, NUL in text) that validation let through.
        return ProblemDetailsException(
            status_code=400,
            type_=PROBLEM_BASE + "invalid-value",
            title="请求数据无效 (invalid value)",
            detail="某个值超出允许范围或含有不允许的字符 (a value is out of range or has forbidden characters)",
        )
    if isinstance(exc, HTTPException):
        status = exc.status_code
        headers = exc.headers
        if status == 429 and headers and "RateLimit-Reset" in headers and "Retry-After" not in headers:
            # The rate limiter says when its window resets; tell clients in the standard header.
            headers = {**headers, "Retry-After": str(max(1, int(headers["RateLimit-Reset"])))}
        return ProblemDetailsException(
            status_code=status,
            type_=PROBLEM_BASE + str(status),
            title=_STATUS_TITLES.get(status, exc.detail),
            detail=exc.detail,
            headers=headers,
        )
    return ProblemDetailsException(
        status_code=500,
        type_=PROBLEM_BASE + "internal",
        title=_STATUS_TITLES[500],
        detail="请求未能完成，已记录错误编号 (the request failed; the error was logged)",
    )


def problem_response(request: Request, exc: Exception) -> Response:
    away = None if isinstance(exc, (AppError, HTTPException)) else unavailable(exc)
    if away is not None:
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        exc = away
    elif isinstance(exc, DataError):
        log.warning(
            "refused a value the database cannot store on %s %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
        )
    elif _too_deep(exc):
        log.warning("refused a body nested too deeply on %s %s", request.method, request.url.path)
    elif not isinstance(exc, (AppError, HTTPException)):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
    problem = to_problem(exc)
    problem.instance = request.url.path
    return problem.to_response(request)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    AppError: problem_response,
    HTTPException: problem_response,
    Exception: problem_response,
}
