"""Login throttling and the rate limit: counted atomically, per phone whatever the address,
and per client address, which only a trusted proxy may tell through forwarded headers."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest

from service.security import client_address
from tests.conftest import in_app, send, tuned
from tests.factories import PASSWORD, phone


def login(number: str, password: str, headers: dict | None = None) -> tuple[str, str, dict, dict]:
    return "POST", "/api/v1/auth/token", {"phone": number, "password": password}, headers or {}


async def test_twenty_parallel_wrong_passwords_lock_the_phone(client, app, actors, settings):
    person = await actors.employer()
    limit = settings.login_attempts_per_minute
    answers = send(client, app, "203.0.113.10", [login(person.phone, f"wrong-password-{i}") for i in range(20)])
    statuses = sorted(r.status_code for r in answers)
    # Each attempt is counted before its password is checked: no more than `limit` guesses get through.
    assert statuses == [401] * limit + [429] * (20 - limit)
    locked = await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": PASSWORD})
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60


async def test_the_phone_locks_whatever_the_address(client, app, actors, settings):
    person = await actors.employer()
    for i in range(settings.login_attempts_per_minute):
        [wrong] = send(client, app, f"198.51.100.{i + 1}", [login(person.phone, "wrong-password")])
        assert wrong.status_code == 401
    [locked] = send(client, app, "198.51.100.200", [login(person.phone, PASSWORD)])
    assert locked.status_code == 429


async def test_a_successful_login_does_not_count_against_the_phone(client, actors, settings):
    person = await actors.employer()
    for _ in range(settings.login_attempts_per_minute + 3):
        assert (
            await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": PASSWORD})
        ).status_code == 200
    wrong = await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": "wrong-password"})
    assert wrong.status_code == 401


async def test_rotating_forwarded_headers_from_an_untrusted_peer_change_nothing(client, app):
    with tuned(app, login_attempts_per_address=3):
        answers = [
            send(
                client,
                app,
                "192.0.2.50",
                [login(phone(), "whatever-pass", {"X-Forwarded-For": f"203.0.113.{i}", "X-Real-IP": f"203.0.113.{i}"})],
            )[0]
            for i in range(5)
        ]
    assert [r.status_code for r in answers] == [401, 401, 401, 429, 429]
    assert int(answers[-1].headers["retry-after"]) > 0


async def test_a_trusted_proxy_tells_the_client_address(client, app):
    with tuned(app, login_attempts_per_address=3, trusted_proxies=("10.0.0.0/8",)):
        # Five different clients behind the proxy: none is limited by the others.
        spread = [
            send(client, app, "10.1.2.3", [login(phone(), "whatever-pass", {"X-Forwarded-For": f"203.0.113.{i}"})])[0]
            for i in range(5)
        ]
        # One client behind it, even when it writes its own X-Forwarded-For in front.
        same = [
            send(
                client,
                app,
                "10.1.2.3",
                [login(phone(), "whatever-pass", {"X-Forwarded-For": f"1.2.3.{i}, 203.0.113.99"})],
            )[0]
            for i in range(5)
        ]
    assert [r.status_code for r in spread] == [401] * 5
    assert [r.status_code for r in same] == [401, 401, 401, 429, 429]


async def test_the_rate_limit_uses_the_same_client_address(client, app):
    me = "/api/v1/accounts/me"
    with tuned(app, rate_limit_per_minute=3):
        rotating = [
            send(client, app, "192.0.2.77", [("GET", me, None, {"X-Forwarded-For": f"203.0.113.{i}"})])[0]
            for i in range(5)
        ]
    assert [r.status_code for r in rotating] == [401, 401, 401, 429, 429]
    assert 0 < int(rotating[-1].headers["retry-after"]) <= 60
    assert rotating[-1].headers["content-type"].startswith("application/problem+json")

    with tuned(app, rate_limit_per_minute=3, trusted_proxies=("10.0.0.0/8",)):
        behind_proxy = [
            send(client, app, "10.9.9.9", [("GET", me, None, {"X-Forwarded-For": f"203.0.114.{i}"})])[0]
            for i in range(5)
        ]
        one_client = [
            send(client, app, "10.9.9.9", [("GET", me, None, {"X-Forwarded-For": "203.0.115.1"})])[0] for i in range(5)
        ]
    assert [r.status_code for r in behind_proxy] == [401] * 5
    assert [r.status_code for r in one_client] == [401, 401, 401, 429, 429]


async def test_parallel_requests_are_each_counted_by_the_rate_limit(client, app):
    with tuned(app, rate_limit_per_minute=5):
        answers = send(client, app, "192.0.2.88", [("GET", "/api/v1/accounts/me", None, {})] * 12)
    assert sorted(r.status_code for r in answers) == [401] * 5 + [429] * 7


def _connection(peer: str | None, headers: dict[str, str], trusted: tuple[str, ...]):
    from litestar.datastructures import Headers

    return SimpleNamespace(
        scope={"client": (peer, 1234) if peer else None},
        headers=Headers(headers),
        app=SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(trusted_proxies=trusted))),
    )


@pytest.mark.parametrize(
    ("peer", "headers", "trusted", "expected"),
    [
        ("192.0.2.1", {"x-forwarded-for": "203.0.113.5"}, (), "192.0.2.1"),
        ("127.0.0.1", {"x-forwarded-for": "203.0.113.5"}, (), "127.0.0.1"),
        ("127.0.0.1", {"x-real-ip": "203.0.113.5"}, (), "127.0.0.1"),
        ("127.0.0.1", {"x-forwarded-for": "203.0.113.5"}, ("127.0.0.1",), "203.0.113.5"),
        ("127.0.0.1", {"x-real-ip": "203.0.113.6"}, ("127.0.0.1",), "203.0.113.6"),
        ("10.0.0.2", {"x-forwarded-for": "6.6.6.6, 203.0.113.5, 10.0.0.9"}, ("10.0.0.0/8",), "203.0.113.5"),
        ("10.0.0.2", {"x-forwarded-for": "not-an-address"}, ("10.0.0.0/8",), "10.0.0.2"),
        ("10.0.0.2", {}, ("10.0.0.0/8",), "10.0.0.2"),
        ("::ffff:10.0.0.2", {"x-forwarded-for": "2001:db8::1"}, ("10.0.0.0/8",), "2001:db8::1"),
        ("2001:db8::7", {"x-forwarded-for": "203.0.113.5"}, ("2001:db8::/32",), "203.0.113.5"),
        ("testclient", {"x-forwarded-for": "203.0.113.5"}, ("10.0.0.0/8",), "testclient"),
        (None, {"x-forwarded-for": "203.0.113.5"}, ("10.0.0.0/8",), "unknown"),
    ],
)
def test_client_address(peer, headers, trusted, expected):
    assert client_address(_connection(peer, headers, trusted)) == expected


async def test_the_server_as_started_does_not_take_forwarded_headers_from_a_local_peer(client, app):
    """`python -m service run` serves through uvicorn: a local peer (another process on the
    host, a sidecar) must not choose its address by X-Forwarded-For either."""
    import uvicorn

    from service.__main__ import server_options

    config = uvicorn.Config(app, **server_options(app.state.settings))
    config.load()
    served = config.loaded_app

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=served, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return [
                (await http.get("/api/v1/accounts/me", headers={"X-Forwarded-For": f"203.0.116.{i}"})).status_code
                for i in range(5)
            ]

    await _forget_rate_limit_of(client, app, "127.0.0.1")
    with tuned(app, rate_limit_per_minute=3):
        statuses = in_app(client, run)
    await _forget_rate_limit_of(client, app, "127.0.0.1")
    assert statuses == [401, 401, 401, 429, 429]


async def _forget_rate_limit_of(client, app, address: str) -> None:
    in_app(client, app.stores.get("rate_limit").delete, f"AddressRateLimitMiddleware::{address}")
