"""Who decided a check or a certificate, and when (trainings already record it).

Decisions made before this migration keep NULL: nobody recorded them.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T18:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "decided_by and decided_at on worker_check and certificate"

STATEMENTS = [
    """
    ALTER TABLE worker_check
        ADD COLUMN decided_by integer REFERENCES app_user (id) ON DELETE SET NULL,
        ADD COLUMN decided_at timestamptz
    """,
    """
    ALTER TABLE certificate
        ADD COLUMN decided_by integer REFERENCES app_user (id) ON DELETE SET NULL,
        ADD COLUMN decided_at timestamptz
    """,
]


async def migrate() -> None:
    db = engine_finder()
    for statement in STATEMENTS:
        await db.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)
    manager.add_raw(migrate)
    return manager
