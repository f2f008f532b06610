"""Reload skills so existing databases get the words for situations named rather than duties: getting
lost and forgetting the stove (dementia), amputation and paraplegia (disability), PEG and nasal tubes,
coma, 月姐 and yuesao, pacemakers and joint replacements, slips and falls, move-in cleaning, window
tracks, reading the paper to an elder, Cantonese and Sichuan food in English."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from service.taxonomy.piccolo_migrations.taxonomy_2026_11_27t05_21_20_000000 import load_reference_data

ID = "2026-11-28T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reload skills (situations: getting lost, tubes, amputation, falls, 月姐, move-in cleaning)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="taxonomy", description=DESCRIPTION)
    manager.add_raw(load_reference_data)
    return manager
