"""Reload skills so existing databases get the words for putting things away, mending and errands (收起来,
改短, 代购, 寄快递), choking and washing up, loneliness, English care words (knee replacement, Down
syndrome, meal plan, dressing as getting dressed)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from service.taxonomy.piccolo_migrations.taxonomy_2026_11_27t05_21_20_000000 import load_reference_data

ID = "2026-11-28T04:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reload skills (putting away, mending, errands, company, English care words)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="taxonomy", description=DESCRIPTION)
    manager.add_raw(load_reference_data)
    return manager
