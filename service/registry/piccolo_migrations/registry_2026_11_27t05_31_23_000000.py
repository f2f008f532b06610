"""Stamp every write to a worker row with its transaction id (for the matcher's index)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T05:31:23:000000"
VERSION = "1.38.0"
DESCRIPTION = "trigger setting worker.change_txid"

STATEMENTS = [
    """
    CREATE OR REPLACE FUNCTION worker_stamp_change_txid() RETURNS trigger AS $$
    BEGIN
        NEW.change_txid := txid_current();
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS worker_change_txid ON worker",
    """
    CREATE TRIGGER worker_change_txid BEFORE INSERT OR UPDATE ON worker
    FOR EACH ROW EXECUTE FUNCTION worker_stamp_change_txid()
    """,
    "UPDATE worker SET change_txid = txid_current()",
]


async def add_trigger() -> None:
    db = engine_finder()
    for statement in STATEMENTS:
        await db.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)
    manager.add_raw(add_trigger)
    return manager
