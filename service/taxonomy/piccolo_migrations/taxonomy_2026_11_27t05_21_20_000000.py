"""Load the shipped reference data (skills, occupations, districts); re-running updates it."""

import json
from pathlib import Path

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-27T05:21:20:000000"
VERSION = "1.38.0"
DESCRIPTION = "seed skills, occupations and districts"

DATA = Path(__file__).resolve().parent.parent / "data"


async def load_reference_data() -> None:
    skills = json.loads((DATA / "skills.json").read_text(encoding="utf-8"))
    districts = json.loads((DATA / "districts.json").read_text(encoding="utf-8"))
    city_names = {c["code"]: c["name_zh"] for c in districts["cities"]}
    rows = [{**d, "city_name_zh": city_names[d["city_code"]]} for d in districts["districts"]]
    db = engine_finder()
    await db.run_querystring(
        QueryString(
            """
        INSERT INTO skill (code, name_zh, name_en, category, aliases)
        SELECT code, name_zh, name_en, category, aliases
        FROM jsonb_to_recordset({}::jsonb)
             AS x(code text, name_zh text, name_en text, category text, aliases varchar[])
        ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en,
            category = EXCLUDED.category, aliases = EXCLUDED.aliases
        """,
            json.dumps(skills["skills"], ensure_ascii=False),
        )
    )
    await db.run_querystring(
        QueryString(
            """
        INSERT INTO occupation (code, name_zh, levels, level_names, work_types, shortage)
        SELECT code, name_zh, levels, level_names, work_types, shortage
        FROM jsonb_to_recordset({}::jsonb)
             AS x(code text, name_zh text, levels int[], level_names jsonb, work_types jsonb, shortage bool)
        ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh, levels = EXCLUDED.levels,
            level_names = EXCLUDED.level_names, work_types = EXCLUDED.work_types, shortage = EXCLUDED.shortage
        """,
            json.dumps(skills["occupations"], ensure_ascii=False),
        )
    )
    await db.run_querystring(
        QueryString(
            """
        INSERT INTO district (code, name_zh, city_code, city_name_zh, lat, lon)
        SELECT code, name_zh, city_code, city_name_zh, lat, lon
        FROM jsonb_to_recordset({}::jsonb)
             AS x(code text, name_zh text, city_code text, city_name_zh text, lat float8, lon float8)
        ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh, city_code = EXCLUDED.city_code,
            city_name_zh = EXCLUDED.city_name_zh, lat = EXCLUDED.lat, lon = EXCLUDED.lon
        """,
            json.dumps(rows, ensure_ascii=False),
        )
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="taxonomy", description=DESCRIPTION)
    manager.add_raw(load_reference_data)
    return manager
