"""The OpenAPI document at /schema, completed from the app's own routes.

Litestar describes paths, parameters and bodies from the handlers' signatures. This
module adds what it cannot see, derived from the same routes so that it cannot drift:

- who may call each operation: the roles and the API-key scope read from its
  `requires(...)` guard (or `opt={"public": True}`), as security requirements;
- every error the operation can answer, as `application/problem+json` with one shared
  `Problem` schema (what `service.errors` sends);
- the headers: `Idempotency-Key` where the handler goes through `idempotent(...)`,
  `If-Match`/`ETag`, `X-Request-ID`, `Idempotent-Replayed`, `Retry-After`;
- `additionalProperties: false` on request bodies (their Structs forbid unknown fields),
  bilingual field descriptions and request/response examples (`service.openapi_examples`);
- the webhook events, their payloads and the signature scheme (OpenAPI 3.1 `webhooks`).
"""

from __future__ import annotations

import copy
import inspect
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_args

import msgspec
from litestar import Litestar, Router
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.datastructures import CacheControlHeader
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router

from service.accounts.guards import AGENCY_ROLES, UNAUTHENTICATED_PATHS, Role
from service.events.services import EVENT_TYPES
from service.openapi_examples import (
    EVENT_PAYLOADS,
    FIELD_DESCRIPTIONS,
    REQUEST_EXAMPLES,
    RESPONSE_EXAMPLES,
)

DOCS_ASSETS = "/schema/assets"
BEARER = "bearerAuth"
API_KEY = "apiKeyAuth"
PEOPLE_ROLES = frozenset({Role.EMPLOYER, Role.WORKER, Role.ADMIN})
ALL_ROLES = frozenset(Role)
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# Paths the rate limiter leaves alone (see `service.app._middleware`).
NOT_RATE_LIMITED = ("/health", "/ready", "/metrics")

# Public operations that still refuse some callers.
PUBLIC_ERRORS = {"createAccount": {409}, "createToken": {401}}

ERROR_TEXT = {
    400: "请求格式或参数无效，errors 列出字段 (malformed body or parameters; `errors` names the fields)",
    401: "缺少或无效的令牌/API 密钥 (missing or invalid bearer token or API key)",
    403: "角色或 API 密钥权限范围不允许 (the caller's role or the key's scope does not allow this)",
    404: "对象不存在或调用者无权知道其存在 (no such object, or not one the caller may know of)",
    409: "与当前状态冲突；或相同 Idempotency-Key 的请求仍在处理 "
    "(conflicts with the current state; or a request with the same Idempotency-Key is still running)",
    412: "If-Match 与当前版本不符，请重新读取 (If-Match does not match the current version; read again)",
    413: "请求体超过上限 (the request body is too large)",
    422: "字段值不符合业务规则，errors 列出字段；或 Idempotency-Key 已用于另一请求 "
    "(a value breaks a business rule, `errors` names the field; or the Idempotency-Key was used for another body)",
    428: "修改需要 If-Match 请求头 (this change needs an If-Match header)",
    429: "请求过于频繁 (too many requests); 见 Retry-After",
    503: "数据库暂不可用或响应超时，见 Retry-After (the database is unavailable or too slow; see Retry-After)",
}


def openapi_config(version: str) -> OpenAPIConfig:
    """The OpenAPI configuration: documentation pages whose scripts and styles are served
    by the service itself (no internet access needed)."""
    favicon = f"<link rel='icon' type='image/png' href='{DOCS_ASSETS}/swagger-ui/favicon-32x32.png'>"
    return OpenAPIConfig(
        title="南粤家政 worker registry and job matcher",
        version=version,
        description=(
            "家政服务员登记、培训与证书、匹配与就业。雇主、家政服务员和管理员用 bearer 令牌"
            "（`POST /api/v1/auth/token`），机构用 `X-API-Key`。错误均为 RFC 9457 problem details。"
            "请求体中的未知字段会被拒绝。\n\n"
            "Employers, workers and admins authenticate with a bearer token (`POST /api/v1/auth/token`); "
            "agencies with `X-API-Key`. Each operation lists who may call it (`x-roles`, and the API-key "
            "scope it needs). Errors are RFC 9457 problem details (`Problem`). Unknown fields in request "
            "bodies are refused. Webhook events are under `webhooks`."
        ),
        path="/schema",
        render_plugins=[
            ScalarRenderPlugin(
                js_url=f"{DOCS_ASSETS}/scalar/standalone.js",
                css_url=f"{DOCS_ASSETS}/docs.css",
                options={"withDefaultFonts": False},
                favicon=favicon,
            ),
            SwaggerRenderPlugin(
                path="/swagger",
                js_url=f"{DOCS_ASSETS}/swagger-ui/swagger-ui-bundle.js",
                css_url=f"{DOCS_ASSETS}/swagger-ui/swagger-ui.css",
                standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui/swagger-ui-standalone-preset.js",
                favicon=favicon,
            ),
        ],
    )


