import os

from piccolo.conf.apps import AppConfig

from service.reports.tables import (
    IntegrityCheckRun,
    IntegrityFlag,
    ProgrammeBudget,
    SubsidyClaim,
    SubsidyClaimEvent,
    SubsidyRule,
    Target,
)

APP_CONFIG = AppConfig(
    app_name="reports",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[
        SubsidyRule,
        SubsidyClaim,
        SubsidyClaimEvent,
        Target,
        ProgrammeBudget,
        IntegrityFlag,
        IntegrityCheckRun,
    ],
    migration_dependencies=["service.employment.piccolo_app"],
    commands=[],
)
