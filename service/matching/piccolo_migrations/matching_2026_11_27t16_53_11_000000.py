"""One interest per request and worker: saying it twice changes nothing."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T16:53:11:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique interest per request and worker"


async def add_index() -> None:
    await engine_finder().run_ddl("CREATE UNIQUE INDEX IF NOT EXISTS interest_once ON interest (request, worker)")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="matching", description=DESCRIPTION)
    manager.add_raw(add_index)
    return manager