ASSETS_DIRECTORY = Path(__file__).parent / "docs_assets"


def docs_assets_router() -> Router:
    """The documentation pages' scripts and styles, vendored into the package (see its README)."""
    return create_static_files_router(
        path=DOCS_ASSETS,
        directories=[ASSETS_DIRECTORY],
        include_in_schema=False,
        name="docs-assets",
        opt={"public": True, "exclude_from_auth": True},
        cache_control=CacheControlHeader(public=True, max_age=86400),
    )


# One build at a time: the start-up build runs in a thread, and a request for /schema that
# arrives before it ends waits for it rather than building a second document beside it.
_BUILDING = threading.Lock()


class _CompletedOpenAPIPlugin(OpenAPIPlugin):
    """Litestar's OpenAPI plugin, serving the completed document. Building it takes about a
    second of CPU: `prepare_openapi` builds it in a thread at start-up, so that neither the
    first request for it nor the requests around that one wait on the event loop."""

    __slots__ = ()

    def provide_openapi_schema(self) -> dict[str, Any]:
        # Litestar's handlers at /schema serve what this returns.
        if not self._openapi_schema:
            with _BUILDING:
                if not self._openapi_schema:
                    self._openapi_schema = build_document(self.provide_openapi().to_schema(), self.app)
        return self._openapi_schema


def prepare_openapi(app: Litestar) -> None:
    """Build the document now (in a thread: `anyio.to_thread.run_sync(prepare_openapi, app)`)."""
    app.plugins.get(OpenAPIPlugin).provide_openapi_schema()


def complete_openapi(app: Litestar) -> None:
    """Make the completed document the one served at /schema (built when first asked for)."""
    plugin = app.plugins.get(OpenAPIPlugin)
    plugin.__class__ = _CompletedOpenAPIPlugin


# Who may call -------------------------------------------------------------------------


def guard_requirement(guard: Callable) -> tuple[frozenset[Role], str | None] | None:
    """The roles and scope a `requires(...)` guard allows, or None for other guards.

    Read from the guard's `roles`/`scope` attributes, or else from the variables its
    closure captured (`allowed`, `scope`). Litestar wraps guards in an `AsyncCallable`."""
    guard = getattr(guard, "func", guard)
    roles = getattr(guard, "roles", None)
    scope = getattr(guard, "scope", None)
    if roles is None:
        try:
            captured = inspect.getclosurevars(guard).nonlocals
        except TypeError:
            return None
        roles = captured.get("allowed") or captured.get("roles")
        scope = captured.get("scope")
    if not roles or not all(isinstance(r, Role) for r in roles):
        return None
    return frozenset(roles), scope if isinstance(scope, str) else None


def access_of(handler: HTTPRouteHandler, path: str) -> tuple[bool, frozenset[Role], set[str]]:
    """(public, roles that may call, API-key scopes needed) for one handler."""
    if handler.opt.get("public") or path.startswith(UNAUTHENTICATED_PATHS):
        return True, frozenset(), set()
    roles, scopes = ALL_ROLES, set()
    for guard in handler.resolve_guards():
        found = guard_requirement(guard)
        if found is not None:
            roles &= found[0]
            if found[1]:
                scopes.add(found[1])
    return False, roles, scopes


def is_idempotent(handler: HTTPRouteHandler) -> bool:
    """Whether the handler answers through `idempotent(...)` (it takes `Idempotency-Key`)."""
    if "idempotent" in handler.opt:
        return bool(handler.opt["idempotent"])
    fn = getattr(handler.fn, "__wrapped__", handler.fn)
    return "idempotent" in fn.__code__.co_names


_IDEMPOTENT_STATUS = re.compile(r"idempotent\(\s*request\s*,\s*\w+\s*(?:,\s*status_code\s*=\s*(\d+))?\s*\)")


