"""The rule for when a credential counts, owned by the database.

`credential_counts(status, result)`: a training, check or certificate counts when the bureau
(or the issuer) verified it and, where it has a result, it passed. `credential_valid_on(
valid_until, day)`: it is still valid on that Guangdong day (no end date: valid for good).
The registry, the integrity rating and its ageing refresh, and both of the matcher's fact
loads call these two, so changing the rule is one `CREATE OR REPLACE FUNCTION` here (in a
new migration). Plain SQL functions: PostgreSQL inlines them into each query, so indexes
and plans are as if the condition were written out.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "credential_counts and credential_valid_on"

STATEMENTS = [
    """
    CREATE OR REPLACE FUNCTION credential_counts(status text, result text DEFAULT 'passed') RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT status = 'verified' AND result = 'passed' $$
    """,
    """
    CREATE OR REPLACE FUNCTION credential_valid_on(valid_until date, day date) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT valid_until IS NULL OR valid_until >= day $$
    """,
]


async def create_functions() -> None:
    db = engine_finder()
    for statement in STATEMENTS:
        await db.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)
    manager.add_raw(create_functions)
    return manager
