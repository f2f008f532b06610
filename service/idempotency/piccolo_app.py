import os

from piccolo.conf.apps import AppConfig

from service.idempotency.tables import IdempotencyRecord

APP_CONFIG = AppConfig(
    app_name="idempotency",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[IdempotencyRecord],
    migration_dependencies=[],
    commands=[],
)
