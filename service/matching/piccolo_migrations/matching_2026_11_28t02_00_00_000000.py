"""Checkpoints of the candidate index (service/matching/checkpoint.py).

UNLOGGED: a checkpoint is a cache of what the registry tables already hold. Nothing of it
goes through the WAL (writing 300 MB at 2.3 M workers costs no WAL and no replica
traffic); a crash empties the tables and the next process makes the bulk load instead.
The chunks are stored EXTERNAL: out of line, without pglz, whose compression of numpy
columns would cost more time than the bytes it saves."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-28T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "index_checkpoint and index_checkpoint_chunk"


async def create_tables() -> None:
    engine = engine_finder()
    await engine.run_ddl(
        """
        CREATE UNLOGGED TABLE index_checkpoint (
            id bigserial PRIMARY KEY,
            schema_key text NOT NULL,
            fresh_xmin bigint NOT NULL,  -- the xmin the columns are fresh as of
            workers integer NOT NULL,
            size bigint NOT NULL,
            chunks integer NOT NULL,
            checksum bigint NOT NULL,
            origin text NOT NULL,
            meta jsonb NOT NULL,
            complete boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    await engine.run_ddl("CREATE INDEX index_checkpoint_newest ON index_checkpoint (schema_key, id) WHERE complete")
    await engine.run_ddl(
        """
        CREATE UNLOGGED TABLE index_checkpoint_chunk (
            checkpoint bigint NOT NULL REFERENCES index_checkpoint (id) ON DELETE CASCADE,
            seq integer NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (checkpoint, seq)
        )
        """
    )
    await engine.run_ddl("ALTER TABLE index_checkpoint_chunk ALTER COLUMN data SET STORAGE EXTERNAL")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="matching", description=DESCRIPTION)
    manager.add_raw(create_tables)
    return manager
