"""Reload skills so existing databases get this round's words: an illness named alone (高血压, diabetes) is
no longer its monitoring and a hospital named in passing no hospital stay; pulse and heart rate are vital
signs; slipping and grab rails are falls; lying in bed for good is bedridden care; toddlers and 育儿阿姨 are
an infant's care; a live-in carer (住家护工) is an elder's daily care; a discharge beside an elder's duty
is no surgery; 沐浴, 肚风 and night wakings are read; 陪玩 and 娃 are a child's; 做月子饭 is cooking."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from service.taxonomy.piccolo_migrations.taxonomy_2026_11_27t05_21_20_000000 import load_reference_data

ID = "2026-11-28T08:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "reload skills (illness alone is no monitoring, pulse, slipping, in bed for good, toddlers, live-in carers)"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="taxonomy", description=DESCRIPTION)
    manager.add_raw(load_reference_data)
    return manager
