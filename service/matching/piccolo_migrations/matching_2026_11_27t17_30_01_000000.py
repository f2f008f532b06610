"""Constraints on the due-date window and the number of 单."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T17:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "due-date window and terms constraints"


async def constraints() -> None:
    await engine_finder().run_ddl(
        "ALTER TABLE job_request ADD CONSTRAINT job_request_due_window "
        "CHECK (due_date_to IS NULL OR due_date_from IS NULL OR due_date_to >= due_date_from), "
        "ADD CONSTRAINT job_request_terms CHECK (terms BETWEEN 1 AND 6)"
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="matching", description=DESCRIPTION)
    manager.add_raw(constraints)
    return manager
