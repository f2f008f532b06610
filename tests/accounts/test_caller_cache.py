"""Callers are remembered for a few seconds per process and forgotten when they change:
in the process that made the change at once, in every other one when PostgreSQL announces
it (NOTIFY nanyue_callers), and never used while that announcement cannot be heard."""

import asyncio
import time

import pytest

from service.accounts import auth
from service.accounts.callers import CALLER_CACHE_SECONDS, CallerCache
from service.accounts.guards import Principal, Role
from tests.conftest import in_app
from tests.faults.support import another_instance

ME = "/api/v1/accounts/me"


def count_caller_reads(monkeypatch) -> list[str]:
    reads: list[str] = []
    real = auth.fetchrow

    async def counting(sql, *args):
        reads.append(sql)
        return await real(sql, *args)

    monkeypatch.setattr(auth, "fetchrow", counting)
    return reads


async def test_a_caller_is_read_once_then_remembered(client, app, actors, monkeypatch):
    employer = await actors.employer()
    agency = await actors.agency("housekeeping")
    reads = count_caller_reads(monkeypatch)
    for _ in range(3):
        assert (await client.get(ME, headers=employer.headers)).status_code == 200
        assert (await client.get(f"/api/v1/agencies/{agency.id}", headers=agency.headers)).status_code == 200
    assert len(reads) <= 2  # each credential at most once (none when already remembered)
    assert app.state.callers.get(employer.headers["Authorization"].removeprefix("Bearer ")) == Principal(
        role=Role.EMPLOYER, user_id=employer.id
    )


async def test_a_wrong_key_or_token_is_never_remembered(client, app, actors):
    agency = await actors.agency("housekeeping")
    wrong = {"X-API-Key": agency.key[:-2] + ("xx" if not agency.key.endswith("xx") else "yy")}
    for _ in range(2):
        assert (await client.get(f"/api/v1/agencies/{agency.id}", headers=wrong)).status_code == 401
    assert (await client.get(ME, headers={"Authorization": "Bearer not.a.token"})).status_code == 401


async def test_a_key_revoked_here_stops_here_at_once_without_waiting_for_notify(client, app, actors):
    agency = await actors.agency("housekeeping")
    second = await client.post(f"/api/v1/agencies/{agency.id}/api-keys", headers=agency.headers, json={})
    key = {"X-API-Key": second.json()["key"]}
    path = f"/api/v1/agencies/{agency.id}"
    trigger = "api_key_callers_changed"
    # Without its NOTIFY, only the revoking process's own forgetting can stop the key.
    in_app(client, app.state.engine.run_ddl, f"ALTER TABLE api_key DISABLE TRIGGER {trigger}")
    try:
        assert (await client.get(path, headers=key)).status_code == 200
        assert app.state.callers.get(auth.api_key_digest(key["X-API-Key"])) is not None
        revoked = await client.delete(f"{path}/api-keys/{second.json()['id']}", headers=agency.headers)
        assert revoked.status_code == 204
        assert (await client.get(path, headers=key)).status_code == 401
    finally:
        in_app(client, app.state.engine.run_ddl, f"ALTER TABLE api_key ENABLE TRIGGER {trigger}")


async def test_a_change_made_elsewhere_stops_the_caller_here(client, app, actors):
    """A second instance (another process, for the cache) changes an account and revokes a
    key with plain SQL: this one hears the NOTIFY and stops serving them."""
    employer = await actors.employer()
    agency = await actors.agency("housekeeping")
    agency_path = f"/api/v1/agencies/{agency.id}"
    assert (await client.get(ME, headers=employer.headers)).status_code == 200
    assert (await client.get(agency_path, headers=agency.headers)).status_code == 200
    assert len(app.state.callers) >= 2

    async def change_elsewhere() -> None:
        async with another_instance(app) as (other, http):
            await wait_until(lambda: other.state.callers.listening)
            assert (await http.get(ME, headers=employer.headers)).status_code == 200
            await other.state.engine.run_ddl(f"UPDATE app_user SET is_active = false WHERE id = {employer.id}")
            await other.state.engine.run_ddl(f"UPDATE api_key SET revoked_at = now() WHERE agency = {agency.id}")

    in_app(client, change_elsewhere)
    started = time.monotonic()
    while (await client.get(ME, headers=employer.headers)).status_code != 401:
        assert time.monotonic() - started < 2, "the NOTIFY did not reach this instance"
        await asyncio.sleep(0.02)
    assert (await client.get(agency_path, headers=agency.headers)).status_code == 401


