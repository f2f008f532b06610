"""A placement she ended keeps her busy until her last day (the overlap rule covers it);
complaints about a household and about a worker over the same placement are apart."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T17:04:18:000000"
VERSION = "1.38.0"
DESCRIPTION = "overlap rule covers resigned placements; one complaint per placement, side and category"

STATEMENTS = [
    "ALTER TABLE placement DROP CONSTRAINT placement_no_overlap",
    """
    ALTER TABLE placement ADD CONSTRAINT placement_no_overlap EXCLUDE USING gist (
        worker WITH =,
        daterange(start_date, coalesce(end_date, 'infinity'::date), '[]') WITH &&
    ) WHERE (status IN ('active', 'resigned'))
    """,
    "DROP INDEX IF EXISTS complaint_one_per_category",
    "CREATE UNIQUE INDEX complaint_one_per_category ON complaint (placement, against, category)",
]


async def change_constraints() -> None:
    db = engine_finder()
    for statement in STATEMENTS:
        await db.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="employment", description=DESCRIPTION)
    manager.add_raw(change_constraints)
    return manager
