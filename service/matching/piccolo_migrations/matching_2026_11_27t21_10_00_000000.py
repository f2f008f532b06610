"""A reopened request remembers the day the replacement is needed from; existing requests
keep NULL (never reopened)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Date
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-27T21:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "job_request.reopened_from"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="matching", description=DESCRIPTION)
    manager.add_column(
        table_class_name="JobRequest",
        tablename="job_request",
        column_name="reopened_from",
        db_column_name="reopened_from",
        column_class_name="Date",
        column_class=Date,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
