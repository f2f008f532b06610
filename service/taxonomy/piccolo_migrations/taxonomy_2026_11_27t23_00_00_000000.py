"""Reload skills so existing databases get the words added for generalisation (车衫, 抽痰, 胃喉, 监护仪…)
and lose the ones moved to an umbrella (出院) or to another skill (换尿布)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from service.taxonomy.piccolo_migrations.taxonomy_2026_11_27t05_21_20_000000 import load_reference_data

ID = "2026-11-27T23:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reload skills (words for generalisation)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="taxonomy", description=DESCRIPTION)
    manager.add_raw(load_reference_data)
    return manager
