import os

from piccolo.conf.apps import AppConfig

from service.privacy.tables import PersonalDataRead

APP_CONFIG = AppConfig(
    app_name="privacy",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[PersonalDataRead],
    migration_dependencies=["service.reports.piccolo_app"],
    commands=[],
)
