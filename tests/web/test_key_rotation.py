"""Rotating SECRET_KEY signs nobody out of the pages: session and CSRF cookies made under
a key listed in OLD_SECRET_KEYS are accepted and re-issued under the new key."""

from __future__ import annotations

import httpx

from tests.conftest import in_app
from tests.faults.support import another_instance
from tests.web.helpers import CSRF_COOKIE, Browser

NEW_KEY = "a-new-secret-key-of-enough-length-0123456789"
SESSION_COOKIE = "nanyue_session"


def cookies_of(http: httpx.AsyncClient) -> dict[str, str]:
    return {cookie.name: cookie.value for cookie in http.cookies.jar}


async def test_page_sessions_survive_a_secret_key_rotation(client, app, actors):
    employer = await actors.employer()
    browser = Browser(client)
    await browser.login(employer.phone)
    before = {name: client.cookies[name] for name in (SESSION_COOKIE, CSRF_COOKIE)}
    assert (await browser.get("/household")).status_code == 200
    old_key = app.state.settings.secret_key
    browser.reset()

    async def scenario() -> dict[str, str]:
        # Without the old key listed, the old cookies are a stranger's: to the login page.
        async with another_instance(app, secret_key=NEW_KEY, old_secret_keys=()) as (_, http):
            http.cookies.update(before)
            answer = await http.get("/household")
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), answer.text

        async with another_instance(app, secret_key=NEW_KEY, old_secret_keys=(old_key,)) as (_, http):
            http.cookies.update(before)
            page = await http.get("/household")
            assert page.status_code == 200, page.text
            # Both cookies come back re-issued under the new key.
            reissued = cookies_of(http)
            assert reissued[SESSION_COOKIE] != before[SESSION_COOKIE]
            assert reissued[CSRF_COOKIE] != before[CSRF_COOKIE]
            # The same CSRF token, re-signed: a form rendered before the rotation still posts.
            assert reissued[CSRF_COOKIE][:64] == before[CSRF_COOKIE][:64]
            http.cookies.set(CSRF_COOKIE, before[CSRF_COOKIE])
            forged = await http.post("/logout", data={"_csrf_token": "0" * 64 + "f" * 64})
            assert forged.status_code == 403
            http.cookies.update(reissued)
            assert (await http.get("/household")).status_code == 200
            return cookies_of(http)

    reissued = in_app(client, scenario)

    async def after_the_old_key_is_dropped() -> None:
        async with another_instance(app, secret_key=NEW_KEY, old_secret_keys=()) as (_, http):
            http.cookies.update(reissued)
            assert (await http.get("/household")).status_code == 200
            # A form posts with the re-issued token (here: signing out).
            out = await http.post("/logout", data={"_csrf_token": reissued[CSRF_COOKIE]})
            assert out.status_code == 303, out.text
            assert f"{SESSION_COOKIE}=null" in out.headers.get("set-cookie", "")

    in_app(client, after_the_old_key_is_dropped)


async def test_a_form_rendered_before_the_rotation_still_posts(client, app, actors):
    employer = await actors.employer()
    browser = Browser(client)
    await browser.login(employer.phone)
    before = {name: client.cookies[name] for name in (SESSION_COOKIE, CSRF_COOKIE)}
    old_key = app.state.settings.secret_key
    browser.reset()

    async def scenario() -> None:
        async with another_instance(app, secret_key=NEW_KEY, old_secret_keys=(old_key,)) as (_, http):
            http.cookies.update(before)
            out = await http.post("/logout", data={"_csrf_token": before[CSRF_COOKIE]})
            assert out.status_code == 303, out.text

    in_app(client, scenario)
