"""One-time codes sent to the phone: registering, claiming a record, resetting a password."""

from __future__ import annotations

import json
from functools import partial

import anyio
import httpx
import pytest
from piccolo.querystring import QueryString

from service.accounts.sms import HttpSmsSender, LogSmsSender, SmsError, make_sender, sender_of
from service.security import issue_token
from service.settings import load_settings
from tests.conftest import in_app, send, tuned
from tests.factories import PASSWORD, phone, worker_body


def account(number: str, code: str | None, **extra) -> dict:
    body = {"role": "worker", "phone": number, "password": "陈阿姨的密码-2026", "display_name": "陈阿姨"}
    if code is not None:
        body["phone_code"] = code
    return body | extra


def allow_resend(client, app) -> None:
    """As if the resend wait were over."""
    in_app(client, app.stores.get("throttle").delete_all)


def rows(client, app, sql: str, *args) -> list[dict]:
    return in_app(client, lambda: app.state.engine.run_querystring(QueryString(sql, *args)))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def test_registering_needs_the_code_sent_to_the_phone(client, actors):
    number = phone()
    missing = await client.post("/api/v1/accounts", json=account(number, None))
    assert missing.status_code == 400 and any(e["field"] == "phone_code" for e in missing.json()["errors"])
    never_sent = await client.post("/api/v1/accounts", json=account(number, "123456"))
    assert never_sent.status_code == 422 and never_sent.json()["errors"][0]["field"] == "phone_code"

    code = await actors.phone_code(number)
    bad = await client.post("/api/v1/accounts", json=account(number, wrong(code)))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "phone_code"
    assert "验证码" in bad.json()["errors"][0]["message"]
    created = await client.post("/api/v1/accounts", json=account(number, code))
    assert created.status_code == 201
    # A code works once.
    again = await client.post("/api/v1/accounts", json=account(number, code))
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "phone_code"


async def test_a_code_for_one_phone_or_purpose_does_not_open_another(client, actors, app):
    number, other = phone(), phone()
    code = await actors.phone_code(number)
    assert (await client.post("/api/v1/accounts", json=account(other, code))).status_code == 422
    await client.post("/api/v1/accounts", json=account(number, code))
    reset_code = await actors.phone_code(number, "reset_password")
    allow_resend(client, app)
    taken = await client.post("/api/v1/accounts", json=account(number, reset_code))
    assert taken.status_code == 422  # a reset code is not a registration code


async def test_codes_are_stored_hashed(client, actors, app):
    number = phone()
    code = await actors.phone_code(number)
    [row] = rows(client, app, "SELECT * FROM phone_code WHERE phone = {}", number)
    assert code not in json.dumps(row, default=str)
    assert len(row["code_digest"]) == 64


async def test_five_tries_then_the_code_is_dead(client, actors):
    number = phone()
    code = await actors.phone_code(number)
    for _ in range(5):
        assert (await client.post("/api/v1/accounts", json=account(number, wrong(code)))).status_code == 422
    assert (await client.post("/api/v1/accounts", json=account(number, code))).status_code == 422


async def test_parallel_guesses_get_five_tries_in_all(client, actors, app):
    number = phone()
    code = await actors.phone_code(number)
    guesses = [f"{n:06d}" for n in range(30) if f"{n:06d}" != code][:20]
    answers = send(client, app, "192.0.2.30", [("POST", "/api/v1/accounts", account(number, g), {}) for g in guesses])
    assert all(r.status_code == 422 for r in answers)
    [row] = rows(client, app, "SELECT attempts FROM phone_code WHERE phone = {}", number)
    assert row["attempts"] == 5
    assert (await client.post("/api/v1/accounts", json=account(number, code))).status_code == 422


async def test_a_code_expires_after_five_minutes(client, actors, app):
    number = phone()
    code = await actors.phone_code(number)
    [row] = rows(client, app, "SELECT expires_at - created_at AS ttl FROM phone_code WHERE phone = {}", number)
    assert row["ttl"].total_seconds() == 300
    rows(client, app, "UPDATE phone_code SET expires_at = now() - interval '1 second' WHERE phone = {}", number)
    assert (await client.post("/api/v1/accounts", json=account(number, code))).status_code == 422


async def test_a_new_code_replaces_the_old_one(client, actors, app):
    number = phone()
    first = await actors.phone_code(number)
    allow_resend(client, app)
    second = await actors.phone_code(number)
    if first != second:
        assert (await client.post("/api/v1/accounts", json=account(number, first))).status_code == 422
    assert (await client.post("/api/v1/accounts", json=account(number, second))).status_code == 201


async def test_resending_is_limited_per_phone(client, app):
    number = phone()
    body = {"phone": number, "purpose": "register"}
    assert (await client.post("/api/v1/phone-codes", json=body)).status_code == 202
    too_soon = await client.post("/api/v1/phone-codes", json=body)
    assert too_soon.status_code == 429
    assert 0 < int(too_soon.headers["retry-after"]) <= 60
    sent = []
    for _ in range(5):  # a minute later each time: five an hour in all
        in_app(client, app.stores.get("throttle").delete, f"codes:minute:{number}:register")
        sent.append((await client.post("/api/v1/phone-codes", json=body)).status_code)
    assert sent == [202, 202, 202, 202, 429]
    other_purpose = await client.post("/api/v1/phone-codes", json={"phone": number, "purpose": "claim"})
    assert other_purpose.status_code == 429  # the hourly limit is per phone, whatever the purpose
    assert 60 < int(other_purpose.headers["retry-after"]) <= 3600


