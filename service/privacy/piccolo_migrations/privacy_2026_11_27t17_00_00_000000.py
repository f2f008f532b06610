"""The append-only log of personal-data reads; erasure requests; versioned blind indexes."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "personal-data read log (append-only), worker erasure columns, wider blind indexes"

STATEMENTS = [
    """
    CREATE TABLE personal_data_read (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor_role varchar(16) NOT NULL,
        user_id integer,
        agency_id integer,
        api_key_id integer,
        worker_id integer NOT NULL,
        field varchar(32) NOT NULL,
        purpose varchar(200) NOT NULL,
        route varchar(200) NOT NULL,
        request_id varchar(64) NOT NULL DEFAULT '',
        CONSTRAINT personal_data_read_field
            CHECK (field IN ('id_number', 'phone', 'background_check', 'health_check'))
    )
    """,
    "CREATE INDEX personal_data_read_at ON personal_data_read (at)",
    "CREATE INDEX personal_data_read_worker ON personal_data_read (worker_id, at)",
    "CREATE INDEX personal_data_read_user ON personal_data_read (user_id, at)",
    "CREATE INDEX personal_data_read_agency ON personal_data_read (agency_id, at)",
    """
    CREATE FUNCTION personal_data_read_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'personal_data_read is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER personal_data_read_append_only
        BEFORE UPDATE OR DELETE ON personal_data_read
        FOR EACH ROW EXECUTE FUNCTION personal_data_read_append_only()
    """,
    "ALTER TABLE worker ADD COLUMN erasure_requested_at timestamptz",
    "ALTER TABLE worker ADD COLUMN erased_at timestamptz",
    "CREATE INDEX worker_erasure_due ON worker (erasure_requested_at) WHERE erased_at IS NULL",
    # Blind indexes made with a later key version are written `v<n>:<64 hex>`.
    "ALTER TABLE worker ALTER COLUMN id_number_index TYPE varchar(80)",
    "ALTER TABLE training_roster_entry ALTER COLUMN id_number_index TYPE varchar(80)",
]


async def migrate() -> None:
    db = engine_finder()
    for statement in STATEMENTS:
        await db.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="privacy", description=DESCRIPTION)
    manager.add_raw(migrate)
    return manager
