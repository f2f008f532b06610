"""New passwords: not short, blank, common, or containing the phone number."""

from __future__ import annotations

import pytest

from service.accounts.passwords import common_passwords, password_problem
from service.accounts.services import create_admin
from service.errors import InvalidField
from tests.factories import phone

CJK = range(0x4E00, 0xA000)


@pytest.mark.parametrize(
    "password",
    [
        "12345678",
        "password",
        " " * 8,
        " " * 12,
        "\u3000" * 10,
        "1234567890",
        "qwertyuiop",
        "Password123",
        "{phone}",
        "my{phone}",
        "x-{phone}-y",
        "short密码1",
    ],
)
async def test_weak_passwords_are_refused_naming_the_field(client, actors, password):
    number = phone()
    code = await actors.phone_code(number)
    response = await client.post(
        "/api/v1/accounts",
        json={
            "role": "employer",
            "phone": number,
            "password": password.format(phone=number),
            "display_name": "林女士",
            "phone_code": code,
        },
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "password"
    assert any(ord(ch) in CJK for ch in error["message"])
    # The code was not used up by the refused password.
    created = await client.post(
        "/api/v1/accounts",
        json={
            "role": "employer",
            "phone": number,
            "password": "林女士的密码-2026",
            "display_name": "林女士",
            "phone_code": code,
        },
    )
    assert created.status_code == 201


def test_the_list_holds_the_most_common_passwords():
    common = common_passwords()
    assert len(common) >= 10_000
    assert {"123456", "password", "12345678", "qwerty", "1234567890", "iloveyou"} <= common


def test_why_a_password_is_refused():
    assert "10" in password_problem("abcdefghi", phone="13900000001")
    assert "空白" in password_problem(" \t  \n   ", phone="13900000001")
    assert "手机号" in password_problem("a13900000001b", phone="13900000001")
    assert "手机号" in password_problem("139 0000 0001 x", phone="13900000001")
    assert "常见" in password_problem(" Password123 ", phone="13900000001")
    assert password_problem("林女士的密码-2026", phone="13900000001") is None


async def test_an_admin_password_follows_the_same_rules(client):
    def make(password: str):
        return client.blocking_portal.call(lambda: create_admin(phone=phone(), password=password))

    with pytest.raises(InvalidField) as refused:
        make("1234567890")
    assert refused.value.fields == {"password": "过于常见，容易被猜中 (too common: easily guessed)"}
    with pytest.raises(InvalidField) as refused:
        make("12345678")
    assert refused.value.fields == {"password": "至少 10 个字符 (at least 10 characters)"}
    assert make("管理员的密码-2026-粤")["role"] == "admin"
