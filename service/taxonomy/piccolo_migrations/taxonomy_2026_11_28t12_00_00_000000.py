"""Reload skills so existing databases get this round's words: memory failing (记性变差, 同一件事问),
bed-wetting (尿床, 濑尿), lifting and hoists (抱人, 移位机, 扶着, help him walk), feeding said in English,
unsteady walking and falls (颤颤巍巍, 别让他摔), pills forgotten (忘记吃药, 吃的药多), Western dishes and
bread."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from service.taxonomy.piccolo_migrations.taxonomy_2026_11_27t05_21_20_000000 import load_reference_data

ID = "2026-11-28T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reload skills (failing memory, bed-wetting, hoists, unsteady walking, forgotten pills)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="taxonomy", description=DESCRIPTION)
    manager.add_raw(load_reference_data)
    return manager
