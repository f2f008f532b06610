"""A required certificate may name its 工种; 月嫂 requests carry the due-date window and the
number of 单 booked. Existing requests keep NULLs (any 工种, no due date) and one 单."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Date, SmallInt, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-27T17:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "required certificate work type; due-date window and terms"


def _params(**extra):
    return {
        "default": None,
        "null": True,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **extra,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="matching", description=DESCRIPTION)
    for name, column_class, extra in (
        ("required_work_type", Varchar, {"length": 32}),
        ("due_date_from", Date, {}),
        ("due_date_to", Date, {}),
        ("terms", SmallInt, {"default": 1, "null": False}),
    ):
        manager.add_column(
            table_class_name="JobRequest",
            tablename="job_request",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=_params(**extra),
            schema=None,
        )
    return manager
