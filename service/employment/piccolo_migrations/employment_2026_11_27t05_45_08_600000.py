"""One complaint per placement and category: the same incident is not penalised twice."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T05:45:08:600000"
VERSION = "1.38.0"
DESCRIPTION = "unique complaint per placement and category"


async def add_index() -> None:
    await engine_finder().run_ddl(
        "CREATE UNIQUE INDEX IF NOT EXISTS complaint_one_per_category ON complaint (placement, category)"
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="employment", description=DESCRIPTION)
    manager.add_raw(add_index)
    return manager