async def test_code_requests_are_limited_per_client_address(client, app):
    with tuned(app, phone_codes_per_address_per_hour=3):
        answers = [
            send(
                client,
                app,
                "192.0.2.31",
                [
                    (
                        "POST",
                        "/api/v1/phone-codes",
                        {"phone": phone(), "purpose": "register"},
                        {"X-Forwarded-For": f"203.0.113.{i}"},
                    )
                ],
            )[0]
            for i in range(5)
        ]
    assert [r.status_code for r in answers] == [202, 202, 202, 429, 429]


async def test_asking_for_a_code_does_not_tell_whether_the_phone_is_registered(client, actors, app):
    registered = await actors.worker_account()
    unknown = phone()
    allow_resend(client, app)
    for purpose in ("register", "claim", "reset_password"):
        known = await client.post("/api/v1/phone-codes", json={"phone": registered.phone, "purpose": purpose})
        other = await client.post("/api/v1/phone-codes", json={"phone": unknown, "purpose": purpose})
        assert known.status_code == other.status_code == 202
        assert known.content == other.content
        assert set(known.headers) - {"x-request-id"} == set(other.headers) - {"x-request-id"}
    # Only a registration code is sent to a phone without an account.
    sender = sender_of(app)
    assert sender.last_code(unknown) is not None
    assert [p for p, _ in sender.sent].count(unknown) == 1
    # Only the holder of a valid code learns that the phone is taken (and may reset instead).
    allow_resend(client, app)
    taken = await client.post(
        "/api/v1/accounts", json=account(registered.phone, await actors.phone_code(registered.phone))
    )
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "phone"


async def test_claiming_a_record_needs_a_code_sent_to_her_phone(client, actors):
    agency = await actors.agency("housekeeping")
    person = await actors.worker_account()
    body = worker_body(phone=person.phone)
    record = (await client.post("/api/v1/workers", headers=agency.headers, json=body)).json()

    without = await client.post("/api/v1/workers/claim", headers=person.headers, json={"id_number": body["id_number"]})
    assert without.status_code == 400 and any(e["field"] == "phone_code" for e in without.json()["errors"])
    guessed = await client.post(
        "/api/v1/workers/claim", headers=person.headers, json={"id_number": body["id_number"], "phone_code": "000000"}
    )
    assert guessed.status_code == 422 and guessed.json()["errors"][0]["field"] == "phone_code"
    claimed = await client.post(
        "/api/v1/workers/claim",
        headers=person.headers,
        json={"id_number": body["id_number"], "phone_code": await actors.phone_code(person.phone, "claim")},
    )
    assert claimed.status_code == 200 and claimed.json()["id"] == record["id"]


async def test_a_code_is_used_up_by_a_claim_that_finds_nothing(client, actors, app):
    person = await actors.worker_account()
    code = await actors.phone_code(person.phone, "claim")
    first = await client.post(
        "/api/v1/workers/claim",
        headers=person.headers,
        json={"id_number": worker_body()["id_number"], "phone_code": code},
    )
    assert first.status_code == 409 and first.json()["type"].endswith("/identity-unavailable")
    again = await client.post(
        "/api/v1/workers/claim",
        headers=person.headers,
        json={"id_number": worker_body()["id_number"], "phone_code": code},
    )
    assert again.status_code == 422


