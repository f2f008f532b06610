"""Languages stored as taxonomy codes: 粤语 / 广东话 / 白话 → cantonese, 普通话 / 国语 → mandarin, …"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from service.taxonomy.languages import recode_languages

ID = "2026-11-27T14:10:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "languages as codes"


async def recode() -> None:
    await recode_languages("job_request")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="matching", description=DESCRIPTION)
    manager.add_raw(recode)
    return manager
