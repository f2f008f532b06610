"""Seed languages (codes with aliases); reload skills so existing databases get new aliases and codes."""

import json
from pathlib import Path

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

from service.taxonomy.piccolo_migrations.taxonomy_2026_11_27t05_21_20_000000 import load_reference_data

ID = "2026-11-27T14:10:00:500000"
VERSION = "1.38.0"
DESCRIPTION = "seed languages; reload skills"

DATA = Path(__file__).resolve().parent.parent / "data"


async def load_languages() -> None:
    languages = json.loads((DATA / "languages.json").read_text(encoding="utf-8"))["languages"]
    await engine_finder().run_querystring(
        QueryString(
            """
        INSERT INTO language (code, name_zh, name_en, aliases)
        SELECT code, name_zh, name_en, aliases
        FROM jsonb_to_recordset({}::jsonb) AS x(code text, name_zh text, name_en text, aliases varchar[])
        ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en,
            aliases = EXCLUDED.aliases
        """,
            json.dumps(languages, ensure_ascii=False),
        )
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="taxonomy", description=DESCRIPTION)
    manager.add_raw(load_languages)
    manager.add_raw(load_reference_data)
    return manager
