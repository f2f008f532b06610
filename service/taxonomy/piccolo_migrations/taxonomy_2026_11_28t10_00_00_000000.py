"""Reload skills so existing databases get this round's words: regional Cantonese cuisines (顺德菜, 潮汕菜,
客家菜), dim sum, northern style and provincial tastes; a pet sitter (宠物保姆); a baby's 捏脊; curtains,
sofas and carpets washed are a deep clean; 医陪, passive training, oxygen machines, sorting pills and help
eating; one meal cooked and cleaning glass; after-school care (晚托), 护老, moving and lifting, weekly
menus, blood oxygen and a tidy kitchen."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from service.taxonomy.piccolo_migrations.taxonomy_2026_11_27t05_21_20_000000 import load_reference_data

ID = "2026-11-28T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reload skills (regional cuisines, pet sitters, deep-cleaned furnishings, after-school care, menus)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="taxonomy", description=DESCRIPTION)
    manager.add_raw(load_reference_data)
    return manager
