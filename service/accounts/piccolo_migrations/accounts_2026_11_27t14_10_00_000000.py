"""New API-key scopes (agency:read, jobs:read, jobs:write, webhooks:manage).

Keys issued with every scope of their agency's kind (the default) keep doing all they
could: they receive the new scopes. Keys issued narrower stay as they are."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T14:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "grant the new scopes to keys that held every scope of their kind"

OLD = {
    "housekeeping": ["workers:read", "workers:write", "checks:write", "keys:manage"],
    "training": ["workers:read", "trainings:write", "keys:manage"],
    "evaluation": ["workers:read", "certificates:write", "keys:manage"],
}
NEW = {
    "housekeeping": ["agency:read", "jobs:read", "jobs:write", "webhooks:manage"],
    "training": ["agency:read", "webhooks:manage"],
    "evaluation": ["agency:read", "webhooks:manage"],
}


async def widen_default_keys() -> None:
    db = engine_finder()
    for kind, old in OLD.items():
        old_sql = "ARRAY[" + ", ".join(f"'{s}'" for s in old) + "]::varchar[]"
        new_sql = "ARRAY[" + ", ".join(f"'{s}'" for s in NEW[kind]) + "]::varchar[]"
        await db.run_ddl(
            f"UPDATE api_key SET scopes = ARRAY(SELECT DISTINCT unnest(scopes || {new_sql}) ORDER BY 1) "
            f"FROM agency WHERE api_key.agency = agency.id AND agency.kind = '{kind}' AND scopes @> {old_sql}"
        )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    manager.add_raw(widen_default_keys)
    return manager
