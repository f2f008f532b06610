import os

from piccolo.conf.apps import AppConfig

from service.matching.tables import Interest, JobRequest

APP_CONFIG = AppConfig(
    app_name="matching",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[JobRequest, Interest],
    migration_dependencies=["service.registry.piccolo_app"],
    commands=[],
)
