"""Who reaches which page: every page × every role, someone else's objects, CSRF, and the
API untouched by the session cookie."""

import re
from datetime import timedelta

import pytest

from service.registry.domain import today_local
from tests.factories import Registry, phone, post_request
from tests.web.helpers import PASSWORD, STAFF_PASSWORD, Browser, bureau_staff, field_error

# Each role's own pages (GET): reachable by it, refused to the others.
PAGES = {
    "employer": ["/household", "/household/requests/new", "/household/requests/new?category=elderly"],
    "worker": ["/worker", "/worker/profile"],
    "housekeeping": ["/agency", "/agency/workers/new", "/agency/import", "/agency/import/template.csv"],
    "admin": ["/bureau", "/bureau/reports", "/bureau/flags"],
    "training": ["/agency/institution"],
}
PUBLIC = ["/", "/login", "/login/agency", "/signup", "/c"]


@pytest.fixture
async def people(client, actors):
    registry = await Registry(client, actors).setup()
    worker_person, worker = await registry.worker(real_name="陈秀英", available_from=None)
    agency = await actors.agency("housekeeping")
    return {
        "employer": (await actors.employer()).phone,
        "worker": worker_person.phone,
        "admin": bureau_staff(client)[0],
        "housekeeping": agency.key,
        "training": registry.trainer.key,
        "_worker": worker,
        "_registry": registry,
    }


async def sign_in(browser: Browser, people: dict, role: str) -> None:
    if role in ("housekeeping", "training"):
        await browser.login_key(people[role])
    elif role == "admin":
        await browser.login(people["admin"], STAFF_PASSWORD)
    else:
        await browser.login(people[role])


async def test_every_page_by_every_role(client, people):
    browser = Browser(client)
    browser.reset()
    for path in PUBLIC:
        answer = await browser.get(path)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html"), path
    for pages in PAGES.values():
        for path in pages:
            answer = await browser.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next="), path
    for role in ("employer", "worker", "admin", "housekeeping", "training"):
        await sign_in(browser, people, role)
        for owner, pages in PAGES.items():
            for path in pages:
                answer = await browser.get(path)
                if owner == role:
                    assert answer.status_code == 200, (role, path, answer.text[:300])
                elif role == "training" and path == "/agency":
                    # An institution's clerk lands on its own records.
                    assert answer.status_code == 303 and answer.headers["location"] == "/agency/institution"
                else:
                    assert answer.status_code == 403, (role, path, answer.status_code)
                    assert "无权访问" in answer.text


async def test_someone_elses_objects_answer_404(client, actors, people):
    registry = people["_registry"]
    today = today_local()
    owner, stranger = await actors.employer(), await actors.employer()
    job = await post_request(
        client, owner, start_date=today.isoformat(), end_date=(today + timedelta(days=26)).isoformat()
    )
    worker = people["_worker"]
    made = await client.post(
        f"/api/v1/job-requests/{job['id']}/offers", headers=owner.headers, json={"worker_id": worker["id"]}
    )
    assert made.status_code == 201, made.text
    other_person, _ = await registry.worker(real_name="李美玲", available_from=None)
    other = Browser(client)
    await other.login(other_person.phone)
    # Another worker cannot accept her offer.
    assert (await other.post(f"/worker/offers/{made.json()['id']}/accept")).status_code == 404

    her = Browser(client)
    await her.login(people["worker"])
    accepted = await her.post(f"/worker/offers/{made.json()['id']}/accept")
    placement_id = accepted.headers["location"].rsplit("/", 1)[1]

    browser = Browser(client)
    await browser.login(stranger.phone)
    for path in (
        f"/household/requests/{job['id']}",
        f"/household/placements/{placement_id}",
        "/household/requests/999999",
    ):
        answer = await browser.get(path)
        assert answer.status_code == 404 and "页面不存在" in answer.text, path
    for path, data in (
        (f"/household/requests/{job['id']}/offers", {"worker_id": worker["id"]}),
        (f"/household/requests/{job['id']}/cancel", {}),
        (f"/household/placements/{placement_id}/complete", {}),
        (f"/household/offers/{made.json()['id']}/withdraw", {}),
    ):
        assert (await browser.post(path, data)).status_code == 404, path
    await other.login(other_person.phone)
    assert (await other.get(f"/worker/placements/{placement_id}")).status_code == 404

    # An agency sees only its own workers.
    agency_browser = Browser(client)
    await agency_browser.login_key(people["housekeeping"])
    assert (await agency_browser.get(f"/agency/workers/{worker['id']}")).status_code == 404
    assert (
        await agency_browser.post(
            f"/agency/workers/{worker['id']}/checks",
            {"kind": "health", "tier": "home", "result": "passed", "checked_on": today.isoformat()},
        )
    ).status_code == 404


async def test_unsafe_requests_need_the_csrf_token(client, people):
    browser = Browser(client)
    await browser.login(people["employer"])
    refused = await browser.post("/household/requests", {"category": "maternity"}, csrf=False)
    assert refused.status_code == 403
    forged = await browser.post("/logout", {"_csrf_token": "not-the-token"}, csrf=False)
    assert forged.status_code == 403
    assert (await browser.get("/household")).status_code == 200  # still signed in
    assert (await browser.post("/logout")).status_code == 303
    assert (await browser.get("/household")).status_code == 303


