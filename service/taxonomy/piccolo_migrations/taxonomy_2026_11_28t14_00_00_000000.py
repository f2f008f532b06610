"""Reload skills so existing databases get this round's words: soup said by who drinks it and its
herbs (爱喝汤, 药材), putting back and unpacking (归位, 拆箱), scale and move-out cleans (水垢, 瓷砖缝,
end of tenancy), English appliances, dog breeds and baking, a baby's broken sleep and teething
(睡不踏实, 夜闹, 出牙发烧), last days in Cantonese, limbs to train, low mood (情绪低落, 不愿出门),
a spoon that cannot be held, falling often."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from service.taxonomy.piccolo_migrations.taxonomy_2026_11_27t05_21_20_000000 import load_reference_data

ID = "2026-11-28T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reload skills (soup and herbs, unpacking, scale, teething, low mood, falling often)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="taxonomy", description=DESCRIPTION)
    manager.add_raw(load_reference_data)
    return manager
