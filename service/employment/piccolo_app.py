import os

from piccolo.conf.apps import AppConfig

from service.employment.tables import Complaint, IntegrityHistory, IntegrityRating, Offer, Placement, Review

APP_CONFIG = AppConfig(
    app_name="employment",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Offer, Placement, Review, Complaint, IntegrityRating, IntegrityHistory],
    migration_dependencies=["service.matching.piccolo_app"],
    commands=[],
)
