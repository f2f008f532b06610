from enum import Enum

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-11-27T14:29:30:314659"
VERSION = "1.38.0"
DESCRIPTION = "Status columns take enum choices (Python side only; no change in the database)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    manager.alter_column(
        table_class_name="Worker",
        tablename="worker",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "WorkerStatus",
                {
                    "ACTIVE": "active",
                    "PAUSED": "paused",
                    "SUSPENDED": "suspended",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Training",
        tablename="training",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "CredentialStatus",
                {
                    "PENDING": "pending",
                    "VERIFIED": "verified",
                    "REJECTED": "rejected",
                    "REVOKED": "revoked",
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
        table_class_name="Certificate",
        tablename="certificate",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "CredentialStatus",
                {
                    "PENDING": "pending",
                    "VERIFIED": "verified",
                    "REJECTED": "rejected",
                    "REVOKED": "revoked",
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
        table_class_name="Check",
        tablename="worker_check",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "CredentialStatus",
                {
                    "PENDING": "pending",
                    "VERIFIED": "verified",
                    "REJECTED": "rejected",
                    "REVOKED": "revoked",
                    "EXPIRED": "expired",
                },
            )
        },
        old_params={"choices": None},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
