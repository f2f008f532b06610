"""Reads workers' matching facts from the registry tables for the candidate index.

Plain SQL over asyncpg: at a province's scale this is millions of rows, read once per
process and then only what changed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date

import asyncpg
import numpy as np
from piccolo.engine.postgres import PostgresEngine

from service.matching.index import (
    CATEGORIES,
    FOREVER,
    READABLE_DATES,
    READABLE_LAT,
    READABLE_LON,
    UNREADABLE_CHECKS,
    FactsSource,
    WorkerFacts,
)
from service.privacy import surname
from service.taxonomy.rules import HEALTH_TIER_CODES, split_key, work_type_max_level

log = logging.getLogger(__name__)

# The full load reads the registry in this many id ranges at once, each in a connection of
# its own sharing one snapshot (INDEX_LOAD_CONNECTIONS). More ranges than cores still help:
# while the client takes one stream in, the other servers keep computing theirs (2.3 M
# workers on 2 cores: 1 range 37-38 s, 2: 30-32 s, 4: 25-27 s, 8: 22 s).
LOAD_CHUNKS = 8

_WORKERS = """
    WITH snapshot AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin)
    SELECT snapshot.xmin, w.id, w.change_txid, w.status = 'active' AS active,
           w.consented_at IS NOT NULL AS consented, w.blacklisted_until, w.categories, w.skills,
           w.district_codes, w.languages, w.live_in, w.experience_years, w.wage_min, w.wage_max,
           w.wage_unit, w.available_from, w.lat, w.lon, w.real_name, w.gender, w.integrity_score
    FROM snapshot LEFT JOIN worker w ON w.change_txid >= {since:d}
    ORDER BY w.id
"""
# `since` is written into the text as a number, not passed as a parameter: PostgreSQL
# plans a prepared `change_txid >= $1` generically after a few runs, as a scan of every
# worker row (a second per refresh at a million workers) instead of the index range.
_CERTIFICATES = """
    SELECT worker, occupation_code, work_type, min(level) AS level FROM certificate
    WHERE credential_counts(status) AND level IS NOT NULL {only} GROUP BY worker, occupation_code, work_type
"""
_HEALTH = """
    SELECT worker, tier, max(valid_until) AS valid_until FROM worker_check
    WHERE kind = 'health' AND credential_counts(status, result) {only} GROUP BY worker, tier
"""
_BACKGROUND = """
    SELECT worker, bool_or(valid_until IS NULL) AS forever, max(valid_until) AS valid_until FROM worker_check
    WHERE kind = 'background' AND credential_counts(status, result) {only} GROUP BY worker
"""
_TRAINING = """
    SELECT worker, max(finished_on) AS finished_on FROM training
    WHERE credential_counts(status, result) {only} GROUP BY worker
