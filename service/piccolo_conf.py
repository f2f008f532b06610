"""Piccolo's configuration: the apps, and an engine for Piccolo's own command line.

The service does not use `DB` from here: it builds its engine from its settings and binds
every table to it (see `service.database.run_migrations`, which also points `DB` at it).
It lives in the package so an installed service finds it from any directory
(`PICCOLO_CONF=service.piccolo_conf`); `piccolo_conf.py` at the root re-exports it for
`piccolo migrations new <app> --auto` run from a checkout.
"""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from service.database import EXTENSIONS, PICCOLO_APPS

APP_REGISTRY = AppRegistry(apps=PICCOLO_APPS)
DB: PostgresEngine


def __getattr__(name: str) -> PostgresEngine:
    # Built on first use only: a Piccolo engine connects as soon as it is made, and the
    # service replaces `DB` with its own engine before anything reads it.
    if name != "DB":
        raise AttributeError(name)
    global DB
    DB = PostgresEngine(
        config={"dsn": os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")},
        extensions=EXTENSIONS,
    )
    return DB
