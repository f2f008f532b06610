"""Checkpoints of the candidate index, kept in PostgreSQL, so that a new process starts
from the columns another one already computed instead of the bulk load.

What a checkpoint holds: every column of the index over its rows (raw numpy bytes, in
chunks of CHUNK_BYTES), and what the columns depend on: the vocabularies' bit maps, the
surnames table, the credential keys, the skipped rows, the number of rows, and the `xmin`
the columns are fresh as of. A new process restores the newest complete checkpoint whose
`schema_key` is its own, then catches up with `changed_workers(checkpoint.xmin)` exactly
as a refresh does (the rows stamped at or above that horizon), rebuilds the district and
grid lists and the area fingerprints, and reads every placement, as the bulk load does.

The schema key covers the column layout (names, dtypes, widths, byte order), the
categories, health tiers and readable ranges, the taxonomy (skill and district codes in
order, the occupations as the database holds them) and the source of the modules that
compute the columns: any change of these makes the checkpoint another key's, so a process
never restores columns laid out or computed otherwise than its own bulk load would.
The origin (the cluster's system identifier, this database, the `worker` table's file)
keeps a checkpoint from being restored into a copy of the database (pg_dump and restore:
transaction ids start over) or after the worker table was emptied (TRUNCATE). The catch-up
relies on what every refresh relies on: worker rows are never deleted.

Who writes: any process, after its index was loaded by the bulk load, then at most
every INDEX_CHECKPOINT_SECONDS, and when it finds none of its key, if no complete
checkpoint of its key is younger than that and it holds the advisory lock
ADVISORY_LOCK_KEY (a transaction lock, held from the freshness check to the last chunk: one writer at a time across
processes and machines); it refreshes its index first. An erasure deletes every
checkpoint (`forget_checkpoints`). The columns are copied into one buffer in a thread
while the index counts the copy as a reading (rankings go on; a refresh waits for the
copy, 0.4-0.7 s at 2.3 M workers), then written chunk by chunk (each chunk's encoding is
a memory copy of CHUNK_BYTES on the event loop, a few ms).
The header row, every chunk, `complete = true` and the pruning of older checkpoints are
one transaction: a checkpoint is seen whole or not at all, and a torn one is never read.
A failure to write is logged; the service goes on with its index.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sys
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import asyncpg
import numpy as np
from piccolo.engine.postgres import PostgresEngine

log = logging.getLogger(__name__)

# Bump when what a checkpoint means changes in a way the rest of the key would not show
# (the key already names the column layout, the taxonomy, the code that computes the columns
# and the SQL functions the project defines, which the loads call: `credential_counts`).
CHECKPOINT_FORMAT = 1
# Each chunk is one bytea value (PostgreSQL allows up to 1 GB). Sending one is a memory
# copy or two on the event loop: 16 MB chunks held it 11-13 ms each at 2.3 M workers, 4 MB
# a few ms. Whole writes took 1.4-2.6 s in 4 MB chunks and 1.9-2.1 s in 16 MB ones (on a
# machine shared with other jobs: no difference to tell).
CHUNK_BYTES = 4 * 2**20
# pg_try_advisory_xact_lock key of the checkpoint writer (b"nyjz-ckp" as a big-endian int64).
ADVISORY_LOCK_KEY = int.from_bytes(b"nyjz-ckp", "big")
# Checkpoints of another schema key (another version of the service) are kept this long,
# for the processes of a rolling deploy that still run that version.
OTHER_KEYS_KEPT_SECONDS = 24 * 3600
# A checkpoint more rows behind than this (a share of its rows, at least the floor) is not
# caught up row by row: the bulk load is quicker.
MAX_CATCH_UP_SHARE = 0.10
# How long a writer whose index reads a replica waits for it to replay what the primary had
# committed when the writer took the lock (an erasure included) before giving up this write.
REPLICA_WAIT_SECONDS = 30.0
MIN_CATCH_UP_CAP = 50_000


def _modules_computing_columns() -> list[Path]:
    from service import privacy
    from service.matching import facts, index
    from service.taxonomy import rules

    return [Path(m.__file__ or "") for m in (index, facts, rules, privacy)] + [Path(__file__)]


@lru_cache(maxsize=1)
def _code_digests() -> tuple[str, ...]:
    """The digests of the code this process runs, read once: files replaced on disk under a
    running process (a deploy in place) must not lend their key to columns computed by the
    code it loaded before."""
    return tuple(hashlib.sha256(path.read_bytes()).hexdigest() for path in _modules_computing_columns())


# The definitions of the SQL functions the project defines (not an extension's): the loads
# call some of them (`credential_counts`), so a migration that redefines one changes what
# the columns mean. All of them are named, so that no list of the ones used can fall behind.
_DATABASE_RULES = r"""
    SELECT coalesce(string_agg(pg_get_functiondef(p.oid), E'\n' ORDER BY p.oid::regprocedure::text), '')
    FROM pg_proc p
    WHERE p.pronamespace = current_schema()::regnamespace AND p.prokind = 'f'
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
"""


async def database_rules(conn: asyncpg.Connection) -> str:
    """A digest of the SQL functions the project defines, as the database holds them now."""
    return hashlib.sha256((await conn.fetchval(_DATABASE_RULES)).encode()).hexdigest()


async def _key_on(conn: asyncpg.Connection, index) -> str:
    """The index's schema key, with the SQL functions as `conn`'s database holds them."""
    return schema_key(index, await database_rules(conn))


def schema_key(index, database: str) -> str:
    """What the columns' bytes mean, as a digest: equal keys, interchangeable columns.
    `database` is `database_rules()` read on the checkpoints' database."""
    from service.matching.index import (
        CATEGORIES,
        HEALTH_TIER_CODES,
        READABLE_DATES,
        READABLE_LAT,
        READABLE_LON,
        UNREADABLE_CHECKS,
    )

    taxonomy = index.taxonomy
    parts = {
        "format": CHECKPOINT_FORMAT,
        "byteorder": sys.byteorder,
        "columns": [(name, np.dtype(dtype).str, list(extra)) for name, (dtype, extra) in index._schema().items()],
        "categories": list(CATEGORIES),
        "tiers": list(HEALTH_TIER_CODES),
        "unreadable": list(UNREADABLE_CHECKS),
        "readable": [str(d) for d in READABLE_DATES] + [list(READABLE_LAT), list(READABLE_LON)],
        "credential_keys": list(index.occupations),
        "skills": list(taxonomy.skills),
        "districts": list(taxonomy.districts),
        "occupations": taxonomy.occupations,
        "code": list(_code_digests()),
        "database": database,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Checkpoint:
    id: int
    xmin: int
    meta: dict
    data: np.ndarray  # uint8

    def columns(self) -> dict[str, np.ndarray]:
        """The columns, as views over the checkpoint's bytes."""
        n = self.meta["n"]
        return {
            name: np.ndarray((n, *extra), dtype=np.dtype(dtype), buffer=self.data, offset=offset)
            for name, dtype, extra, offset in self.meta["columns"]
        }


@dataclass
class Snapshot:
    """An index's state to save: its metadata and its columns in one buffer."""

    xmin: int
    n: int
    meta: dict
    data: np.ndarray  # uint8, every column one after another
    checksum: int


@dataclass
class WriteResult:
    written: bool
    reason: str = ""
    checkpoint_id: int | None = None
    size: int = 0
    seconds: float = 0.0


_ORIGIN = """
    SELECT concat_ws('/', (SELECT system_identifier FROM pg_control_system()),
                     (SELECT oid FROM pg_database WHERE datname = current_database()),
                     pg_relation_filenode('worker'))
"""


async def _replica_caught_up(index, primary: asyncpg.Connection) -> bool:
    """Wait up to REPLICA_WAIT_SECONDS for the index's source to replay the primary's WAL
    as it is now."""
    replayed = getattr(index.source, "replayed", None)
    if replayed is None:
        return False
    target = await primary.fetchval("SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + REPLICA_WAIT_SECONDS
    while not await replayed(target):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.2)
    return True


class CheckpointStore:
    """Reads and writes the index's checkpoints; `connect` opens a connection of its own
    (on the primary: the tables are UNLOGGED, which a replica cannot read)."""

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], *, max_age_seconds: float) -> None:
        self.connect = connect
        self.max_age_seconds = max_age_seconds

    @classmethod
    def of(cls, engine: PostgresEngine, *, max_age_seconds: float) -> CheckpointStore:
        _code_digests()  # the code as loaded, when the app is made
        return cls(engine.get_new_connection, max_age_seconds=max_age_seconds)

    # Reading -------------------------------------------------------------------------

    async def newest(self, index) -> Checkpoint | None:
        """The newest complete checkpoint of the index's schema key that may be restored
        here and now, read whole and verified; None (with the reason logged) otherwise."""
        conn = await self.connect()
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                key = await _key_on(conn, index)
                origin = await conn.fetchval(_ORIGIN)
                horizon = await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
                head = await conn.fetchrow(
                    "SELECT id, fresh_xmin AS xmin, workers, size, chunks, checksum, origin, meta FROM index_checkpoint "
                    "WHERE schema_key = $1 AND complete ORDER BY id DESC LIMIT 1",
                    key,
                )
                if head is None:
                    log.info("candidate index: no checkpoint of this schema, loading in bulk")
                    return None
                if head["origin"] != origin or head["xmin"] > horizon:
                    log.warning(
                        "candidate index: checkpoint %d was made from another database or worker table, loading in bulk",
                        head["id"],
                    )
                    return None
                behind = await conn.fetchval(f"SELECT count(*) FROM worker WHERE change_txid >= {int(head['xmin']):d}")
                cap = max(MIN_CATCH_UP_CAP, int(head["workers"] * MAX_CATCH_UP_SHARE))
                if behind > cap:
                    log.info(
                        "candidate index: checkpoint %d is %d rows behind (more than %d), loading in bulk",
                        head["id"],
                        behind,
                        cap,
                    )
                    return None
                data = np.empty(head["size"], dtype=np.uint8)  # (a bytearray is zeroed first)
                view = data.data  # a memoryview
                offset = 0
                for seq in range(head["chunks"]):
                    chunk = await conn.fetchval(
                        "SELECT data FROM index_checkpoint_chunk WHERE checkpoint = $1 AND seq = $2", head["id"], seq
                    )
                    if chunk is None or offset + len(chunk) > len(data):
                        log.warning("candidate index: checkpoint %d lacks chunk %d, loading in bulk", head["id"], seq)
                        return None
                    view[offset : offset + len(chunk)] = chunk
                    offset += len(chunk)
                    del chunk
                del view
        finally:
            await conn.close()
        checksum = await asyncio.get_running_loop().run_in_executor(None, zlib.crc32, data.data)
        if offset != len(data) or checksum != head["checksum"]:
            log.warning(
                "candidate index: checkpoint %d does not add up (size or checksum), loading in bulk", head["id"]
            )
            return None
        return Checkpoint(id=head["id"], xmin=head["xmin"], meta=_json(head["meta"]), data=data)

    # Writing -------------------------------------------------------------------------

    async def write(self, index, *, max_age_seconds: float | None = None) -> WriteResult:
        """Save the index's columns unless a complete checkpoint of its key is younger than
        `max_age_seconds` (default: the store's), or another process is writing one. Never raises: a failure is logged and reported in the result."""
        started = time.perf_counter()
        max_age = self.max_age_seconds if max_age_seconds is None else max_age_seconds
        try:
            result = await self._write(index, max_age)
        except Exception as exc:  # noqa: BLE001 - a cache that could not be written; the index serves on
            log.exception("candidate index: writing a checkpoint failed")
            result = WriteResult(written=False, reason=f"failed: {type(exc).__name__}")
        result.seconds = time.perf_counter() - started
        if result.written:
            log.info(
                "candidate index: checkpoint %d written, %d workers, %.0f MB in %.1f s",
                result.checkpoint_id,
                index.n,
                result.size / 2**20,
                result.seconds,
            )
        return result

    async def _write(self, index, max_age: float) -> WriteResult:
        if not index.loaded:
            return WriteResult(written=False, reason="not loaded")
        conn = await self.connect()
        try:
            key = await _key_on(conn, index)
            # One transaction from the lock to the last chunk: the lock is a transaction lock,
            # so a connection pooler in transaction mode cannot leave it held on a server
            # connection that goes back to its pool (an erasure would then wait on it for ever).
            async with conn.transaction():
                if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", ADVISORY_LOCK_KEY):
                    return WriteResult(written=False, reason="another process is writing")
                # Every change committed before the lock was taken goes in: an erasure waits for
                # the lock and then deletes every checkpoint, so none written from columns that
                # predate it survives it (`forget_checkpoints`). An index read from a replica
                # (DATABASE_READ_URL) first waits until the replica holds all the primary had
                # committed when the lock was taken, or writes nothing.
                if index.may_lag and not await _replica_caught_up(index, conn):
                    return WriteResult(written=False, reason="the replica is behind the primary")
                await index.ensure_fresh()
                fresh = await conn.fetchrow(
                    "SELECT id FROM index_checkpoint WHERE schema_key = $1 AND complete "
                    "AND created_at > now() - make_interval(secs => $2) ORDER BY id DESC LIMIT 1",
                    key,
                    float(max_age),
                )
                if fresh is not None:
                    return WriteResult(written=False, reason=f"checkpoint {fresh['id']} is recent")
                snapshot = await index.snapshot()
                chunks = [snapshot.data.data[i : i + CHUNK_BYTES] for i in range(0, len(snapshot.data), CHUNK_BYTES)]
                origin = await conn.fetchval(_ORIGIN)
                checkpoint_id = await conn.fetchval(
                    "INSERT INTO index_checkpoint (schema_key, fresh_xmin, workers, size, chunks, checksum, origin, meta) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) RETURNING id",
                    key,
                    snapshot.xmin,
                    snapshot.n,
                    len(snapshot.data),
                    len(chunks),
                    snapshot.checksum,
                    origin,
                    json.dumps(snapshot.meta),
                )
                for seq, chunk in enumerate(chunks):
                    await conn.execute(
                        "INSERT INTO index_checkpoint_chunk (checkpoint, seq, data) VALUES ($1, $2, $3)",
                        checkpoint_id,
                        seq,
                        chunk,
                    )
                await conn.execute("UPDATE index_checkpoint SET complete = true WHERE id = $1", checkpoint_id)
                # Older checkpoints of this key go; those of other keys once no process of a
                # rolling deploy can want them any more.
                await conn.execute(
                    "DELETE FROM index_checkpoint WHERE id <> $1 AND (schema_key = $2 "
                    "OR created_at < now() - make_interval(secs => $3))",
                    checkpoint_id,
                    key,
                    float(OTHER_KEYS_KEPT_SECONDS),
                )
                del chunks
                return WriteResult(written=True, checkpoint_id=checkpoint_id, size=len(snapshot.data))
        finally:
            await conn.close()

    async def has_one(self, index) -> bool:
        """Whether a complete checkpoint of the index's schema key exists."""
        conn = await self.connect()
        try:
            return bool(
                await conn.fetchval(
                    "SELECT EXISTS (SELECT FROM index_checkpoint WHERE schema_key = $1 AND complete)",
                    await _key_on(conn, index),
                )
            )
        finally:
            await conn.close()


