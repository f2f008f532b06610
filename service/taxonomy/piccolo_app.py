import os

from piccolo.conf.apps import AppConfig

from service.taxonomy.tables import District, Language, Occupation, Skill

APP_CONFIG = AppConfig(
    app_name="taxonomy",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Skill, Language, Occupation, District],
    migration_dependencies=[],
    commands=[],
)
