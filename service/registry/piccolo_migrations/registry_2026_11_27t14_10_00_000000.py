"""The audit of ID-number lookups."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T14:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "worker_lookup: who looked up an ID number, when, and whom they found"

STATEMENTS = [
    """
    CREATE TABLE IF NOT EXISTS worker_lookup (
        id serial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        "user" integer NULL REFERENCES app_user (id) ON DELETE CASCADE,
        agency integer NULL REFERENCES agency (id) ON DELETE CASCADE,
        api_key_id integer NULL,
        worker integer NULL REFERENCES worker (id) ON DELETE CASCADE
    )
    """,
    "CREATE INDEX IF NOT EXISTS worker_lookup_at ON worker_lookup (at)",
    "CREATE INDEX IF NOT EXISTS worker_lookup_agency ON worker_lookup (agency)",
]


async def create_table() -> None:
    db = engine_finder()
    for statement in STATEMENTS:
        await db.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)
    manager.add_raw(create_table)
    return manager
