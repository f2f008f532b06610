"""Sign in, sign out, sign up: people with a phone and password, agency staff with an API key."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery

from service.accounts import services as accounts
from service.accounts.controllers import login_phone_key
from service.accounts.guards import principal_of
from service.accounts.schemas import AccountCreate, PasswordReset
from service.accounts.tables import ApiKey, User
from service.accounts.throttle import counter_of
from service.errors import AppError, found
from service.schemas import LINE
from service.security import api_key_digest, api_key_prefix, client_address, digests_match
from service.web.common import HOME_BY_ROLE, form_page, form_values, page, see_other
from service.web.forms import FormErrors, app_error_fields, decode_form
from service.web.session import password_stamp

LOGIN_WINDOW_SECONDS = 15 * 60


class LoginForm(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    phone: Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=LINE)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=LINE)]


class KeyLoginForm(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    api_key: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=LINE)]


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no protocol-relative `//`)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


TOO_MANY = "登录失败次数过多，请稍后再试 (too many failed logins; try again later)"


async def _count_attempt(request: Request, *keys: str) -> list[str]:
    """The API's login throttle, on the same counters: every attempt is counted before the
    secret is checked, per phone (or key) and per client address; a success is taken back."""
    settings = request.app.state.settings
    counter = counter_of(request.app)
    address_key = f"login:address:{client_address(request)}"
    by_address, _ = await counter.hit(address_key, LOGIN_WINDOW_SECONDS)
    over = by_address > settings.login_attempts_per_address
    for key in keys:
        count, _ = await counter.hit(key, LOGIN_WINDOW_SECONDS)
        over = over or count > settings.login_attempts_per_minute
    if over:
        raise FormErrors({}, TOO_MANY)
    return [address_key, *keys]


async def _succeeded(request: Request, keys: list[str]) -> None:
    counter = counter_of(request.app)
    for key in keys:
        await counter.undo(key)


class AccountPages(Controller):
    opt = {"public": True}

    @get("/", name="home")
    async def home(self, request: Request) -> object:
        principal = principal_of(request)
        if principal.role is not None:
            return see_other(HOME_BY_ROLE[principal.role])
        return page(request, "home.html")

    @get("/login")
    async def login_form(
        self, request: Request, next: FromQuery[str | None] = None, reset: FromQuery[str | None] = None
    ) -> object:
        return page(request, "login.html", values={"next": _safe_next(next) or "", "reset": reset == "1"}, errors={})

    @post("/login")
    async def login(self, request: Request) -> object:
        form = await request.form()
        values = form_values(form)
        values.pop("password", None)  # never echoed back
        try:
            data = decode_form(form, LoginForm)
            keys = await _count_attempt(request, login_phone_key(data.phone))
            settings = request.app.state.settings
            try:
                await accounts.login(
                    phone=data.phone,
                    password=data.password,
                    secret=settings.secret_key,
                    ttl_seconds=settings.token_ttl_seconds,
                )
            except AppError:
                raise FormErrors({}, "手机号或密码错误 (wrong phone number or password)") from None
            await _succeeded(request, keys)
        except FormErrors as errors:
            return form_page(request, "login.html", errors, values)
        user = found(await User.select(User.id, User.role, User.password_hash).where(User.phone == data.phone).first())
        request.clear_session()
        request.set_session({"uid": user["id"], "pw": password_stamp(user["password_hash"])})
        return see_other(_safe_next(form.get("next")) or HOME_BY_ROLE[principal_of_role(user["role"])])

    @get("/login/agency")
    async def agency_form(self, request: Request) -> object:
        return page(request, "login_agency.html", values={}, errors={})

    @post("/login/agency")
    async def agency_login(self, request: Request) -> object:
        form = await request.form()
        try:
            data = decode_form(form, KeyLoginForm)
            key = data.api_key.strip()
            keys = await _count_attempt(request)
            prefix = api_key_prefix(key)
            row = None
            if prefix is not None:
                row = (
                    await ApiKey.select(ApiKey.id, ApiKey.digest, ApiKey.revoked_at)
                    .where(ApiKey.prefix == prefix)
                    .first()
                )
            if row is None or row["revoked_at"] is not None or not digests_match(row["digest"], api_key_digest(key)):
                raise FormErrors({"api_key": "密钥无效或已吊销 (the key is invalid or revoked)"})
            await _succeeded(request, keys)
        except FormErrors as errors:
            return form_page(request, "login_agency.html", errors, {})
        request.clear_session()
        request.set_session({"kid": row["id"]})
        return see_other("/agency")

    @post("/logout")
    async def logout(self, request: Request) -> object:
        request.clear_session()
        return see_other("/")

    @get("/signup")
    async def signup_form(self, request: Request, role: FromQuery[str | None] = None) -> object:
        return page(request, "signup.html", values={"role": role if role in ("employer", "worker") else ""}, errors={})

    @post("/signup")
    async def signup(self, request: Request) -> object:
        form = await request.form()
        values = form_values(form)
        values.pop("password", None)
        try:
            if form.get("password") != form.get("password_again"):
                raise FormErrors({"password_again": "两次输入的密码不一致 (the passwords differ)"})
            data = decode_form(form, AccountCreate)
            try:
                row = await accounts.register_account(
                    role=principal_role(data.role),
                    phone=data.phone,
                    password=data.password,
                    display_name=data.display_name,
                    phone_code=data.phone_code,
                    secret=request.app.state.settings.secret_key,
                )
            except AppError as exc:
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            values.pop("password_again", None)
            return form_page(request, "signup.html", errors, values)
        user = found(await User.select(User.password_hash).where(User.id == row["id"]).first())
        request.clear_session()
        request.set_session({"uid": row["id"], "pw": password_stamp(user["password_hash"])})
        return see_other("/worker/profile" if data.role == "worker" else "/household/requests/new")

    @get("/password-reset")
    async def reset_form(self, request: Request) -> object:
        return page(request, "password_reset.html", values={}, errors={})

    @post("/password-reset")
    async def reset(self, request: Request) -> object:
        form = await request.form()
        values = {k: v for k, v in form_values(form).items() if k in ("phone", "phone_code")}
        try:
            if form.get("new_password") != form.get("password_again"):
                raise FormErrors({"password_again": "两次输入的密码不一致 (the passwords differ)"})
            data = decode_form(form, PasswordReset)
            try:
                await accounts.reset_password(
                    phone=data.phone,
                    phone_code=data.phone_code,
                    new_password=data.new_password,
                    secret=request.app.state.settings.secret_key,
                )
            except AppError as exc:
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return form_page(request, "password_reset.html", errors, values)
        await counter_of(request.app).forget(login_phone_key(data.phone))
        request.clear_session()
        return see_other("/login?reset=1")


def principal_role(value: str):
    from service.accounts.guards import Role

    return Role(value)


principal_of_role = principal_role
