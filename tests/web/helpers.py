"""Acting through the pages as a browser would: cookies, the CSRF token, forms."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient

from service.accounts.services import create_admin
from tests import factories

CSRF_COOKIE = "nanyue_csrf"
# The password the factories give people.
PASSWORD = getattr(factories, "PASSWORD", "正确的密码123")
STAFF_PASSWORD = "人社局审核员的密码-2026"


def bureau_staff(client: AsyncTestClient) -> tuple[str, int]:
    """A bureau admin who signs in through the pages: (phone, user id)."""
    number = factories.phone()
    row = client.blocking_portal.call(
        lambda: create_admin(phone=number, password=STAFF_PASSWORD, display_name="审核员")
    )
    return number, row["id"]


class Browser:
    """One person's browser over the shared test client (cookies are cleared between people)."""

    def __init__(self, client: AsyncTestClient) -> None:
        self.client = client

    def reset(self) -> None:
        self.client.cookies.clear()

    async def get(self, path: str, **kwargs: Any):
        return await self.client.get(path, follow_redirects=False, **kwargs)

    async def token(self) -> str:
        if CSRF_COOKIE not in self.client.cookies:
            await self.client.get("/login")
        return self.client.cookies[CSRF_COOKIE]

    async def post(self, path: str, data: dict | list | None = None, *, csrf: bool = True, **kwargs: Any):
        items = list(data.items()) if isinstance(data, dict) else list(data or [])
        flat: list[tuple[str, str]] = []
        for key, value in items:
            for v in value if isinstance(value, list) else [value]:
                flat.append((key, str(v)))
        if csrf:
            flat.append(("_csrf_token", await self.token()))
        body: dict[str, list[str]] = {}
        for key, value in flat:
            body.setdefault(key, []).append(value)
        return await self.client.post(path, data=body, follow_redirects=False, **kwargs)

    async def login(self, phone: str, password: str = PASSWORD) -> None:
        self.reset()
        response = await self.post("/login", {"phone": phone, "password": password})
        assert response.status_code == 303, response.text

    async def login_key(self, key: str) -> None:
        self.reset()
        response = await self.post("/login/agency", {"api_key": key})
        assert response.status_code == 303, response.text


def field_error(html: str, name: str) -> str | None:
    """The message shown next to field `name`, if any."""
    found = re.search(rf'id="{re.escape(name.replace(".", "-"))}-error">([^<]*)<', html)
    return found.group(1) if found else None


def input_value(html: str, name: str) -> str | None:
    found = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    return found.group(1) if found else None