def idempotent_status(handler: HTTPRouteHandler) -> int | None:
    """The success status an idempotent handler answers: `idempotent(...)` sets it (200 by
    default), not the decorator."""
    if not is_idempotent(handler):
        return None
    fn = getattr(handler.fn, "__wrapped__", handler.fn)
    found = _IDEMPOTENT_STATUS.search(inspect.getsource(fn))
    return int(found.group(1)) if found and found.group(1) else 200


def _structs_in(annotation: Any) -> Iterator[type[msgspec.Struct]]:
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        yield annotation
    for argument in get_args(annotation):
        yield from _structs_in(argument)


def struct_components(app: Litestar) -> dict[str, Any]:
    """JSON Schema of every Struct a handler takes or answers, as msgspec generates it."""
    structs: set[type[msgspec.Struct]] = set()
    for _path, _method, handler in operations(app):
        signature = handler.parsed_fn_signature
        if (data := signature.parameters.get("data")) is not None:
            structs.update(_structs_in(data.annotation))
        structs.update(_structs_in(signature.return_type.annotation))
    _, components = msgspec.json.schema_components(
        sorted(structs, key=lambda s: s.__name__), ref_template="#/components/schemas/{name}"
    )
    return components


def operations(app: Litestar) -> Iterator[tuple[str, str, HTTPRouteHandler]]:
    """(path, lower-case method, handler) of every documented operation."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            if method in ("HEAD", "OPTIONS") or not handler.resolve_include_in_schema():
                continue
            yield route.path_format or "/", method.lower(), handler


# The document ---------------------------------------------------------------------------


def build_document(document: dict[str, Any], app: Litestar) -> dict[str, Any]:
    document = copy.deepcopy(document)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    components["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "雇主、家政服务员、管理员：`POST /api/v1/auth/token` 取得 "
            "(employers, workers, admins: from `POST /api/v1/auth/token`)",
        },
        API_KEY: {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "机构的 API 密钥，由管理员或机构签发，带权限范围 "
            "(an agency's API key, issued by an admin or the agency, carrying scopes)",
        },
    }
    # msgspec's own description of the Structs: exactly what the decoder enforces (Litestar
    # drops the constraints on list items, e.g. each skill code's length and pattern).
    schemas.update(struct_components(app))
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["FieldError"] = FIELD_ERROR_SCHEMA
    components["headers"] = HEADERS
    components["parameters"] = PARAMETERS
    components["responses"] = {str(status): _error_response(status) for status in ERROR_TEXT}
    document["security"] = [{BEARER: []}, {API_KEY: []}]
    request_schemas: set[str] = set()
    for path, method, handler in operations(app):
        operation = document["paths"][path][method]
        _describe_access(operation, handler, path)
        _fix_success_status(operation, handler)
        _describe_headers(operation, handler, path)
        _describe_errors(operation, handler, path, method)
        data = handler.parsed_fn_signature.parameters.get("data")
        if "requestBody" in operation and data is not None and data.has_default:
            operation["requestBody"]["required"] = False  # e.g. consent: the body may be left out
        if ref := _body_ref(operation):
            request_schemas.add(ref)
            _request_example(operation, ref)
        _response_examples(operation, schemas)
        if path == "/metrics":
            operation["responses"]["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
    for name in sorted(request_schemas):
        _close_schema(name, schemas, set())
    for name, schema in schemas.items():
        if name in RESPONSE_EXAMPLES and "examples" not in schema:
            schema["examples"] = [RESPONSE_EXAMPLES[name]]
        if name in REQUEST_EXAMPLES and "examples" not in schema:
            schema["examples"] = [REQUEST_EXAMPLES[name]]
    document["webhooks"] = _webhooks()
    return document


def _describe_access(operation: dict, handler: HTTPRouteHandler, path: str) -> None:
    public, roles, scopes = access_of(handler, path)
    if public:
        operation["security"] = []
        operation["x-public"] = True
        who = "公开，无需凭证 (public: no credentials)"
    else:
        requirement = []
        if roles & PEOPLE_ROLES:
            requirement.append({BEARER: sorted(str(r) for r in roles & PEOPLE_ROLES)})
        if roles & AGENCY_ROLES:
            requirement.append({API_KEY: sorted(scopes)})
        operation["security"] = requirement
        operation["x-roles"] = sorted(str(r) for r in roles)
        if scopes:
            operation["x-api-key-scopes"] = sorted(scopes)
        who = "调用者 (callers): " + ", ".join(sorted(str(r) for r in roles))
        if scopes and roles & AGENCY_ROLES:
            who += "; API 密钥权限范围 (API-key scope): " + ", ".join(sorted(scopes))
    description = operation.get("description", "")
    operation["description"] = f"{description}\n\n{who}".strip()


def _fix_success_status(operation: dict, handler: HTTPRouteHandler) -> None:
    status = idempotent_status(handler)
    responses = operation.get("responses", {})
    if status is None or str(status) in responses:
        return
    success = [k for k in responses if k.startswith("2")]
    if len(success) == 1:
        response = responses.pop(success[0])
        response["description"] = "OK" if status == 200 else response.get("description", "")
        responses[str(status)] = response


def _has_body(operation: dict) -> bool:
    return "requestBody" in operation


def _parameters(operation: dict) -> list[dict]:
    return operation.setdefault("parameters", [])


def _describe_headers(operation: dict, handler: HTTPRouteHandler, path: str) -> None:
    parameters = _parameters(operation)
    names = {p.get("name", "").lower() for p in parameters if "name" in p}
    parameters.append({"$ref": "#/components/parameters/RequestId"})
    if is_idempotent(handler):
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
        operation["x-idempotent"] = True
    for status, response in operation.get("responses", {}).items():
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = {"$ref": "#/components/headers/XRequestId"}
        if status.startswith("2") and is_idempotent(handler):
            headers["Idempotent-Replayed"] = {"$ref": "#/components/headers/IdempotentReplayed"}
        if status.startswith("2") and "etag" in {h.lower() for h in headers}:
            key = next(h for h in headers if h.lower() == "etag")
            headers.pop(key)
            headers["ETag"] = {"$ref": "#/components/headers/ETag"}
    if "if-match" in names:
        for parameter in parameters:
            if parameter.get("name", "").lower() == "if-match":
                parameter["description"] = (
                    "上次读取时的 ETag；缺少时 428，过期时 412 "
                    "(the ETag of the last read; 428 without it, 412 when stale)"
                )
                parameter.setdefault("schema", {})["examples"] = ['"1-1"']


def _error_statuses(operation: dict, handler: HTTPRouteHandler, path: str, method: str) -> set[int]:
    public, roles, scopes = access_of(handler, path)
    has_params = any("$ref" not in p and p.get("in") in ("path", "query") for p in _parameters(operation))
    has_if_match = any(p.get("name", "").lower() == "if-match" for p in _parameters(operation))
    statuses: set[int] = set()
    if _has_body(operation) or has_params:
        statuses |= {400, 422}
    if _has_body(operation):
        statuses.add(413)
    if not public:
        statuses |= {401, 403, 404}
    if not public and (method != "get" or "{" in path) or is_idempotent(handler):
        # A change may clash with the object's state; so may reading it (matching a cancelled request).
        statuses |= {409, 422}
    statuses |= PUBLIC_ERRORS.get(operation.get("operationId", ""), set())
    if has_if_match:
        statuses |= {412, 428}
    if not path.startswith(NOT_RATE_LIMITED):
        statuses.add(429)
    if path != "/health":
        # Any operation that reads or writes may find the database away or too slow.
        statuses.add(503)
    return statuses


def _describe_errors(operation: dict, handler: HTTPRouteHandler, path: str, method: str) -> None:
    responses = operation.setdefault("responses", {})
    for status in sorted(_error_statuses(operation, handler, path, method)):
        if status == 503 and "503" in responses:
            # /ready answers its own body with 503; keep it, and say what it means.
            responses["503"]["description"] = ERROR_TEXT[503]
            continue
        responses[str(status)] = {"$ref": f"#/components/responses/{status}"}
    # Litestar's generic "400: Bad request syntax or unsupported method" is replaced above;
    # drop any other generic error it added for statuses the operation cannot answer.
    for status in list(responses):
        if status.startswith(("4", "5")) and "$ref" not in responses[status] and status != "503":
            responses.pop(status)


def _body_ref(operation: dict) -> str | None:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    candidates = [schema] + schema.get("oneOf", []) + schema.get("anyOf", [])
    for candidate in candidates:
        if "$ref" in candidate:
            return candidate["$ref"].rsplit("/", 1)[1]
    return None


def _request_example(operation: dict, name: str) -> None:
    if name not in REQUEST_EXAMPLES:
        return
    media = operation["requestBody"]["content"]["application/json"]
    media["examples"] = {"example": {"summary": "示例 (example)", "value": REQUEST_EXAMPLES[name]}}


def _response_examples(operation: dict, schemas: dict) -> None:
    for status, response in operation.get("responses", {}).items():
        if not status.startswith("2"):
            continue
        media = response.get("content", {}).get("application/json")
        if not media:
            continue
        schema = media.get("schema", {})
        refs = [
            s["$ref"].rsplit("/", 1)[1]
            for s in [schema] + schema.get("oneOf", []) + schema.get("anyOf", [])
            if "$ref" in s
        ]
        item = schema.get("items", {})
        examples = {}
        for ref in refs:
            if ref in RESPONSE_EXAMPLES:
                examples[ref] = {"summary": ref, "value": RESPONSE_EXAMPLES[ref]}
        if "$ref" in item and (ref := item["$ref"].rsplit("/", 1)[1]) in RESPONSE_EXAMPLES:
            examples[ref] = {"summary": f"[{ref}]", "value": [RESPONSE_EXAMPLES[ref]]}
        if examples:
            media["examples"] = examples


def _close_schema(name: str, schemas: dict, seen: set[str]) -> None:
    """Request bodies refuse unknown fields: say so, here and in the Structs they nest."""
    if name in seen or name not in schemas:
        return
    seen.add(name)
    schema = schemas[name]
    if schema.get("type") == "object" or "properties" in schema:
        schema["additionalProperties"] = False
        for field, prop in schema.get("properties", {}).items():
            text = FIELD_DESCRIPTIONS.get(f"{name}.{field}") or FIELD_DESCRIPTIONS.get(field)
            if text:
                # Keep what the Struct says (e.g. a date's window) after the general text.
                own = prop.get("description", "")
                prop["description"] = f"{text}；{own}" if len(own) > 12 and own not in text else text
    for ref in re.findall(r"#/components/schemas/([A-Za-z0-9_.-]+)", repr(schema)):
        _close_schema(ref, schemas, seen)


def _error_response(status: int) -> dict:
    response: dict[str, Any] = {
        "description": ERROR_TEXT[status],
        "headers": {"X-Request-ID": {"$ref": "#/components/headers/XRequestId"}},
        "content": {
            "application/problem+json": {
                "schema": PROBLEM_REF,
                "example": PROBLEM_EXAMPLES.get(status, _plain_problem(status)),
            }
        },
    }
    if status == 401:
        response["headers"]["WWW-Authenticate"] = {"$ref": "#/components/headers/WWWAuthenticate"}
    if status in (429, 503):
        response["headers"]["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}
    return response


def _plain_problem(status: int) -> dict:
    from service.errors import _STATUS_TITLES, PROBLEM_BASE

    title = _STATUS_TITLES.get(status, "请求无效 (bad request)")
    return {
        "type": PROBLEM_BASE + str(status),
        "title": title,
        "status": status,
        "detail": title,
        "instance": "/api/v1/workers/1",
    }


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 问题详情；errors 逐个列出有误的字段 "
    "(RFC 9457 problem details; `errors` names each field at fault). Other members may follow.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri",
            "description": "问题类型 (problem type URI)",
            "examples": ["https://nanyue-jiazheng.example/problems/invalid-field"],
        },
        "title": {"type": "string", "description": "中文在前，英文在括号中 (Chinese first, English in parentheses)"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "请求路径 (the request path)"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
    },
    "additionalProperties": True,
}

FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["field", "message"],
    "properties": {
        "field": {"type": "string", "description": "字段路径，如 location.lat (the field's path)"},
        "message": {"type": "string"},
    },
    "additionalProperties": False,
}

PROBLEM_EXAMPLES = {
    503: {
        "type": "https://nanyue-jiazheng.example/problems/service-unavailable",
        "title": "服务暂不可用，请稍后重试 (service unavailable; retry shortly)",
        "status": 503,
        "detail": "数据库暂不可用 (the database is unavailable)",
        "instance": "/api/v1/job-requests/7/matches",
    },
    422: {
        "type": "https://nanyue-jiazheng.example/problems/invalid-field",
        "title": "字段无效 (invalid field)",
        "status": 422,
        "detail": "id_number: 校验码不正确 (the check digit is wrong)",
        "instance": "/api/v1/workers",
        "errors": [{"field": "id_number", "message": "校验码不正确 (the check digit is wrong)"}],
    },
    400: {
        "type": "https://nanyue-jiazheng.example/problems/validation",
        "title": "请求数据校验失败 (validation failed)",
        "status": 400,
        "detail": "字段有误 (invalid fields): favourite_colour",
        "instance": "/api/v1/workers",
        "errors": [{"field": "favourite_colour", "message": "Object contains unknown field `favourite_colour`"}],
    },
}

HEADERS: dict[str, Any] = {
    "XRequestId": {
        "description": "请求编号，日志中可查；调用方可自带 (request id, in every log line; the caller may send one)",
        "schema": {"type": "string", "maxLength": 64},
    },
    "ETag": {
        "description": "版本标签，修改时放入 If-Match (version tag: send it back in If-Match)",
        "schema": {"type": "string", "examples": ['"1-1"']},
    },
    "IdempotentReplayed": {
        "description": "true：这是同一 Idempotency-Key 首次请求的答复重放 "
        "(true: a replay of the first answer to this Idempotency-Key)",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "RetryAfter": {
        "description": "多少秒后可重试 (seconds until a retry may succeed)",
        "schema": {"type": "string", "pattern": r"^\d+$"},
    },
    "WWWAuthenticate": {"description": "认证方式 (how to authenticate)", "schema": {"type": "string"}},
}

PARAMETERS: dict[str, Any] = {
    "RequestId": {
        "name": "X-Request-ID",
        "in": "header",
        "required": False,
        "description": "调用方的请求编号，1-64 个可打印字符时原样返回，否则另生成 "
        "(the caller's request id: echoed when 1-64 printable characters, else one is made)",
        "schema": {"type": "string"},
    },
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "同一键与同一请求体的重试只生效一次，返回首次答复；保留 48 小时 "
        "(a retry with the same key and body takes effect once and replays the first "
        "answer; kept 48 hours)",
        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
        "example": "3f1c2b8e-offer-2026-11-27",
    },
}


# Webhooks --------------------------------------------------------------------------------


SIGNATURE_DESCRIPTION = (
    "每次推送以 POST 发送 JSON 信封 {id, type, created_at, data}。请求头 `X-Nanyue-Signature: v1=<hex>` 为用订阅时"
    "返回的密钥对 `<X-Nanyue-Timestamp>.<原始请求体>` 计算的 HMAC-SHA256；请用常量时间比较并拒绝过旧的时间戳。"
    "至少一次送达：按 `id` 去重。返回 2xx 表示收到，其他状态或超时（10 秒）会按指数退避重试。\n\n"
    "Each delivery POSTs a JSON envelope {id, type, created_at, data}. `X-Nanyue-Signature: v1=<hex>` is the "
    "HMAC-SHA256, keyed with the subscription's secret, of `<X-Nanyue-Timestamp>.<raw body>`; compare in constant "
    "time and refuse stale timestamps. At least once: deduplicate by `id`. Answer 2xx; anything else, or no answer "
    "within 10 s, is retried with exponential backoff."
)


def _webhooks() -> dict[str, Any]:
    hooks = {}
    for event_type in EVENT_TYPES:
        payload = EVENT_PAYLOADS[event_type]
        envelope = {
            "type": "object",
            "required": ["id", "type", "created_at", "data"],
            "properties": {
                "id": {"type": "integer", "description": "事件编号，去重用 (event id: deduplicate by it)"},
                "type": {"type": "string", "const": event_type},
                "created_at": {"type": "string", "format": "date-time"},
                "data": payload["schema"],
            },
        }
        hooks[event_type] = {
            "post": {
                "operationId": "webhook_" + event_type.replace(".", "_"),
                "summary": payload["summary"],
                "description": SIGNATURE_DESCRIPTION,
                "parameters": [
                    {
                        "name": "X-Nanyue-Event",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "const": event_type},
                    },
                    {
                        "name": "X-Nanyue-Delivery",
                        "in": "header",
                        "required": True,
                        "description": "推送编号 (delivery id)",
                        "schema": {"type": "string", "pattern": r"^\d+$"},
                    },
                    {
                        "name": "X-Nanyue-Timestamp",
                        "in": "header",
                        "required": True,
                        "description": "Unix 秒 (Unix seconds)",
                        "schema": {"type": "string", "pattern": r"^\d+$"},
                    },
                    {
                        "name": "X-Nanyue-Signature",
                        "in": "header",
                        "required": True,
                        "description": "v1=HMAC-SHA256(secret, timestamp + '.' + body), hex",
                        "schema": {"type": "string", "pattern": "^v1=[0-9a-f]{64}$"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": envelope,
                            "example": {
                                "id": 42,
                                "type": event_type,
                                "created_at": "2026-11-27T08:30:00+00:00",
                                "data": payload["example"],
                            },
                        }
                    },
                },
                "responses": {
                    "2XX": {"description": "已收到 (received)"},
                    "default": {"description": "将重试 (will be retried)"},
                },
            }
        }
    return hooks
