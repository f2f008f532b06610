from enum import Enum

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-11-27T14:29:11:778364"
VERSION = "1.38.0"
DESCRIPTION = "Status columns take enum choices (Python side only; no change in the database)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    manager.alter_column(
        table_class_name="WebhookDelivery",
        tablename="webhook_delivery",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "DeliveryStatus",
                {"PENDING": "pending", "DELIVERED": "delivered", "DEAD": "dead"},
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
