"""PostgreSQL stopped, restarted and paused under a running instance (a throwaway embedded
server of this module, never the shared one): 503 with Retry-After and a problem body,
within the pool's timeouts; recovery without a restart; the webhook dispatcher listens
again and says so."""

from __future__ import annotations

import asyncio
import os
import shutil
import time

import prometheus_client
import pytest

from service import piccolo_conf
from service.database import bind_tables, ensure_database, make_engine, run_migrations
from service.settings import PROJECT_ROOT
from tests.conftest import in_app
from tests.factories import phone
from tests.faults.support import PostgresServer, another_instance

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(scope="module")
def own_postgres(client, app):
    # Under the project's var/, like the suite's own embedded server: the server runs as
    # its own system user, which cannot enter root's private pytest temporary folder.
    folder = PROJECT_ROOT / "var" / f"faults-pg-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    server = PostgresServer(folder / "pgdata")

    async def migrate() -> str:
        before = piccolo_conf.DB
        url = await ensure_database(server.url(), "nanyue_faults")
        try:
            await run_migrations(make_engine(url))
        finally:
            bind_tables(app.state.engine)
            piccolo_conf.DB = before
        return url

    url = in_app(client, migrate)
    yield server, url
    server.close()
    shutil.rmtree(folder, ignore_errors=True)


async def _until(predicate, seconds: float) -> float:
    """Wait until `predicate()` (async) is true; answer how long it took."""
    started = time.monotonic()
    while not await predicate():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not within {seconds} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def _login():
    return {"phone": phone(), "password": "no-such-person-1"}


async def test_a_stopped_database_is_503_and_a_restart_needs_no_restart_of_ours(client, app, own_postgres):
    server, url = own_postgres
    changes = {
        "database_url": url,
        "run_dispatcher": True,
        "webhook_poll_seconds": 0.5,
        "login_attempts_per_address": 1000,
    }

    async def scenario():
        async with another_instance(app, **changes) as (other, http):
            dispatcher = other.state.dispatcher
            await _until(lambda: _true(dispatcher.state.listening), 10)
            up = await http.post("/api/v1/auth/token", json=_login())
            server.stop()
            try:
                down = await http.post("/api/v1/auth/token", json=_login())
                ready_down = await http.get("/ready")
                page_down = await http.get("/login")
                await _until(lambda: _true(not dispatcher.state.listening), 10)
                gauge_down = prometheus_client.REGISTRY.get_sample_value("nanyue_webhook_listening")
            finally:
                server.start()

            async def answers() -> bool:
                return (await http.post("/api/v1/auth/token", json=_login())).status_code == 401

            recovered_in = await _until(answers, 15)
            await _until(lambda: _true(dispatcher.state.listening), 40)
            ready_up = (await http.get("/ready")).json()
            gauge_up = prometheus_client.REGISTRY.get_sample_value("nanyue_webhook_listening")
        return up, down, ready_down, page_down, gauge_down, recovered_in, ready_up, gauge_up

    up, down, ready_down, page_down, gauge_down, recovered_in, ready_up, gauge_up = in_app(client, scenario)
    assert up.status_code == 401
    assert down.status_code == 503, down.text
    assert int(down.headers["retry-after"]) >= 1
    assert down.headers["content-type"].startswith("application/problem+json")
    problem = down.json()
    assert problem["status"] == 503 and problem["type"].endswith("/service-unavailable")
    assert problem["instance"] == "/api/v1/auth/token"
    assert ready_down.status_code == 503 and ready_down.json()["database"].startswith("error")
    assert page_down.status_code in (200, 503)  # the login page needs no database
    assert gauge_down == 0
    assert recovered_in < 15
    assert ready_up["dispatcher"] == {"running": True, "listening": True, "reconnects": 1, "last_error": ""}
    assert gauge_up == 1


async def test_a_paused_database_is_503_within_the_timeouts(client, app, own_postgres):
    server, url = own_postgres
    changes = {
        "database_url": url,
        "db_connect_timeout_seconds": 1.0,
        "db_command_timeout_seconds": 1.0,
        "db_pool_max": 3,
        "login_attempts_per_address": 1000,
    }

    async def scenario():
        async with another_instance(app, **changes) as (other, http):
            up = await http.post("/api/v1/auth/token", json=_login())
            server.pause()
            try:
                started = time.monotonic()
                paused = await asyncio.gather(*(http.post("/api/v1/auth/token", json=_login()) for _ in range(5)))
                paused_seconds = time.monotonic() - started
            finally:
                server.resume()

            async def answers() -> bool:
                return (await http.post("/api/v1/auth/token", json=_login())).status_code == 401

            recovered_in = await _until(answers, 15)
        return up, paused, paused_seconds, recovered_in

    up, paused, paused_seconds, recovered_in = in_app(client, scenario)
    assert up.status_code == 401
    assert [r.status_code for r in paused] == [503] * 5
    assert all(int(r.headers["retry-after"]) >= 1 for r in paused)
    # Each request waits for one timeout (a busy pool connection or a new one), not the pause.
    assert paused_seconds < 5
    assert recovered_in < 15


async def _true(value: bool) -> bool:
    return value
