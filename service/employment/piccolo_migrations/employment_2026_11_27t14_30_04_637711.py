from enum import Enum

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-11-27T14:30:04:637711"
VERSION = "1.38.0"
DESCRIPTION = "Status columns take enum choices (Python side only; no change in the database)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="employment", description=DESCRIPTION)

    manager.alter_column(
        table_class_name="Offer",
        tablename="offer",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "OfferStatus",
                {
                    "OFFERED": "offered",
                    "ACCEPTED": "accepted",
                    "DECLINED": "declined",
                    "WITHDRAWN": "withdrawn",
                    "EXPIRED": "expired",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
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
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Complaint",
        tablename="complaint",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "ComplaintStatus",
                {
                    "OPEN": "open",
                    "SUBSTANTIATED": "substantiated",
                    "DISMISSED": "dismissed",
                    "OVERTURNED": "overturned",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Complaint",
        tablename="complaint",
        column_name="appeal_status",
        db_column_name="appeal_status",
        params={
            "choices": Enum(
                "AppealStatus",
                {
                    "NONE": "none",
                    "PENDING": "pending",
                    "UPHELD": "upheld",
                    "REJECTED": "rejected",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
