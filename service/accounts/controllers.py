from __future__ import annotations

from litestar import Controller, Request, Response, delete, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

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
    PasswordReset,
    PhoneCodeRequest,
    TokenRequest,
    TokenResponse,
)
from service.accounts.sms import sender_of
from service.accounts.throttle import counter_of
from service.errors import AppError, Unauthorized
from service.privacy import mask_phone
from service.schemas import PathId
from service.security import client_address

LOGIN_WINDOW_SECONDS = 15 * 60
CODES_PER_PHONE_PER_MINUTE = 1
CODES_PER_PHONE_PER_HOUR = 5
AGENCIES = (Role.HOUSEKEEPING, Role.TRAINING, Role.EVALUATION)


class TooManyAttempts(AppError):
    status_code = 429
    slug = "too-many-login-attempts"
    title = "登录失败次数过多，请稍后再试 (too many failed logins; try again later)"

    def __init__(self, retry_after: int) -> None:
        super().__init__(headers={"Retry-After": str(retry_after)})


class TooManyCodes(AppError):
    status_code = 429
    slug = "too-many-phone-codes"
    title = "验证码请求过于频繁，请稍后再试 (too many code requests; try again later)"

    def __init__(self, retry_after: int) -> None:
        super().__init__(headers={"Retry-After": str(retry_after)})


def login_phone_key(phone: str) -> str:
    return f"login:phone:{phone}"


def _account(row: dict) -> Account:
    return Account(
        id=row["id"],
        role=row["role"],
        phone=mask_phone(row["phone"]),
        display_name=row["display_name"],
        created_at=row["created_at"],
    )


class AccountController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @post(
        "/phone-codes",
        opt={"public": True},
        status_code=HTTP_202_ACCEPTED,
        operation_id="requestPhoneCode",
        summary="向手机发送一次性验证码（注册、认领档案、重置密码）(send a one-time code to a phone)",
        description=(
            "The answer is 202 whether or not the phone has an account. A code is valid for 5 minutes "
            "and 5 tries; a new one replaces it. At most one request per phone and purpose per minute, five "
            "per phone per hour (429 with Retry-After)."
        ),
    )
    async def request_phone_code(self, request: Request, data: JSONBody[PhoneCodeRequest]) -> Response[None]:
        settings = request.app.state.settings
        counter = counter_of(request.app)
        count, retry = await counter.hit(f"codes:address:{client_address(request)}", 3600)
        if count > settings.phone_codes_per_address_per_hour:
            raise TooManyCodes(retry)
        count, retry = await counter.hit(f"codes:minute:{data.phone}:{data.purpose}", 60)
        if count > CODES_PER_PHONE_PER_MINUTE:
            raise TooManyCodes(retry)
        count, retry = await counter.hit(f"codes:hour:{data.phone}", 3600)
        if count > CODES_PER_PHONE_PER_HOUR:
            raise TooManyCodes(retry)
        message = await services.new_phone_code_message(
            phone=data.phone, purpose=services.CodePurpose(data.purpose), secret=settings.secret_key
        )
        # Sent after the answer: the answer and its timing are the same whether or not a
        # message goes out.
        background = (
            BackgroundTask(services.deliver_sms, sender_of(request.app), data.phone, message) if message else None
        )
        return Response(None, status_code=HTTP_202_ACCEPTED, background=background)

    @post(
        "/accounts",
        opt={"public": True},
        operation_id="createAccount",
        summary="用短信验证码注册雇主或家政服务员账号 (register an employer or worker account with a phone code)",
    )
    async def create_account(self, request: Request, data: JSONBody[AccountCreate]) -> Account:
        row = await services.register_account(
            role=Role(data.role),
            phone=data.phone,
            password=data.password,
            display_name=data.display_name,
            phone_code=data.phone_code,
            secret=request.app.state.settings.secret_key,
        )
        return _account(row)

    @post(
        "/accounts/password-reset",
        opt={"public": True},
        status_code=HTTP_204_NO_CONTENT,
        operation_id="resetPassword",
        summary="用短信验证码重置密码 (set a new password with a phone code)",
        description="Bearer tokens issued before the reset stop working; a login lock on the phone is lifted.",
    )
    async def reset_password(self, request: Request, data: JSONBody[PasswordReset]) -> None:
        await services.reset_password(
            phone=data.phone,
            phone_code=data.phone_code,
            new_password=data.new_password,
            secret=request.app.state.settings.secret_key,
        )
        await counter_of(request.app).forget(login_phone_key(data.phone))

    @get(
        "/accounts/me",
        operation_id="getMyAccount",
        summary="当前账号 (the caller's account)",
        guards=[requires(Role.EMPLOYER, Role.WORKER, Role.ADMIN)],
    )
    async def me(self, request: Request) -> Account:
        user_id = principal_of(request).user_id
        if user_id is None:  # the guard admits only user roles
            raise Unauthorized()
        return _account(await services.get_user(user_id))

    @post(
        "/auth/token",
        opt={"public": True},
        status_code=HTTP_200_OK,
        operation_id="createToken",
        summary="用手机号和密码换取访问令牌 (exchange phone and password for a bearer token)",
    )
    async def token(self, request: Request, data: JSONBody[TokenRequest]) -> TokenResponse:
        settings = request.app.state.settings
        counter = counter_of(request.app)
        # Every attempt is counted before the password is checked, atomically, per phone
        # (whatever the address: the phone is what is guessed) and per client address (one
        # address trying many phones). A successful attempt is taken back, so what stays
        # counted for the window are failures: parallel guesses cannot pass the limit.
        phone_key, address_key = login_phone_key(data.phone), f"login:address:{client_address(request)}"
        by_phone, phone_retry = await counter.hit(phone_key, LOGIN_WINDOW_SECONDS)
        by_address, address_retry = await counter.hit(address_key, LOGIN_WINDOW_SECONDS)
        over_phone = by_phone > settings.login_attempts_per_minute
        over_address = by_address > settings.login_attempts_per_address
        if over_phone or over_address:
            raise TooManyAttempts(max(phone_retry if over_phone else 0, address_retry if over_address else 0))
        token = await services.login(
            phone=data.phone,
            password=data.password,
            secret=settings.secret_key,
            ttl_seconds=settings.token_ttl_seconds,
        )
        await counter.undo(phone_key)
        await counter.undo(address_key)
        return TokenResponse(access_token=token, token_type="bearer", expires_in=settings.token_ttl_seconds)


