"""Configuration for Piccolo's own command line (`piccolo migrations new <app> --auto`).

The service does not use `DB` from here: it builds its engine from its settings and binds
every table to it (see `service.database`).
"""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from service.database import EXTENSIONS, PICCOLO_APPS

DB = PostgresEngine(
    config={"dsn": os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")},
    extensions=EXTENSIONS,
)

APP_REGISTRY = AppRegistry(apps=PICCOLO_APPS)
