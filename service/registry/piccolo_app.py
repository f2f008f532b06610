import os

from piccolo.conf.apps import AppConfig

from service.registry.tables import (
    Certificate,
    Check,
    ConsentEvent,
    EvaluatorRegistration,
    Programme,
    Training,
    TrainingRoster,
    TrainingRosterEntry,
    TrainingSession,
    TrainingVerificationRule,
    Worker,
    WorkerLookup,
)

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[
        Worker,
        ConsentEvent,
        Programme,
        Training,
        TrainingSession,
        TrainingRoster,
        TrainingRosterEntry,
        TrainingVerificationRule,
        Certificate,
        Check,
        EvaluatorRegistration,
        WorkerLookup,
    ],
    migration_dependencies=["service.accounts.piccolo_app"],
    commands=[],
)
