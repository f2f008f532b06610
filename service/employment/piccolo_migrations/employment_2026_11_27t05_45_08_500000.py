"""Rules PostgreSQL enforces itself: no overlapping active placements of one worker, one
live offer per request and worker, one review per side of a placement."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T05:45:08:500000"
VERSION = "1.38.0"
DESCRIPTION = "placement exclusion constraint, offer and review uniqueness"

STATEMENTS = [
    """
    ALTER TABLE placement ADD CONSTRAINT placement_no_overlap EXCLUDE USING gist (
        worker WITH =,
        daterange(start_date, coalesce(end_date, 'infinity'::date), '[]') WITH &&
    ) WHERE (status = 'active')
    """,
    "ALTER TABLE placement ADD CONSTRAINT placement_dates CHECK (end_date IS NULL OR end_date >= start_date)",
    "CREATE UNIQUE INDEX offer_one_live ON offer (request, worker) WHERE status = 'offered'",
    "CREATE UNIQUE INDEX review_one_per_side ON review (placement, author_role)",
    "CREATE INDEX complaint_worker_status ON complaint (worker, status)",
]


async def add_constraints() -> None:
    db = engine_finder()
    for statement in STATEMENTS:
        await db.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="employment", description=DESCRIPTION)
    manager.add_raw(add_constraints)
    return manager
