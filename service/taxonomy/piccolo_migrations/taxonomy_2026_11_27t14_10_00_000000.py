"""Languages as reference data with aliases; reload skills (new aliases and codes) into existing databases."""

import json
from pathlib import Path

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Array, Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

from service.taxonomy.piccolo_migrations.taxonomy_2026_11_27t05_21_20_000000 import load_reference_data

ID = "2026-11-27T14:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "languages with aliases; reload skills"

DATA = Path(__file__).resolve().parent.parent / "data"


def _params(**extra):
    return {"default": "", "null": False, "primary_key": False, "unique": False, "index": False,
            "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False, **extra}


async def load_languages() -> None:
    languages = json.loads((DATA / "languages.json").read_text(encoding="utf-8"))["languages"]
    await engine_finder().run_querystring(QueryString(
        """
        INSERT INTO language (code, name_zh, name_en, aliases)
        SELECT code, name_zh, name_en, aliases
        FROM jsonb_to_recordset({}::jsonb) AS x(code text, name_zh text, name_en text, aliases varchar[])
        ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en,
            aliases = EXCLUDED.aliases
        """,
        json.dumps(languages, ensure_ascii=False),
    ))


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="taxonomy", description=DESCRIPTION)
    manager.add_table(class_name="Language", tablename="language", schema=None, columns=None)
    for name, length, unique in (("code", 16, True), ("name_zh", 32, False), ("name_en", 64, False)):
        manager.add_column(
            table_class_name="Language", tablename="language", column_name=name, db_column_name=name,
            column_class_name="Varchar", column_class=Varchar, params=_params(length=length, unique=unique),
            schema=None,
        )
    manager.add_column(
        table_class_name="Language", tablename="language", column_name="aliases", db_column_name="aliases",
        column_class_name="Array", column_class=Array,
        params=_params(default=list, base_column=Varchar(length=32, default="", null=False, primary_key=False,
                                                           unique=False, index=False, index_method=IndexMethod.btree,
                                                           choices=None, db_column_name=None, secret=False)),
        schema=None,
    )
    manager.add_raw(load_languages)
    manager.add_raw(load_reference_data)
    return manager
