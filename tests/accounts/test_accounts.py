"""Registering, logging in, and what a token does and does not open."""

from datetime import datetime, timedelta, timezone

import jwt
from litestar.security.jwt import Token

from tests.conftest import in_app
from tests.factories import PASSWORD, phone


async def test_an_employer_registers_logs_in_and_reads_her_account(client, actors):
    number = phone()
    created = await client.post(
        "/api/v1/accounts",
        json={
            "role": "employer",
            "phone": number,
            "password": "好记的密码-2026",
            "display_name": "林女士",
            "phone_code": await actors.phone_code(number),
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body["role"] == "employer"
    assert body["phone"] == number[:3] + "****" + number[-4:]
    assert "password" not in created.text and "hash" not in created.text

    headers = await actors.login(number, "好记的密码-2026")
    me = await client.get("/api/v1/accounts/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["display_name"] == "林女士"


async def test_the_same_phone_cannot_register_twice(client, actors, app):
    number = phone()
    body = {"role": "worker", "phone": number, "password": "陈阿姨的密码-2026", "display_name": "陈阿姨"}
    first = await client.post("/api/v1/accounts", json=body | {"phone_code": await actors.phone_code(number)})
    assert first.status_code == 201
    # Only a caller holding a fresh code for the phone learns that it is taken.
    in_app(client, app.stores.get("throttle").delete_all)  # a minute later: a new code may be sent
    again = await client.post("/api/v1/accounts", json=body | {"phone_code": await actors.phone_code(number)})
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["errors"][0]["field"] == "phone"


async def test_nobody_registers_as_admin_through_the_api(client):
    response = await client.post(
        "/api/v1/accounts",
        json={
            "role": "admin",
            "phone": phone(),
            "password": "陈阿姨的密码-2026",
            "display_name": "x",
            "phone_code": "123456",
        },
    )
    assert response.status_code == 400
    assert any(e["field"] == "role" for e in response.json()["errors"])


async def test_wrong_password_is_401_and_repeated_failures_lock_the_phone(client, actors, settings):
    person = await actors.employer()
    for _ in range(settings.login_attempts_per_minute):
        wrong = await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": "wrong-password"})
        assert wrong.status_code == 401
    locked = await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": PASSWORD})
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60


async def test_unknown_phone_and_wrong_password_read_the_same(client, actors):
    person = await actors.employer()
    unknown = await client.post("/api/v1/auth/token", json={"phone": phone(), "password": "whatever-123"})
    wrong = await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": "whatever-123"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["detail"] == wrong.json()["detail"]


async def test_bad_forged_and_expired_tokens_are_401(client, actors, settings):
    person = await actors.employer()
    assert (await client.get("/api/v1/accounts/me", headers={"Authorization": "Bearer nonsense"})).status_code == 401
    forged = Token(exp=datetime.now(timezone.utc) + timedelta(hours=1), sub=str(person.id)).encode(
        "another-secret-of-at-least-32-bytes!", "HS256"
    )
    assert (await client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
    past = datetime.now(timezone.utc) - timedelta(seconds=5)
    expired = jwt.encode(
        {"sub": str(person.id), "exp": past, "iat": past - timedelta(hours=1)}, settings.secret_key, "HS256"
    )
    response = await client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_token_made_in_the_second_of_a_password_change_is_told_apart_by_its_milliseconds():
    from service.security import issue_token, issued_before, read_token

    secret = "a-secret-of-at-least-thirty-two-bytes"
    token = read_token(issue_token(user_id=7, role="employer", secret=secret, ttl_seconds=60), secret)
    assert token is not None
    made = datetime.fromtimestamp(token.extras["iat_ms"] / 1000, timezone.utc)
    # The password changed a millisecond after the token was made, in the same second or not.
    assert issued_before(token, made + timedelta(milliseconds=1))
    assert issued_before(token, made)  # the same millisecond: before, to be safe
    # A token made a millisecond after the change stays good, though its `iat` second is the change's.
    assert not issued_before(token, made - timedelta(milliseconds=1))
    # A token without `iat_ms` (made before it existed) is judged by its whole-second `iat`.
    legacy = Token(exp=datetime.now(timezone.utc) + timedelta(hours=1), sub="7", iat=token.iat)
    assert not issued_before(legacy, token.iat + timedelta(milliseconds=999))
    assert issued_before(legacy, token.iat + timedelta(seconds=1))


def test_a_token_is_good_only_for_the_password_it_names():
    from service.security import for_current_password, issue_token, read_token

    secret = "a-secret-of-at-least-thirty-two-bytes"
    set_at = datetime(2026, 11, 28, 8, 0, 0, 123456, tzinfo=timezone.utc)
    token = read_token(issue_token(user_id=7, role="employer", secret=secret, ttl_seconds=60, password=set_at), secret)
    assert token is not None
    assert for_current_password(token, set_at)
    assert not for_current_password(token, set_at + timedelta(microseconds=1))  # changed since, however soon
    assert not for_current_password(token, None)
    first = read_token(issue_token(user_id=7, role="employer", secret=secret, ttl_seconds=60), secret)
    assert first is not None and for_current_password(first, None)
    assert not for_current_password(first, datetime.now(timezone.utc))  # issued for the first password
    # A token without `pwd` (made before it existed) is judged by when it was issued.
    legacy = Token(exp=datetime.now(timezone.utc) + timedelta(hours=1), sub="7", iat=first.iat)
    assert for_current_password(legacy, None)
    assert for_current_password(legacy, first.iat - timedelta(seconds=1))
    assert not for_current_password(legacy, first.iat + timedelta(seconds=1))


async def test_no_credentials_means_no_access(client):
    assert (await client.get("/api/v1/accounts/me")).status_code == 401
    assert (await client.get("/api/v1/workers")).status_code == 401
    assert (await client.get("/api/v1/workers/1")).status_code == 401
