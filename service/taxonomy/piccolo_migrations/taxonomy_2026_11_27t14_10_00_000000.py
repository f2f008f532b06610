"""The language table (codes, names, aliases)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Array, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-27T14:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "language table"


def _params(**extra):
    return {
        "default": "",
        "null": False,
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
    manager = MigrationManager(migration_id=ID, app_name="taxonomy", description=DESCRIPTION)
    manager.add_table(class_name="Language", tablename="language", schema=None, columns=None)
    for name, length, unique in (("code", 16, True), ("name_zh", 32, False), ("name_en", 64, False)):
        manager.add_column(
            table_class_name="Language",
            tablename="language",
            column_name=name,
            db_column_name=name,
            column_class_name="Varchar",
            column_class=Varchar,
            params=_params(length=length, unique=unique),
            schema=None,
        )
    manager.add_column(
        table_class_name="Language",
        tablename="language",
        column_name="aliases",
        db_column_name="aliases",
        column_class_name="Array",
        column_class=Array,
        params=_params(
            default=list,
            base_column=Varchar(
                length=32,
                default="",
                null=False,
                primary_key=False,
                unique=False,
                index=False,
                index_method=IndexMethod.btree,
                choices=None,
                db_column_name=None,
                secret=False,
            ),
        ),
        schema=None,
    )
    return manager
