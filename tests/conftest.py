"""Test fixtures: a fresh PostgreSQL database per run, the real app, and people to act.

With `DATABASE_URL` set, a new database is created on that server for this run and
dropped afterwards; otherwise the embedded server (data under `var/test-pg`) is used.
With `REDIS_URL` set, the app's stores live in Redis under a namespace of this run.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import argon2
import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app, new_candidate_index
from service.database import make_engine, run_migrations, start_embedded_server, with_database
from service.security import use_password_hasher
from service.settings import PROJECT_ROOT, Settings, generate_data_key
from tests.factories import DATA_TABLES, RESET_STATEMENTS, Actors, Registry
from tests.personal_data_scan import Scan
from tests.receiver import Receiver

RUN_ID = secrets.token_hex(4)

# argon2id as the service uses it, at a small memory and time cost: the tests make a few
# thousand accounts and sign in as often, and the default parameters (64 MiB, 3 passes,
# 4 lanes) spend about 0.1 s of both cores on each, by design.
use_password_hasher(
    argon2.PasswordHasher.from_parameters(
        argon2.Parameters(
            type=argon2.Type.ID, version=19, salt_len=16, hash_len=32, time_cost=1, memory_cost=256, parallelism=1
        )
    )
)


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    server_url = os.environ.get("DATABASE_URL") or start_embedded_server(PROJECT_ROOT / "var" / "test-pg")
    name = f"nanyue_test_{RUN_ID}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(server_url, name)
    await run_migrations(make_engine(url))
    yield url
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or None,
        store_namespace=f"nanyue-test-{RUN_ID}",
        secret_key=secrets.token_urlsafe(32),
        data_key=generate_data_key(),
        rate_limit_per_minute=100_000,
        login_attempts_per_minute=5,
        max_body_bytes=16 * 1024,
        # INFO: the access log is scanned for personal data too (tests/personal_data_scan.py).
        log_level="INFO",
        allow_private_webhooks=True,
        run_dispatcher=False,
        warm_matcher=False,
        # Tests of checkpoints make their own (tests/matching/test_checkpoint.py).
        index_checkpoint_seconds=0,
        webhook_backoff_seconds=0.0,
        webhook_max_attempts=3,
    )


@pytest.fixture(scope="session")
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture(scope="session")
def personal_data_scan() -> Iterator[Scan]:
    """Every response and log line of the run, scanned for raw ID and phone numbers
    (tests/personal_data_scan.py); the run fails at its end if one carried any."""
    scan = Scan()
    scan.watch_logs()
    yield scan
    if scan.findings:
        pytest.fail(
            f"{len(scan.findings)} response(s) or log line(s) carried a raw ID or phone number "
            f"(of {scan.responses} responses, {scan.lines} log lines):\n" + "\n".join(scan.findings),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def app(settings: Settings, receiver: Receiver, personal_data_scan: Scan) -> Litestar:
    app = create_app(settings, http_transport=httpx.MockTransport(receiver.handle))
    app.asgi_handler = personal_data_scan.wrap(app.asgi_handler)
    return app


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient]:
    async def forget_store_keys() -> None:
        for name in ("rate_limit", "throttle", "readiness", "lookups", "identity_attempts"):
            await app.stores.get(name).delete_all()

    async with AsyncTestClient(app=app) as test_client:
        yield test_client
        in_app(test_client, forget_store_keys)


def in_app(client: AsyncTestClient, fn, *args):
    """Run `fn(*args)` on the app's event loop (AsyncTestClient runs the app in its own thread),
    where the app's connection pool lives."""
    return client.blocking_portal.call(fn, *args)


@contextmanager
def tuned(app, **changes):
    """Run with some settings changed (handlers and middleware read them per request)."""
    before = app.state.settings
    app.state.settings = msgspec.structs.replace(before, **changes)
    try:
        yield
    finally:
        app.state.settings = before