async def wait_until(condition, seconds: float = 5.0) -> None:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds
        await asyncio.sleep(0.02)


def test_nothing_is_remembered_while_changes_cannot_be_heard():
    cache = CallerCache()
    principal = Principal(role=Role.EMPLOYER, user_id=7)
    cache.put("t", principal, generation=cache.generation)
    assert cache.get("t") is None and len(cache) == 0
    cache.listening = True
    cache.put("t", principal, generation=cache.generation)
    assert cache.get("t") == principal
    cache.listening = False
    assert cache.get("t") is None


def test_a_caller_read_while_a_change_was_announced_is_not_kept():
    cache = CallerCache()
    cache.listening = True
    generation = cache.generation
    cache.clear()  # a NOTIFY arrives between the read and the put
    cache.put("t", Principal(role=Role.EMPLOYER, user_id=7), generation=generation)
    assert cache.get("t") is None


def test_an_entry_ends_with_its_token_and_after_the_cache_time(monkeypatch):
    cache = CallerCache()
    cache.listening = True
    principal = Principal(role=Role.EMPLOYER, user_id=7)
    cache.put("expired", principal, generation=cache.generation, expires_at=time.time() - 1)
    assert cache.get("expired") is None
    cache.put("t", principal, generation=cache.generation, expires_at=time.time() + 3600)
    assert cache.get("t") == principal
    later = time.monotonic() + CALLER_CACHE_SECONDS + 0.1
    monkeypatch.setattr("service.accounts.callers.time.monotonic", lambda: later)
    assert cache.get("t") is None


@pytest.mark.parametrize("size", [2])
def test_the_cache_keeps_a_bounded_number_of_callers(size):
    cache = CallerCache(size=size)
    cache.listening = True
    for n in range(5):
        cache.put(str(n), Principal(role=Role.EMPLOYER, user_id=n), generation=cache.generation)
    assert len(cache) == size and cache.get("4") is not None and cache.get("0") is None


class _DeafConnection:
    """A connection on which LISTEN seems to work but nothing is ever delivered (as behind
    a transaction-mode pooler)."""

    def __init__(self, connection) -> None:
        self._connection = connection

    async def add_listener(self, channel, callback) -> None:
        await self._connection.execute(f"LISTEN {channel}")

    def __getattr__(self, name):
        return getattr(self._connection, name)


class _DeafEngine:
    def __init__(self, engine) -> None:
        self._engine = engine

    async def get_new_connection(self):
        return _DeafConnection(await self._engine.get_new_connection())


async def test_a_listener_that_never_hears_anything_never_turns_the_cache_on(client, app):
    async def listen(engine) -> bool:
        cache = CallerCache(ttl=0.3)
        task = asyncio.create_task(cache.listen(engine))
        try:
            seen = False
            started = time.monotonic()
            while time.monotonic() - started < 1.5:
                seen = seen or cache.listening
                await asyncio.sleep(0.01)
            cache.put("t", Principal(role=Role.EMPLOYER, user_id=7), generation=cache.generation)
            return seen or len(cache) > 0
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    assert in_app(client, listen, _DeafEngine(app.state.engine)) is False
    # The same connection with its notifications delivered turns it on.
    assert in_app(client, listen, app.state.engine) is True