"""


class DatabaseFacts(FactsSource):
    def __init__(self, engine: PostgresEngine, *, load_chunks: int = LOAD_CHUNKS) -> None:
        self.engine = engine
        self.load_chunks = load_chunks

    async def replayed(self, lsn: str) -> bool:
        """Whether what this source reads holds the primary's WAL up to `lsn` (a replica
        that replayed it; a primary always does)."""
        async with self._connection() as conn:
            return bool(
                await conn.fetchval(
                    "SELECT CASE WHEN pg_is_in_recovery() THEN coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false) "
                    "ELSE true END",
                    lsn,
                )
            )

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        if self.engine.pool is not None:
            async with self.engine.pool.acquire() as conn:
                yield conn
        else:
            conn = await self.engine.get_new_connection()
            try:
                yield conn
            finally:
                await conn.close()

    async def all_workers(self) -> tuple[list[WorkerFacts], int]:
        return await self.changed_workers(0)

    async def all_columns(self, index) -> tuple[dict[str, np.ndarray], int]:
        async with self._connection() as conn:
            return await load_bulk(conn, index, connect=self.engine.get_new_connection, chunks=self.load_chunks)

    async def changed_workers(self, since_xmin: int) -> tuple[list[WorkerFacts], int]:
        # The rows and their credentials in one snapshot: a credential committed between the
        # two reads would otherwise sit beside the row's older change_txid.
        async with self._connection() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            rows = await conn.fetch(_WORKERS.format(since=int(since_xmin)))
            xmin = rows[0]["xmin"]
            facts = [_facts_or_unreadable(r) for r in rows if r["id"] is not None]
            if facts:
                await _add_credentials(conn, facts, every=since_xmin == 0)
        return facts, xmin


def _facts_or_unreadable(r: asyncpg.Record) -> WorkerFacts:
    try:
        return _facts(r)
    except Exception as exc:  # noqa: BLE001 - one row must not stop the index from loading
        return WorkerFacts.unreadable_row(r["id"], r["change_txid"] or 0, f"{type(exc).__name__}")


def _facts(r: asyncpg.Record) -> WorkerFacts:
    return WorkerFacts(
        id=r["id"],
        txid=r["change_txid"],
        active=r["active"],
        consented=r["consented"],
        blacklisted_until=r["blacklisted_until"],
        categories=r["categories"],
        skills=r["skills"],
        district_codes=r["district_codes"],
        languages=r["languages"],
        live_in=r["live_in"],
        experience_years=r["experience_years"],
        wage_min=r["wage_min"],
        wage_max=r["wage_max"],
        wage_unit=r["wage_unit"],
        available_from=r["available_from"],
        lat=r["lat"],
        lon=r["lon"],
        surname=surname(r["real_name"]),
        female=r["gender"] == "female",
        integrity=None if r["integrity_score"] is None else r["integrity_score"] / 100,
    )


async def _add_credentials(conn: asyncpg.Connection, facts: list[WorkerFacts], *, every: bool) -> None:
    by_id = {f.id: f for f in facts}
    only, args = ("", ()) if every else ("AND worker = ANY($1::int[])", (list(by_id),))

    for r in await conn.fetch(_CERTIFICATES.format(only=only), *args):
        if (f := by_id.get(r["worker"])) is not None and f.unreadable is None:
            f.certificates[(r["occupation_code"], r["work_type"])] = r["level"]
    health: dict[int, dict[str, date]] = defaultdict(dict)
    for r in await conn.fetch(_HEALTH.format(only=only), *args):
        if r["worker"] in by_id and r["tier"] in HEALTH_TIER_CODES:
            health[r["worker"]][r["tier"]] = r["valid_until"]
    for worker_id, tiers in health.items():
        by_id[worker_id].health_until = tiers
    for r in await conn.fetch(_BACKGROUND.format(only=only), *args):
        if (f := by_id.get(r["worker"])) is not None:
            f.background_forever, f.background_until = r["forever"], r["valid_until"]
    for r in await conn.fetch(_TRAINING.format(only=only), *args):
        if (f := by_id.get(r["worker"])) is not None:
            f.last_trained = r["finished_on"]


# The initial load, in bulk ------------------------------------------------------------------
#
# Millions of rows decoded into Python objects one by one take minutes; the same facts
# computed in SQL as fixed-width numbers and streamed with COPY in PostgreSQL's binary
# format become numpy columns in one step.

_EPOCH = "DATE '1970-01-01'"
_FIRST_DAY, _LAST_DAY = (f"DATE '{d.isoformat()}'" for d in READABLE_DATES)


def _readable_date(column: str) -> str:
    return f"({column} IS NULL OR {column} BETWEEN {_FIRST_DAY} AND {_LAST_DAY})"


def _day(column: str) -> str:
    """Days since 1970 of a date column, 0 for NULL and for dates the index cannot hold
    (`infinity` would make the subtraction fail and with it the whole COPY)."""
    return f"coalesce(CASE WHEN {_readable_date(column)} THEN {column} - {_EPOCH} END, 0)::int4"


def _within(column: str, bounds: tuple[float, float]) -> str:
    return f"({column} IS NULL OR {column} BETWEEN {bounds[0]} AND {bounds[1]})"


_HEALTH_TIERS = HEALTH_TIER_CODES  # the order of the index's health columns


def _credential_condition(index, key: str) -> str:
    """SQL for "this certificate counts as credential `key`" (service.taxonomy.rules.meets)."""
    occupation, work_type = split_key(key)
    condition = f"occupation_code = {_literal(occupation)}"
    if work_type is not None:
        top = work_type_max_level(index.taxonomy.occupations, key)
        above = f" OR level < {int(top)}" if top is not None else ""
        condition += f" AND (work_type = {_literal(work_type)}{above})"
    return condition


# The array columns that become bitmasks: (worker column, index vocabulary, index column).
_MASKED_ARRAYS = (
    ("skills", "skills", "skills"),
    ("district_codes", "districts", "districts"),
    ("languages", "languages", "languages"),
)


def _positions(column: str, length: int, vocabulary_param: int) -> list[str]:
    """SQL for the vocabulary position (1-based; 0: none or not in the vocabulary) of each
    of the first `length` elements of array `column`. Per-element lookups in a jsonb object
    cost a fraction of a subquery over `unnest` per row; numpy makes the masks."""
    return [
        f"coalesce((${vocabulary_param}::jsonb ->> {column}[{i}]::text)::int, 0)::int2" for i in range(1, length + 1)
    ]


def positions_to_masks(positions: np.ndarray, words: int) -> np.ndarray:
    """(rows, elements) vocabulary positions, 1-based, 0 for none → (rows, words) uint64 masks."""
    masks = np.zeros((positions.shape[0], words), dtype=np.uint64)
    for element in range(positions.shape[1]):
        bit = positions[:, element].astype(np.int64) - 1
        for word in range(words):
            hit = np.flatnonzero((bit >= 64 * word) & (bit < 64 * (word + 1)))
            masks[hit, word] |= np.left_shift(np.uint64(1), (bit[hit] - 64 * word).astype(np.uint64))
    return masks


def bulk_query(
    index, lengths: dict[str, int], ids: tuple[int, int] | None = None
) -> tuple[str, list, list[tuple[str, str, int]]]:
    """The COPY query, its arguments, and the layout of each row: (column, dtype, slot).
    `lengths`: the longest array of each of the masked columns, and of `categories`;
    `ids`: only the workers whose id lies in [first, last]."""
    from service.privacy import name_head_sql

    layout: list[tuple[str, str, int]] = []
    select: list[str] = []

    def field(sql: str, column: str, dtype: str, slot: int = 0) -> None:
        select.append(sql)
        layout.append((column, dtype, slot))

    field("w.id::int4", "id", ">i4")
    field("w.change_txid::int8", "txid", ">i8")
    field("(w.status = 'active')::int::int2", "active", ">i2")
    field("(w.consented_at IS NOT NULL)::int::int2", "consented", ">i2")
    field(_day("w.blacklisted_until"), "blacklisted", ">i4")
    category_bits = " ".join(f"WHEN {_literal(c)} THEN {1 << bit}" for bit, c in enumerate(CATEGORIES))
    field(
        "("
        + " | ".join(
            f"coalesce(CASE w.categories[{i}] {category_bits} ELSE 0 END, 0)"
            for i in range(1, lengths.get("categories", 0) + 1)
        )
        + ")::int2"
        if lengths.get("categories")
        else "0::int2",
        "categories",
        ">i2",
    )
    # One vocabulary parameter per array column with any element (a query must use every
    # parameter it is given).
    vocabularies: list[str] = []
    for column, vocabulary, name in _MASKED_ARRAYS:
        if lengths.get(column, 0) > 0:
            vocabularies.append(vocabulary)
            for slot, sql in enumerate(_positions(f"w.{column}", lengths[column], len(vocabularies))):
                field(sql, f"{name}_positions", ">i2", slot)
    field("w.live_in::int::int2", "live_in", ">i2")
    field("w.experience_years::int2", "experience", ">i2")
    field("w.wage_min::int4", "wage_min", ">i4")
    field("w.wage_max::int4", "wage_max", ">i4")
    field("(w.wage_unit = 'hour')::int::int2", "wage_hourly", ">i2")
    field("(w.wage_unit = 'term')::int::int2", "wage_term", ">i2")
    field(_day("w.available_from"), "available", ">i4")
    field(f"coalesce(CASE WHEN {_within('w.lat', READABLE_LAT)} THEN w.lat END, 'NaN')::float4", "lat", ">f4")
    field(f"coalesce(CASE WHEN {_within('w.lon', READABLE_LON)} THEN w.lon END, 'NaN')::float4", "lon", ">f4")
    field("coalesce(w.integrity_score, -1)::int2", "integrity", ">i2")
    for slot, sql in enumerate(name_head_sql("w.real_name")):
        field(sql, "surname", ">i4", slot)
    field("(w.gender = 'female')::int::int2", "female", ">i2")
    for slot, _ in enumerate(index.occupations):
        field(f"coalesce(c.level_{slot}, 0)::int2", "certificates", ">i2", slot)
    for slot in range(len(_HEALTH_TIERS)):
        field(_day(f"h.until_{slot}"), "health", ">i4", slot)
    field(f"(CASE WHEN b.forever THEN {FOREVER} ELSE {_day('b.until')} END)::int4", "background", ">i4")
    field(_day("t.finished_on"), "trained", ">i4")
    # One bit per check that fails, in the order of UNREADABLE_CHECKS: such rows are skipped.
    checks = {
        "blacklisted_until": _readable_date("w.blacklisted_until"),
        "available_from": _readable_date("w.available_from"),
        "lat": _within("w.lat", READABLE_LAT),
        "lon": _within("w.lon", READABLE_LON),
        "health_until": " AND ".join(_readable_date(f"h.until_{slot}") for slot in range(len(_HEALTH_TIERS))),
        "background_until": _readable_date("b.until"),
        "last_trained": _readable_date("t.finished_on"),
    }
    assert tuple(checks) == UNREADABLE_CHECKS
    field(
        "("
        + " + ".join(f"(CASE WHEN {ok} THEN 0 ELSE {1 << bit} END)" for bit, ok in enumerate(checks.values()))
        + ")::int4",
        "unreadable",
        ">i4",
    )

    levels = (
        ", ".join(
            f"min(level) FILTER (WHERE {_credential_condition(index, key)}) AS level_{slot}"
            for slot, key in enumerate(index.occupations)
        )
        or "NULL AS level_0"
    )
    health = ", ".join(
        f"max(valid_until) FILTER (WHERE tier = '{tier}') AS until_{slot}" for slot, tier in enumerate(_HEALTH_TIERS)
    )
    within, of_workers = "", ""
    if ids is not None:
        first, last = int(ids[0]), int(ids[1])
        within = f"WHERE w.id BETWEEN {first} AND {last}"
        of_workers = f"AND worker BETWEEN {first} AND {last}"
    query = f"""
        SELECT {", ".join(select)}
        FROM worker w
        LEFT JOIN (SELECT worker, {levels} FROM certificate
                   WHERE credential_counts(status) AND level IS NOT NULL {of_workers} GROUP BY worker) c
               ON c.worker = w.id
        LEFT JOIN (SELECT worker, {health} FROM worker_check
                   WHERE kind = 'health' AND credential_counts(status, result) {of_workers} GROUP BY worker) h
               ON h.worker = w.id
        LEFT JOIN (SELECT worker, bool_or(valid_until IS NULL) AS forever, max(valid_until) AS until FROM worker_check
                   WHERE kind = 'background' AND credential_counts(status, result) {of_workers} GROUP BY worker) b
               ON b.worker = w.id
        LEFT JOIN (SELECT worker, max(finished_on) AS finished_on FROM training
                   WHERE credential_counts(status, result) {of_workers} GROUP BY worker) t
               ON t.worker = w.id
        {within}
        ORDER BY w.id
    """
    args = [
        json.dumps({code: bit + 1 for code, bit in getattr(index, vocabulary).bits.items()})
        for vocabulary in vocabularies
    ]
    return query, args, layout


def _literal(code: str) -> str:
    if not all(ch.isalnum() or ch in "-_" for ch in code):
        raise ValueError(f"not a plain code: {code!r}")
    return f"'{code}'"


def parse_binary_copy(data: bytes, layout: list[tuple[str, str, int]]) -> np.ndarray:
    """Rows of a binary COPY whose fields are all fixed-width and never NULL."""
    signature = b"PGCOPY\n\xff\r\n\x00"
    if not data.startswith(signature):
        raise ValueError("not a binary COPY stream")
    extension = int.from_bytes(data[15:19], "big")
    offset = 19 + extension
    fields = [("count", ">i2")]
    for i, (_, dtype, _) in enumerate(layout):
        fields += [(f"len{i}", ">i4"), (f"f{i}", dtype)]
    row = np.dtype(fields)
    count = (len(data) - offset - 2) // row.itemsize
    rows = np.frombuffer(data, dtype=row, count=count, offset=offset)
    if count and (rows["count"] != len(layout)).any():
        raise ValueError("unexpected field count in COPY stream")
    return rows


async def _sharing_snapshot(
    conn: asyncpg.Connection, connect: Callable[[], Awaitable[asyncpg.Connection]] | None, count: int
) -> list[asyncpg.Connection]:
    """`count` more connections, each in a read-only transaction in `conn`'s snapshot; none
    when one cannot be opened or cannot take the snapshot (say, a pooler or several replicas
    behind one address): the load then reads in one range."""
    if connect is None:
        return []
    snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
    others: list[asyncpg.Connection] = []
    try:
        for _ in range(count):
            own = await connect()
            others.append(own)
            await own.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            await own.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
    except (OSError, asyncpg.PostgresError) as exc:
        log.warning("candidate index: loading in one range, a second connection could not share the snapshot: %s", exc)
        for own in others:
            await own.close()
        return []
    return others


def _id_ranges(first: int, last: int, chunks: int) -> list[tuple[int, int]]:
    """[first, last] in `chunks` consecutive ranges of about equal width."""
    if chunks <= 1 or last - first + 1 < 2 * chunks:
        return [(first, last)]
    width = (last - first + 1) // chunks
    bounds = [first + i * width for i in range(chunks)] + [last + 1]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(chunks)]


class _Collector:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def __call__(self, chunk: bytes) -> None:
        self.chunks.append(bytes(chunk))


# Seconds the index's full load may take (the pool's command timeout is for requests).
BULK_LOAD_TIMEOUT = 3600.0


async def load_bulk(
    conn: asyncpg.Connection,
    index,
    connect: Callable[[], Awaitable[asyncpg.Connection]] | None = None,
    chunks: int = LOAD_CHUNKS,
) -> tuple[dict[str, np.ndarray], int]:
    """Every worker's columns as the index keeps them, and the snapshot's xmin. With
    `connect`, the id ranges after the first are read at the same time over connections
    it opens, in the same snapshot (exported by `conn`'s transaction)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        languages = await conn.fetch("SELECT DISTINCT unnest(languages) AS language FROM worker ORDER BY 1")
        for r in languages:
            index.languages.bit(r["language"])
        xmin = await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        longest = await conn.fetchrow(
            "SELECT "
            + ", ".join(
                f"coalesce(max(cardinality({column})), 0) AS {column}"
                for column in ("categories", *(c for c, _, _ in _MASKED_ARRAYS))
            )
            + ", coalesce(min(id), 0) AS first_id, coalesce(max(id), 0) AS last_id FROM worker"
        )
        lengths = {k: longest[k] for k in ("categories", *(c for c, _, _ in _MASKED_ARRAYS))}
        ranges = _id_ranges(longest["first_id"], longest["last_id"], chunks if connect else 1)
        others = await _sharing_snapshot(conn, connect, len(ranges) - 1) if len(ranges) > 1 else []
        if len(others) < len(ranges) - 1:
            ranges = [(longest["first_id"], longest["last_id"])]

        async def read(ids: tuple[int, int] | None, on: asyncpg.Connection) -> tuple[bytes, list]:
            query, args, layout = bulk_query(index, lengths, ids)
            collector = _Collector()
            # Not bound by the pool's command timeout.
            await on.copy_from_query(query, *args, output=collector, format="binary", timeout=BULK_LOAD_TIMEOUT)
            return b"".join(collector.chunks), layout

        try:
            results = await asyncio.gather(
                read(ranges[0] if len(ranges) > 1 else None, conn),
                *(read(ids, own) for ids, own in zip(ranges[1:], others)),
                return_exceptions=True,  # every read ends before any connection closes
            )
        finally:
            for own in others:
                await own.close()
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        raise failed[0]
    parts = [r for r in results if not isinstance(r, BaseException)]
    layout = parts[0][1]
    parsed = [parse_binary_copy(data, layout) for data, _ in parts]
    columns: dict[str, list] = {}
    for i, (name, _, _slot) in enumerate(layout):
        field = f"f{i}"
        native = parsed[0][field].dtype.newbyteorder("=")
        columns.setdefault(name, []).append(np.concatenate([rows[field].astype(native) for rows in parsed]))
    out = {name: (slots[0] if len(slots) == 1 else np.stack(slots, axis=1)) for name, slots in columns.items()}
    for _column, vocabulary, name in _MASKED_ARRAYS:
        positions = out.pop(f"{name}_positions", None)
        if positions is None:
            positions = np.zeros((len(out["id"]), 0), dtype=np.int16)
        elif positions.ndim == 1:
            positions = positions[:, None]
        out[name] = positions_to_masks(positions, getattr(index, vocabulary).words)
    out["languages"] = out["languages"][:, 0]
    out["integrity"] = np.where(out["integrity"] < 0, np.nan, out["integrity"] / 100).astype(np.float32)
    return out, xmin