async def test_the_api_ignores_the_session_cookie_and_keeps_its_tokens(client, actors, people):
    browser = Browser(client)
    await browser.login(people["employer"])
    assert "nanyue_session" in client.cookies
    # The cookie does not authenticate the API, and the API needs no CSRF token.
    assert (await client.get("/api/v1/accounts/me")).status_code == 401
    employer = await actors.employer()
    assert (await client.get("/api/v1/accounts/me", headers=employer.headers)).status_code == 200
    assert "set-cookie" not in (await client.get("/api/v1/accounts/me", headers=employer.headers)).headers


async def test_session_cookie_flags_and_sign_in_errors(client, people):
    browser = Browser(client)
    browser.reset()
    await browser.get("/login")
    wrong = await browser.post("/login", {"phone": people["employer"], "password": "wrong-password"})
    assert wrong.status_code == 422 and "手机号或密码错误" in wrong.text
    assert people["employer"] in wrong.text and "wrong-password" not in wrong.text
    right = await browser.post("/login", {"phone": people["employer"], "password": PASSWORD, "next": "//evil.example/"})
    assert right.headers["location"] == "/household"
    cookie = [h for h in right.headers.get_list("set-cookie") if h.startswith("nanyue_session=")][0].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    bad_key = await browser.post("/login/agency", {"api_key": "nyk_00000000_nope"})
    assert bad_key.status_code == 422 and "密钥无效" in bad_key.text


async def test_a_revoked_key_ends_the_agency_session(client, actors, people):
    agency = await actors.agency("housekeeping", name="清远市巧手家政服务有限公司")
    admin = await actors.admin()
    browser = Browser(client)
    await browser.login_key(agency.key)
    assert (await browser.get("/agency")).status_code == 200
    keys = (await client.get(f"/api/v1/agencies/{agency.id}/api-keys", headers=admin.headers)).json()
    revoked = await client.delete(f"/api/v1/agencies/{agency.id}/api-keys/{keys[0]['id']}", headers=admin.headers)
    assert revoked.status_code == 204
    assert (await browser.get("/agency")).status_code == 303


async def test_signup_with_a_phone_code_keeps_what_was_typed(client, actors):
    browser = Browser(client)
    browser.reset()
    number = phone()
    good = "一个足够长的好密码呀呀"
    wrong_code = await browser.post(
        "/signup",
        {
            "role": "worker",
            "display_name": "陈秀英",
            "phone": number,
            "phone_code": "000000",
            "password": good,
            "password_again": good,
        },
    )
    assert wrong_code.status_code == 422 and "验证码" in field_error(wrong_code.text, "phone_code")
    assert 'value="陈秀英"' in wrong_code.text and good not in wrong_code.text
    code = await actors.phone_code(number)
    short = await browser.post(
        "/signup",
        {
            "role": "worker",
            "display_name": "陈秀英",
            "phone": number,
            "phone_code": code,
            "password": "短",
            "password_again": "短",
        },
    )
    assert short.status_code == 422 and re.search(r'id="password-error">至少 \d+ 个字符', short.text)
    made = await browser.post(
        "/signup",
        {
            "role": "worker",
            "display_name": "陈秀英",
            "phone": number,
            "phone_code": code,
            "password": good,
            "password_again": good,
        },
    )
    assert made.status_code == 303 and made.headers["location"] == "/worker/profile"
    assert (await browser.get("/worker/profile")).status_code == 200


async def test_password_reset_with_a_phone_code_signs_out_other_sessions(client, actors):
    person = await actors.employer()
    elsewhere = Browser(client)
    await elsewhere.login(person.phone)
    cookies = dict(client.cookies)
    browser = Browser(client)
    browser.reset()
    page = await browser.get("/password-reset")
    assert page.status_code == 200 and 'data-phone-code="reset_password"' in page.text
    new = "换一个新的长密码-2026"
    differ = await browser.post(
        "/password-reset",
        {"phone": person.phone, "phone_code": "123456", "new_password": new, "password_again": "不一样"},
    )
    assert differ.status_code == 422 and field_error(differ.text, "password_again")
    code = await actors.phone_code(person.phone, "reset_password")
    done = await browser.post(
        "/password-reset", {"phone": person.phone, "phone_code": code, "new_password": new, "password_again": new}
    )
    assert done.status_code == 303 and done.headers["location"] == "/login?reset=1"
    assert "密码已重置" in (await browser.get("/login?reset=1")).text
    await browser.login(person.phone, new)
    assert (await browser.get("/household")).status_code == 200
    # The session signed in with the old password is over.
    browser.reset()
    client.cookies.update(cookies)
    assert (await browser.get("/household")).status_code == 303


async def test_errors_are_pages_for_people_and_problems_for_the_api(client):
    browser = Browser(client)
    browser.reset()
    page = await browser.get("/no-such-page")
    assert (
        page.status_code == 404 and page.headers["content-type"].startswith("text/html") and "页面不存在" in page.text
    )
    api = await client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    refused = await browser.post("/login", {"phone": "13900000000", "password": "x"}, csrf=False)
    assert refused.status_code == 403 and "页面已过期" in refused.text


def test_cookies_are_secure_outside_development(settings):
    import msgspec

    from service.web.session import csrf_config, session_config

    production = msgspec.structs.replace(settings, environment="production")
    assert session_config(production).secure and csrf_config(production).cookie_secure
    assert session_config(production).httponly and session_config(production).samesite == "lax"
    assert not session_config(settings).secure  # development serves plain http on 127.0.0.1
