"""Redis away, paused, and shared by two instances: requests are still served, limits
fall back to per-process counts (logged, degraded in /ready), the match cache is bypassed
and nothing stale is served when Redis is back; with Redis, limits and login locks are
counted once across instances."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from tests.conftest import in_app
from tests.factories import PASSWORD
from tests.faults.support import RedisServer, another_instance, client_for, free_port


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def _login(phone: str, password: str) -> dict:
    return {"phone": phone, "password": password}


async def test_with_redis_unreachable_the_service_answers_and_counts_per_process(client, app, actors, caplog):
    person = await actors.employer()
    employer = await actors.employer()
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    limit = 5

    async def scenario():
        async with another_instance(app, redis_url=closed, rate_limit_per_minute=limit) as (other, http):
            # The rate limit still counts, in this process.
            statuses = [(await http.get("/api/v1/job-requests/1")).status_code for _ in range(limit + 3)]
            over = await http.get("/api/v1/job-requests/1")
            ready = await http.get("/ready")
        async with another_instance(app, redis_url=closed, login_attempts_per_minute=3, peer="192.0.2.2") as (
            other,
            http,
        ):
            logins = [
                (await http.post("/api/v1/auth/token", json=_login(person.phone, "wrong-password"))).status_code
                for _ in range(4)
            ]
            matched = await http.get("/api/v1/accounts/me", headers=employer.headers)
        return statuses, over, ready, logins, matched

    with caplog.at_level(logging.ERROR, logger="service.stores"):
        statuses, over, ready, logins, matched = in_app(client, scenario)
    assert statuses == [401] * limit + [429] * 3
    assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded" and body["database"] == "ok"
    assert body["store"].startswith("degraded: redis error")
    assert logins == [401, 401, 401, 429]
    assert matched.status_code == 200
    assert any("redis unavailable" in r.getMessage() for r in caplog.records)


async def test_a_paused_redis_holds_no_request_and_serves_nothing_stale(client, app, actors, registry, redis_server):
    first_person, first = await registry.worker()
    second_person, second = await registry.worker()
    employer = await actors.employer()
    job = (await client.post("/api/v1/job-requests", headers=employer.headers, json=_job())).json()
    url = f"/api/v1/job-requests/{job['id']}/matches"

    def order(response) -> list[int]:
        assert response.status_code == 200, response.text
        return [m["worker_id"] for m in response.json()["items"]]

    async def scenario():
        changes = {"redis_url": redis_server.url, "redis_timeout_seconds": 0.3, "redis_retry_seconds": 0.2}
        async with another_instance(app, **changes) as (other, http):
            before = order(await http.get(url, headers=employer.headers))
            cached = order(await http.get(url, headers=employer.headers))
            redis_server.pause()
            try:
                # She withdraws her consent while Redis is paused: she leaves the ranking at once.
                withdrawn = await http.delete(f"/api/v1/workers/{second['id']}/consent", headers=second_person.headers)
                started = time.monotonic()
                during = order(await http.get(url, headers=employer.headers))
                during_seconds = time.monotonic() - started
                ready_during = (await http.get("/ready")).json()
            finally:
                redis_server.resume()
            await asyncio.sleep(0.3)
            after = order(await http.get(url, headers=employer.headers))
            ready_after = (await http.get("/ready")).json()
        return before, cached, withdrawn, during, during_seconds, ready_during, after, ready_after

    before, cached, withdrawn, during, seconds, ready_during, after, ready_after = in_app(client, scenario)
    assert sorted(before) == sorted([first["id"], second["id"]]) and cached == before
    assert withdrawn.status_code in (200, 204)
    assert during == [first["id"]]
    # One Redis timeout at most (0.3 s), then the store is skipped until the retry interval.
    assert seconds < 2.0
    assert ready_during["status"] == "degraded" and ready_during["store"].startswith("degraded")
    # Redis is back with the old ranking still in it: the new one is served.
    assert after == [first["id"]]
    assert ready_after["status"] == "ok" and ready_after["store"] == "ok"


async def test_limits_and_login_locks_count_once_across_two_instances(client, app, actors, redis_server):
    person = await actors.employer()
    limit, logins = 60, app.state.settings.login_attempts_per_minute

    async def scenario():
        # A generous Redis timeout: this is about counting, not outages (a timeout would fall
        # back to per-process counts, as designed, on a busy machine).
        changes = {
            "redis_url": redis_server.url,
            "redis_timeout_seconds": 10.0,
            "rate_limit_per_minute": limit,
            "store_namespace": "shared",
        }
        async with (
            another_instance(app, **changes) as (first, one),
            another_instance(app, **changes) as (second, two),
        ):
            # 200 requests at once from one address, half to each instance.
            answers = await asyncio.gather(*(http.get("/api/v1/job-requests/1") for http in [one, two] * 100))
            # 20 wrong passwords at once for one phone, from another address, half to each instance.
            async with client_for(first, "198.51.100.7") as one, client_for(second, "198.51.100.7") as two:
                attempts = await asyncio.gather(
                    *(
                        http.post("/api/v1/auth/token", json=_login(person.phone, f"wrong-{i}"))
                        for i, http in enumerate([one, two] * 10)
                    )
                )
                right = await one.post("/api/v1/auth/token", json=_login(person.phone, PASSWORD))
        return answers, attempts, right

    answers, attempts, right = in_app(client, scenario)
    statuses = [a.status_code for a in answers]
    assert statuses.count(401) == limit and statuses.count(429) == 200 - limit
    assert all(int(a.headers["retry-after"]) >= 1 for a in answers if a.status_code == 429)
    login_statuses = sorted(a.status_code for a in attempts)
    assert login_statuses == [401] * logins + [429] * (20 - logins)
    # The phone is locked in both instances, even for the right password.
    assert right.status_code == 429


def _job() -> dict:
    from tests.factories import request_body

    return request_body()
