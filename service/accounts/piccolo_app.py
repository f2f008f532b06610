import os

from piccolo.conf.apps import AppConfig

from service.accounts.tables import Agency, ApiKey, EmployerSuspension, PhoneCode, User

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[User, Agency, ApiKey, PhoneCode, EmployerSuspension],
    migration_dependencies=[],
    commands=[],
)
