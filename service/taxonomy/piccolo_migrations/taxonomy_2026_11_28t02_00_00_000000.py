"""Reload skills so existing databases get the words for night feeds (夜奶 under feeding and sleep care),
English tastes for an elder's diet (low-salt, soft) and getting up at night."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from service.taxonomy.piccolo_migrations.taxonomy_2026_11_27t05_21_20_000000 import load_reference_data

ID = "2026-11-28T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reload skills (night feeds, English tastes)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="taxonomy", description=DESCRIPTION)
    manager.add_raw(load_reference_data)
    return manager
