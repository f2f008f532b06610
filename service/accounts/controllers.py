from __future__ import annotations

from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from litestar.stores.base import Store

from service.accounts import services
from service.accounts.guards import Role, principal_of, requires
from service.accounts.schemas import (
    Account,
    AccountCreate,
    AgencyCreate,
    AgencyOut,
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyOut,
    TokenRequest,
    TokenResponse,
)
from service.errors import AppError
from service.privacy import mask_phone
from service.schemas import PathId

LOGIN_WINDOW_SECONDS = 15 * 60
AGENCIES = (Role.HOUSEKEEPING, Role.TRAINING, Role.EVALUATION)


class TooManyAttempts(AppError):
    status_code = 429
    slug = "too-many-login-attempts"
    title = "登录失败次数过多，请 15 分钟后再试 (too many failed logins; try again in 15 minutes)"


def _account(row: dict) -> Account:
    return Account(
        id=row["id"], role=row["role"], phone=mask_phone(row["phone"]),
        display_name=row["display_name"], created_at=row["created_at"],
    )


class AccountController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @post("/accounts", opt={"public": True}, operation_id="createAccount",
          summary="注册雇主或家政服务员账号 (register an employer or worker account)")
    async def create_account(self, data: JSONBody[AccountCreate]) -> Account:
        row = await services.register_user(
            role=Role(data.role), phone=data.phone, password=data.password, display_name=data.display_name
        )
        return _account(row)

    @get("/accounts/me", operation_id="getMyAccount", summary="当前账号 (the caller's account)",
         guards=[requires(Role.EMPLOYER, Role.WORKER, Role.ADMIN)])
    async def me(self, request: Request) -> Account:
        return _account(await services.get_user(principal_of(request).user_id))

    @post("/auth/token", opt={"public": True}, status_code=HTTP_200_OK, operation_id="createToken",
          summary="用手机号和密码换取访问令牌 (exchange phone and password for a bearer token)")
    async def token(self, request: Request, data: JSONBody[TokenRequest]) -> TokenResponse:
        settings = request.app.state.settings
        store: Store = request.app.stores.get("login_failures")
        # Counted per phone and client address: guessing is slowed without letting anyone
        # lock another person out from elsewhere.
        key = f"{data.phone}|{request.client.host if request.client else '-'}"
        failures = int(await store.get(key) or 0)
        if failures >= settings.login_attempts_per_minute:
            raise TooManyAttempts()
        try:
            token = await services.login(
                phone=data.phone, password=data.password,
                secret=settings.secret_key, ttl_seconds=settings.token_ttl_seconds,
            )
        except AppError:
            await store.set(key, str(failures + 1), expires_in=LOGIN_WINDOW_SECONDS)
            raise
        await store.delete(key)
        return TokenResponse(access_token=token, token_type="bearer", expires_in=settings.token_ttl_seconds)


def _agency(row: dict) -> AgencyOut:
    return AgencyOut(**{f: row[f] for f in AgencyOut.__struct_fields__})


class AgencyController(Controller):
    path = "/api/v1/agencies"
    tags = ["agencies"]

    @post("/", guards=[requires(Role.ADMIN)], operation_id="createAgency",
          summary="登记机构（管理员）(register an agency; admin)")
    async def create_agency(self, data: JSONBody[AgencyCreate]) -> AgencyOut:
        return _agency(await services.create_agency(**{f: getattr(data, f) for f in data.__struct_fields__}))

    @get("/{agency_id:int}", operation_id="getAgency", summary="查看机构 (read an agency)",
         guards=[requires(Role.ADMIN, *AGENCIES, scope="agency:read")])
    async def get_agency(self, request: Request, agency_id: PathId) -> AgencyOut:
        return _agency(await services.get_agency(principal_of(request), agency_id))

    @post("/{agency_id:int}/api-keys", operation_id="createApiKey",
          summary="签发 API 密钥，只显示一次 (issue an API key, shown once)",
          guards=[requires(Role.ADMIN, *AGENCIES, scope="keys:manage")])
    async def issue_key(self, request: Request, agency_id: PathId, data: JSONBody[ApiKeyCreate]) -> ApiKeyIssued:
        row = await services.issue_api_key(principal_of(request), agency_id, scopes=data.scopes, label=data.label)
        return ApiKeyIssued(id=row["id"], key=row["key"], prefix=row["prefix"], scopes=row["scopes"],
                            label=row["label"], created_at=row["created_at"])

    @get("/{agency_id:int}/api-keys", operation_id="listApiKeys", summary="机构的 API 密钥 (an agency's keys)",
         guards=[requires(Role.ADMIN, *AGENCIES, scope="keys:manage")])
    async def list_keys(self, request: Request, agency_id: PathId) -> list[ApiKeyOut]:
        rows = await services.list_api_keys(principal_of(request), agency_id)
        return [ApiKeyOut(**{f: r[f] for f in ApiKeyOut.__struct_fields__}) for r in rows]

    @delete("/{agency_id:int}/api-keys/{key_id:int}", status_code=HTTP_204_NO_CONTENT, operation_id="revokeApiKey",
            summary="吊销 API 密钥 (revoke an API key)",
            guards=[requires(Role.ADMIN, *AGENCIES, scope="keys:manage")])
    async def revoke_key(self, request: Request, agency_id: PathId, key_id: PathId) -> None:
        await services.revoke_api_key(principal_of(request), agency_id, key_id)
