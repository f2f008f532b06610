"""Announce changes that decide a caller (`NOTIFY nanyue_callers`), so every process forgets
the callers it remembers (`service.accounts.callers`): an account's role, activity or
password; a key's revocation, scopes or digest; an agency's kind; any DELETE or TRUNCATE."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T19:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notify nanyue_callers when an account, key or agency changes who a caller is"

STATEMENTS = [
    """
    CREATE OR REPLACE FUNCTION nanyue_callers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('nanyue_callers', TG_TABLE_NAME);
        RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS app_user_callers_changed ON app_user",
    """
    CREATE TRIGGER app_user_callers_changed
    AFTER UPDATE OF role, is_active, password_hash, password_changed_at OR DELETE ON app_user
    FOR EACH STATEMENT EXECUTE FUNCTION nanyue_callers_changed()
    """,
    "DROP TRIGGER IF EXISTS api_key_callers_changed ON api_key",
    """
    CREATE TRIGGER api_key_callers_changed
    AFTER UPDATE OF revoked_at, scopes, digest, prefix, agency OR DELETE ON api_key
    FOR EACH STATEMENT EXECUTE FUNCTION nanyue_callers_changed()
    """,
    "DROP TRIGGER IF EXISTS agency_callers_changed ON agency",
    """
    CREATE TRIGGER agency_callers_changed
    AFTER UPDATE OF kind OR DELETE ON agency
    FOR EACH STATEMENT EXECUTE FUNCTION nanyue_callers_changed()
    """,
]
TRUNCATE_TABLES = ["app_user", "api_key", "agency"]


async def add_triggers() -> None:
    db = engine_finder()
    for statement in STATEMENTS:
        await db.run_ddl(statement)
    for table in TRUNCATE_TABLES:
        await db.run_ddl(f"DROP TRIGGER IF EXISTS {table}_callers_truncated ON {table}")
        await db.run_ddl(
            f"CREATE TRIGGER {table}_callers_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION nanyue_callers_changed()"
        )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    manager.add_raw(add_triggers)
    return manager
