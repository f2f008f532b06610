import os

from piccolo.conf.apps import AppConfig

from service.events.tables import Event, WebhookDelivery, WebhookSubscription

APP_CONFIG = AppConfig(
    app_name="events",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Event, WebhookSubscription, WebhookDelivery],
    migration_dependencies=["service.accounts.piccolo_app"],
    commands=[],
)
