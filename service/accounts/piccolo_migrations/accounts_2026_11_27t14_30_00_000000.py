"""One-time phone codes; the moment a password last changed (older tokens stop working)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T14:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "phone codes and password change time"


async def add_tables() -> None:
    engine = engine_finder()
    await engine.run_ddl("""
        CREATE TABLE IF NOT EXISTS phone_code (
            id serial PRIMARY KEY,
            phone varchar(20) NOT NULL,
            purpose varchar(16) NOT NULL,
            code_digest varchar(64) NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            used_at timestamptz
        )""")
    await engine.run_ddl("CREATE INDEX IF NOT EXISTS phone_code_phone_purpose ON phone_code (phone, purpose, id DESC)")
    await engine.run_ddl("ALTER TABLE app_user ADD COLUMN IF NOT EXISTS password_changed_at timestamptz")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    manager.add_raw(add_tables)
    return manager