async def forget_checkpoints() -> None:
    """Delete every checkpoint, inside the transaction that erases workers' personal fields
    (`privacy.services.erase_due`): a checkpoint holds their surnames and coordinates. The
    advisory lock, held to the end of that transaction, first waits for a write under way
    (which is then deleted too) and keeps others from starting before the erasure commits;
    the next write refreshes its index first, so it holds the erased rows as erased."""
    from service.registry.tables import Worker

    db = Worker._meta.db
    await db.run_ddl(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY:d})")
    await db.run_ddl("DELETE FROM index_checkpoint")


def _json(value) -> dict:
    return value if isinstance(value, dict) else json.loads(value)


# How often a process looks whether a checkpoint of its schema exists at all (none after
# an erasure, say), to write one then rather than at the end of its period.
MISSING_CHECK_SECONDS = 60.0


async def keep_checkpoints(
    current_index: Callable[[], object],
    every_seconds: float,
    poll_seconds: float = 5.0,
    missing_check_seconds: float = MISSING_CHECK_SECONDS,
) -> None:
    """The writer, as a background task of each process: once the index (as `current_index`
    gives it) has been loaded in bulk, a checkpoint at once; then one every `every_seconds`
    (each write skipped when another process wrote one as recently), and one as soon as
    none of its schema is found (looked for every `missing_check_seconds`)."""
    handled = None
    due = checked = float("inf")
    while True:
        index = current_index()
        store = getattr(index, "checkpoints", None)
        if store is not None and index.loaded:  # type: ignore[attr-defined]
            now = time.monotonic()
            if index is not handled:
                handled = index
                due = now if index.restored_from is None else now + every_seconds  # type: ignore[attr-defined]
                checked = now
            look = now - checked >= missing_check_seconds
            if look:
                checked = now
            if now >= due or (look and not await _has_one(store, index)):
                await store.write(index, max_age_seconds=every_seconds)
                due = time.monotonic() + every_seconds
        await asyncio.sleep(min(poll_seconds, every_seconds))


async def _has_one(store: CheckpointStore, index) -> bool:
    try:
        return await store.has_one(index)
    except Exception:  # noqa: BLE001 - looked for again at the next round
        log.warning("candidate index: could not look for a checkpoint", exc_info=True)
        return True
