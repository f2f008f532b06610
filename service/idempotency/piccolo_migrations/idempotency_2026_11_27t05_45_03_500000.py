"""One record per caller and key."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T05:45:03:500000"
VERSION = "1.38.0"
DESCRIPTION = "unique (caller, key)"


async def add_unique_key() -> None:
    await engine_finder().run_ddl(
        "CREATE UNIQUE INDEX IF NOT EXISTS idempotency_record_caller_key ON idempotency_record (caller, key)"
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="idempotency", description=DESCRIPTION)
    manager.add_raw(add_unique_key)
    return manager
