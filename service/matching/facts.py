"""Reads workers' matching facts from the registry tables for the candidate index.

Plain SQL over asyncpg: at a province's scale this is millions of rows, read once per
process and then only what changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from service.matching.index import FactsSource, WorkerFacts
from service.privacy import surname
from service.registry.domain import HEALTH_TIER_BY_CODE

_WORKERS = """
    WITH snapshot AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin)
    SELECT snapshot.xmin, w.id, w.change_txid, w.status = 'active' AS active,
           w.consented_at IS NOT NULL AS consented, w.blacklisted_until, w.categories, w.skills,
           w.district_codes, w.languages, w.live_in, w.experience_years, w.wage_min, w.wage_max,
           w.wage_unit, w.available_from, w.lat, w.lon, w.real_name, w.gender, w.integrity_score
    FROM snapshot LEFT JOIN worker w ON w.change_txid >= $1
    ORDER BY w.id
"""
_CERTIFICATES = """
    SELECT worker, occupation_code, min(level) AS level FROM certificate
    WHERE status = 'verified' {only} GROUP BY worker, occupation_code
"""
_HEALTH = """
    SELECT worker, tier, max(valid_until) AS valid_until FROM worker_check
    WHERE kind = 'health' AND result = 'passed' AND status = 'verified' {only} GROUP BY worker, tier
"""
_BACKGROUND = """
    SELECT worker, bool_or(valid_until IS NULL) AS forever, max(valid_until) AS valid_until FROM worker_check
    WHERE kind = 'background' AND result = 'passed' AND status = 'verified' {only} GROUP BY worker
"""
_TRAINING = """
    SELECT worker, max(finished_on) AS finished_on FROM training
    WHERE result = 'passed' AND status = 'verified' {only} GROUP BY worker
"""


class DatabaseFacts(FactsSource):
    def __init__(self, engine: PostgresEngine) -> None:
        self.engine = engine

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

    async def changed_workers(self, since_xmin: int) -> tuple[list[WorkerFacts], int]:
        async with self._connection() as conn:
            rows = await conn.fetch(_WORKERS, since_xmin)
            xmin = rows[0]["xmin"]
            facts = [_facts(r) for r in rows if r["id"] is not None]
            if facts:
                await _add_credentials(conn, facts, every=since_xmin == 0)
        return facts, xmin


def _facts(r: asyncpg.Record) -> WorkerFacts:
    return WorkerFacts(
        id=r["id"], txid=r["change_txid"], active=r["active"], consented=r["consented"],
        blacklisted_until=r["blacklisted_until"], categories=r["categories"], skills=r["skills"],
        district_codes=r["district_codes"], languages=r["languages"], live_in=r["live_in"],
        experience_years=r["experience_years"], wage_min=r["wage_min"], wage_max=r["wage_max"],
        wage_unit=r["wage_unit"], available_from=r["available_from"], lat=r["lat"], lon=r["lon"],
        surname=surname(r["real_name"]), female=r["gender"] == "female",
        integrity=None if r["integrity_score"] is None else r["integrity_score"] / 100,
    )


async def _add_credentials(conn: asyncpg.Connection, facts: list[WorkerFacts], *, every: bool) -> None:
    by_id = {f.id: f for f in facts}
    only, args = ("", ()) if every else ("AND worker = ANY($1::int[])", (list(by_id),))

    for r in await conn.fetch(_CERTIFICATES.format(only=only), *args):
        if (f := by_id.get(r["worker"])) is not None:
            f.certificates[r["occupation_code"]] = r["level"]
    health: dict[int, dict[int, date]] = defaultdict(dict)
    for r in await conn.fetch(_HEALTH.format(only=only), *args):
        if r["worker"] in by_id and r["tier"] in HEALTH_TIER_BY_CODE:
            health[r["worker"]][int(HEALTH_TIER_BY_CODE[r["tier"]])] = r["valid_until"]
    for worker_id, tiers in health.items():
        by_id[worker_id].health_until = tiers
    for r in await conn.fetch(_BACKGROUND.format(only=only), *args):
        if (f := by_id.get(r["worker"])) is not None:
            f.background_forever, f.background_until = r["forever"], r["valid_until"]
    for r in await conn.fetch(_TRAINING.format(only=only), *args):
        if (f := by_id.get(r["worker"])) is not None:
            f.last_trained = r["finished_on"]
