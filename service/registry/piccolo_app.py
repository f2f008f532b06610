import os

from piccolo.conf.apps import AppConfig

from service.registry.tables import Certificate, Check, ConsentEvent, Training, Worker, WorkerLookup

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Worker, ConsentEvent, Training, Certificate, Check, WorkerLookup],
    migration_dependencies=["service.accounts.piccolo_app"],
    commands=[],
)
