from enum import Enum

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import SmallInt, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-27T17:04:17:816471"
VERSION = "1.38.0"
DESCRIPTION = "placements the worker ends (notice, category); complaints say whom they are against"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="employment", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Placement",
        tablename="placement",
        column_name="end_category",
        db_column_name="end_category",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 24,
            "default": "",
            "null": False,
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

    manager.add_column(
        table_class_name="Placement",
        tablename="placement",
        column_name="notice_given_days",
        db_column_name="notice_given_days",
        column_class_name="SmallInt",
        column_class=SmallInt,
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

    manager.add_column(
        table_class_name="Placement",
        tablename="placement",
        column_name="notice_required_days",
        db_column_name="notice_required_days",
        column_class_name="SmallInt",
        column_class=SmallInt,
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

    manager.add_column(
        table_class_name="Complaint",
        tablename="complaint",
        column_name="against",
        db_column_name="against",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 16,
            "default": "worker",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": Enum("ComplaintAgainst", {"WORKER": "worker", "EMPLOYER": "employer"}),
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.alter_column(
        table_class_name="Placement",
        tablename="placement",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "PlacementStatus",
                {
                    "ACTIVE": "active",
                    "COMPLETED": "completed",
                    "TERMINATED": "terminated",
                    "NO_SHOW": "no_show",
                    "RESIGNED": "resigned",
                    "CANCELLED": "cancelled",
                },
            )
        },
        old_params={
            "choices": Enum(
                "PlacementStatus",
                {
                    "ACTIVE": "active",
                    "COMPLETED": "completed",
                    "TERMINATED": "terminated",
                    "NO_SHOW": "no_show",
                },
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Complaint",
        tablename="complaint",
        column_name="category",
        db_column_name="category",
        params={"length": 24},
        old_params={"length": 16},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
