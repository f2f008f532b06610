"""Employer suspensions are an audit trail: deleting an account or agency they name is
refused rather than erasing them (ON DELETE RESTRICT). Each row names exactly one employer,
and an employer has at most one suspension in force (partial unique indexes)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey
from piccolo.engine import engine_finder

ID = "2026-11-27T21:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "employer_suspension: restrict deletes, one employer per row, one suspension in force"

STATEMENTS = [
    "ALTER TABLE employer_suspension DROP CONSTRAINT IF EXISTS employer_suspension_one_employer",
    """
    ALTER TABLE employer_suspension ADD CONSTRAINT employer_suspension_one_employer
    CHECK (("user" IS NULL) <> (agency IS NULL))
    """,
    "DROP INDEX IF EXISTS employer_suspension_one_in_force_user",
    'CREATE UNIQUE INDEX employer_suspension_one_in_force_user ON employer_suspension ("user") WHERE lifted_at IS NULL',
    "DROP INDEX IF EXISTS employer_suspension_one_in_force_agency",
    "CREATE UNIQUE INDEX employer_suspension_one_in_force_agency ON employer_suspension (agency) "
    'WHERE lifted_at IS NULL AND "user" IS NULL',
]


async def add_constraints() -> None:
    db = engine_finder()
    for statement in STATEMENTS:
        await db.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    for column in ("user", "agency", "suspended_by", "lifted_by"):
        manager.alter_column(
            table_class_name="EmployerSuspension",
            tablename="employer_suspension",
            column_name=column,
            db_column_name=column,
            params={"on_delete": OnDelete.restrict, "on_update": OnUpdate.cascade},
            old_params={"on_delete": OnDelete.cascade, "on_update": OnUpdate.cascade},
            column_class=ForeignKey,
            old_column_class=ForeignKey,
            schema=None,
        )
    manager.add_raw(add_constraints)
    return manager
