"""Indexes Piccolo's column options cannot express: GIN on arrays, trigram on names."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T05:21:21:000000"
VERSION = "1.38.0"
DESCRIPTION = "array and trigram indexes for worker search"

STATEMENTS = [
    "CREATE INDEX IF NOT EXISTS worker_district_codes_gin ON worker USING gin (district_codes)",
    "CREATE INDEX IF NOT EXISTS worker_categories_gin ON worker USING gin (categories)",
    "CREATE INDEX IF NOT EXISTS worker_skills_gin ON worker USING gin (skills)",
    "CREATE INDEX IF NOT EXISTS worker_real_name_trgm ON worker USING gin (real_name gin_trgm_ops)",
    "ALTER TABLE worker ADD CONSTRAINT worker_wage_range CHECK (wage_min <= wage_max)",
    "ALTER TABLE certificate ADD CONSTRAINT certificate_level_range CHECK (level BETWEEN 1 AND 5)",
]


async def add_indexes() -> None:
    db = engine_finder()
    for statement in STATEMENTS:
        await db.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)
    manager.add_raw(add_indexes)
    return manager