def send(client, app, peer: str, requests: list[tuple[str, str, dict | None, dict]]) -> list[httpx.Response]:
    """Send `requests` (method, path, json, headers) all at once, from TCP peer `peer`, on
    the app's own event loop, so they really run in parallel."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await asyncio.gather(
                *(http.request(method, path, json=body, headers=headers) for method, path, body, headers in requests)
            )

    return in_app(client, run)


def deliver(client: AsyncTestClient, app: Litestar):
    """Let the webhook dispatcher deliver whatever is due, now."""
    return in_app(client, app.state.dispatcher.deliver_due)


class Emptying(msgspec.Struct, frozen=True):
    """What `TRUNCATE <DATA_TABLES> RESTART IDENTITY CASCADE` would do, as DELETEs: a
    TRUNCATE makes new files for every table and index (a third of a second for these
    tables, far more on a busy disk), a DELETE of a few rows costs a few milliseconds."""

    deletes: tuple[str, ...]  # the tables TRUNCATE ... CASCADE reaches, those that refer to others first
    truncates: tuple[str, ...]  # append-only tables (a trigger refuses DELETE), emptied when not empty
    sequences: tuple[str, ...]  # owned by their columns: set back to 1


async def plan_emptying(connection: asyncpg.Connection) -> Emptying:
    references = await connection.fetch(
        """SELECT conrelid::regclass::text AS referring, confrelid::regclass::text AS referred
           FROM pg_constraint WHERE contype = 'f' AND conrelid <> confrelid"""
    )
    reached = set(DATA_TABLES)
    while grown := {r["referring"] for r in references if r["referred"] in reached} - reached:
        reached |= grown
    order: list[str] = []
    while left := [t for t in sorted(reached) if t not in order]:
        # A table goes once every table in `reached` that refers to it has gone (no cycles here).
        ready = [
            t
            for t in left
            if all(r["referring"] in order for r in references if r["referred"] == t and r["referring"] in reached)
        ]
        assert ready, f"foreign keys in a cycle among {left}"
        order += ready
    refusing = await connection.fetch(
        """SELECT DISTINCT tgrelid::regclass::text AS name FROM pg_trigger
           WHERE NOT tgisinternal AND tgname LIKE '%append_only'"""
    )
    truncates = tuple(sorted(r["name"] for r in refusing if r["name"] in reached))
    sequences = await connection.fetch(
        """SELECT DISTINCT s.oid::regclass::text AS name FROM pg_class s
           JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
                AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
           WHERE s.relkind = 'S' AND d.refobjid::regclass::text = ANY($1::text[])""",
        sorted(reached),
    )
    return Emptying(
        deletes=tuple(t for t in order if t not in truncates),
        truncates=truncates,
        sequences=tuple(sorted(r["name"] for r in sequences)),
    )


@pytest.fixture(scope="session")
def emptying(client: AsyncTestClient, app: Litestar) -> Emptying:
    async def plan() -> Emptying:
        async with app.state.engine.pool.acquire() as connection:
            return await plan_emptying(connection)

    return in_app(client, plan)


async def empty_data_tables(connection: asyncpg.Connection, emptying: Emptying) -> None:
    async with connection.transaction():
        for table in emptying.truncates:
            if await connection.fetchval(f"SELECT EXISTS (SELECT FROM {table})"):
                await connection.execute(f"TRUNCATE {table}")
        await connection.execute("; ".join(f"DELETE FROM {table}" for table in emptying.deletes))
        await connection.execute(
            "SELECT setval(name::regclass, 1, false) FROM unnest($1::text[]) AS name", list(emptying.sequences)
        )


@pytest.fixture(autouse=True)
def clean_database(client: AsyncTestClient, app: Litestar, receiver: Receiver, emptying: Emptying) -> None:
    """Every test starts from empty data tables (reference data stays)."""

    async def clean() -> None:
        await app.state.integrity_checks.idle()  # a check an import started in the last test
        async with app.state.engine.pool.acquire() as connection:
            await empty_data_tables(connection, emptying)
        for statement in RESET_STATEMENTS:
            await app.state.engine.run_ddl(statement)
        for store in ("throttle", "lookups", "identity_attempts"):
            await app.stores.get(store).delete_all()
        # Workers are never deleted by the service; after a TRUNCATE the index starts over.
        app.state.matcher = new_candidate_index(app)

    in_app(client, clean)
    receiver.reset()


@pytest.fixture
def actors(client: AsyncTestClient) -> Actors:
    return Actors(client)


@pytest.fixture
async def registry(client, actors) -> Registry:
    """Builds eligible workers through the API (see `tests.factories.Registry`)."""
    return await Registry(client, actors).setup()