async def test_a_password_is_reset_with_a_phone_code(client, actors, app, settings):
    person = await actors.employer()
    old_headers = person.headers
    for _ in range(settings.login_attempts_per_minute):  # someone has locked her out
        await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": "wrong-password"})
    assert (
        await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": PASSWORD})
    ).status_code == 429

    code = await actors.phone_code(person.phone, "reset_password")
    url = "/api/v1/accounts/password-reset"
    weak = await client.post(url, json={"phone": person.phone, "phone_code": code, "new_password": "password"})
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "new_password"
    bad = await client.post(
        url, json={"phone": person.phone, "phone_code": wrong(code), "new_password": "新的密码-2026-秋"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "phone_code"
    done = await client.post(url, json={"phone": person.phone, "phone_code": code, "new_password": "新的密码-2026-秋"})
    assert done.status_code == 204

    assert (await client.get("/api/v1/accounts/me", headers=old_headers)).status_code == 401
    old = await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": PASSWORD})
    assert old.status_code == 401  # and the lock was lifted: 401, not 429
    fresh = await actors.login(person.phone, "新的密码-2026-秋")
    assert (await client.get("/api/v1/accounts/me", headers=fresh)).status_code == 200


async def test_a_login_checked_while_the_password_is_reset_gets_no_working_token(
    client, actors, app, settings, monkeypatch
):
    """The old password is being checked (argon2, in a thread) when a reset lands."""
    from service.accounts import services

    person = await actors.employer()
    code = await actors.phone_code(person.phone, "reset_password")
    checked = services.verify_password

    def reset_while_checking(password_hash: str, password: str) -> bool:
        valid = checked(password_hash, password)
        anyio.from_thread.run(
            partial(
                services.reset_password,
                phone=person.phone,
                phone_code=code,
                new_password="新的密码-2026-冬",
                secret=settings.secret_key,
            )
        )
        return valid

    monkeypatch.setattr(services, "verify_password", reset_while_checking)
    raced = await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": PASSWORD})
    monkeypatch.undo()
    assert raced.status_code == 401
    # Even a token issued for that password, had the login got past its second look, is dead.
    [row] = rows(client, app, "SELECT password_changed_at FROM app_user WHERE phone = {}", person.phone)
    assert row["password_changed_at"] is not None
    stale = issue_token(user_id=person.id, role="employer", secret=settings.secret_key, ttl_seconds=60)
    assert (await client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {stale}"})).status_code == 401
    fresh = await actors.login(person.phone, "新的密码-2026-冬")
    assert (await client.get("/api/v1/accounts/me", headers=fresh)).status_code == 200


async def test_a_reset_for_a_phone_without_account_reads_like_a_wrong_code(client, actors):
    number = phone()
    sent = await client.post("/api/v1/phone-codes", json={"phone": number, "purpose": "reset_password"})
    assert sent.status_code == 202
    reset = await client.post(
        "/api/v1/accounts/password-reset",
        json={"phone": number, "phone_code": "123456", "new_password": "新的密码-2026-秋"},
    )
    assert reset.status_code == 422 and reset.json()["errors"][0]["field"] == "phone_code"


async def test_the_gateway_adapter_posts_the_message_with_its_credentials():
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    async with httpx.AsyncClient(transport=httpx.MockTransport(gateway)) as http:
        sender = HttpSmsSender(http, "https://sms.gateway.test/v1/send", "gw-key-1")
        await sender.send("13900000009", "【南粤家政】您的验证码是 123456")
    [request] = seen
    assert request.method == "POST" and str(request.url) == "https://sms.gateway.test/v1/send"
    assert request.headers["authorization"] == "Bearer gw-key-1"
    assert json.loads(request.content) == {"phone": "13900000009", "message": "【南粤家政】您的验证码是 123456"}


@pytest.mark.parametrize(
    "answer",
    [
        lambda request: httpx.Response(500),
        lambda request: httpx.Response(401, json={"error": "bad key"}),
        lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused", request=request)),
    ],
)
async def test_the_gateway_adapter_reports_a_failed_send(answer):
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        with pytest.raises(SmsError):
            await HttpSmsSender(http, "https://sms.gateway.test/v1/send", "gw-key-1").send("13900000009", "x")


async def test_the_app_sends_codes_through_the_configured_gateway(client, actors, app):
    messages: list[dict] = []
    down = False

    def gateway(request: httpx.Request) -> httpx.Response:
        if down:
            return httpx.Response(503)
        messages.append(json.loads(request.content))
        return httpx.Response(200)

    before = sender_of(app)
    http = httpx.AsyncClient(transport=httpx.MockTransport(gateway))
    app.state.sms_sender = HttpSmsSender(http, "https://sms.gateway.test/v1/send", "gw-key-1")
    try:
        number = phone()
        assert (
            await client.post("/api/v1/phone-codes", json={"phone": number, "purpose": "register"})
        ).status_code == 202
        [message] = messages
        assert message["phone"] == number
        code = message["message"].split("验证码是 ")[1][:6]
        assert (await client.post("/api/v1/accounts", json=account(number, code))).status_code == 201
        down = True  # the gateway failing does not change the answer
        assert (
            await client.post("/api/v1/phone-codes", json={"phone": phone(), "purpose": "register"})
        ).status_code == 202
    finally:
        app.state.sms_sender = before
        in_app(client, http.aclose)


def test_settings_choose_the_sender(tmp_path):
    env = {"SECRET_KEY": "s" * 40, "DATA_KEY": "A" * 43 + "=", "VAR_DIR": str(tmp_path)}
    assert isinstance(make_sender(load_settings(env), None), LogSmsSender)
    gateway = load_settings(
        env | {"SMS_SENDER": "http", "SMS_GATEWAY_URL": "https://sms.gateway.test/v1/send", "SMS_GATEWAY_KEY": "k"}
    )
    async_client = httpx.AsyncClient()
    assert isinstance(make_sender(gateway, async_client), HttpSmsSender)
    with pytest.raises(SystemExit):
        load_settings(env | {"SMS_SENDER": "http"})
    with pytest.raises(SystemExit):
        load_settings(env | {"SMS_SENDER": "pigeon"})
    proxies = load_settings(env | {"TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1"})
    assert proxies.trusted_proxies == ("10.0.0.0/8", "192.0.2.1")
    with pytest.raises(SystemExit):
        load_settings(env | {"TRUSTED_PROXIES": "10.0.0.0/33"})