def _agency(row: dict) -> AgencyOut:
    return AgencyOut(**{f: row[f] for f in AgencyOut.__struct_fields__})


class AgencyController(Controller):
    path = "/api/v1/agencies"
    tags = ["agencies"]

    @post(
        "/",
        guards=[requires(Role.ADMIN)],
        operation_id="createAgency",
        summary="登记机构（管理员）(register an agency; admin)",
    )
    async def create_agency(self, data: JSONBody[AgencyCreate]) -> AgencyOut:
        return _agency(await services.create_agency(**{f: getattr(data, f) for f in data.__struct_fields__}))

    @get(
        "/{agency_id:int}",
        operation_id="getAgency",
        summary="查看机构 (read an agency)",
        guards=[requires(Role.ADMIN, *AGENCIES, scope="agency:read")],
    )
    async def get_agency(self, request: Request, agency_id: PathId) -> AgencyOut:
        return _agency(await services.get_agency(principal_of(request), agency_id))

    @post(
        "/{agency_id:int}/api-keys",
        operation_id="createApiKey",
        summary="签发 API 密钥，只显示一次 (issue an API key, shown once)",
        guards=[requires(Role.ADMIN, *AGENCIES, scope="keys:manage")],
    )
    async def issue_key(self, request: Request, agency_id: PathId, data: JSONBody[ApiKeyCreate]) -> ApiKeyIssued:
        row = await services.issue_api_key(principal_of(request), agency_id, scopes=data.scopes, label=data.label)
        return ApiKeyIssued(
            id=row["id"],
            key=row["key"],
            prefix=row["prefix"],
            scopes=row["scopes"],
            label=row["label"],
            created_at=row["created_at"],
        )

    @get(
        "/{agency_id:int}/api-keys",
        operation_id="listApiKeys",
        summary="机构的 API 密钥 (an agency's keys)",
        guards=[requires(Role.ADMIN, *AGENCIES, scope="keys:manage")],
    )
    async def list_keys(self, request: Request, agency_id: PathId) -> list[ApiKeyOut]:
        rows = await services.list_api_keys(principal_of(request), agency_id)
        return [ApiKeyOut(**{f: r[f] for f in ApiKeyOut.__struct_fields__}) for r in rows]

    @delete(
        "/{agency_id:int}/api-keys/{key_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        operation_id="revokeApiKey",
        summary="吊销 API 密钥 (revoke an API key)",
        guards=[requires(Role.ADMIN, *AGENCIES, scope="keys:manage")],
    )
    async def revoke_key(self, request: Request, agency_id: PathId, key_id: PathId) -> None:
        await services.revoke_api_key(principal_of(request), agency_id, key_id)
