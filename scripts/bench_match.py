"""Matching speed at Guangdong scale: the service's matcher against three other ways.

    .venv/bin/python scripts/bench_match.py --sizes 10000,100000,1000000,2300000

For each size it builds the synthetic data once (database `nanyue_bench_<size>_s<seed>`,
reused by later runs), loads the candidate index, and times, on the same requests:

  (a) service   the service's matcher in-process: freshness check, filters, score, top k with explanations
  (b) sql       one SQL query that filters, scores and orders in PostgreSQL
  (c) orm       candidates and credentials loaded through the Piccolo ORM, scored in a Python loop
  (d) floor     numpy filters and scoring over the index's columns, no freshness check, no explanations

District-scoped requests are the generated ones; province-wide are the same with
`search_scope = province`. It prints p50/p95/p99, queries per second and ratios against (a),
and writes the table to bench-results/bench_match.md. Set DATABASE_URL to use a server
(recommended for the large sizes); otherwise the embedded PostgreSQL (var/bench-pg).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import math
import os
import resource
import sys
import threading
import time
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import asyncpg
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_data import fill, fresh_database  # noqa: E402

from service.database import (  # noqa: E402
    bind_tables,
    exit_on_sigterm,
    make_engine,
    run_migrations,
    start_embedded_server,
    with_database,
)
from service.matching.checkpoint import CheckpointStore  # noqa: E402
from service.matching.facts import DatabaseFacts  # noqa: E402
from service.matching.index import CandidateIndex  # noqa: E402
from service.matching.ranking import (  # noqa: E402
    DEFAULT_RADIUS_KM,
    EXPERIENCE_FULL_YEARS,
    NEUTRAL_INTEGRITY,
    RECENT_TRAINING_BONUS,
    RECENT_TRAINING_DAYS,
    WEIGHTS,
    MatchQuery,
    counted_credentials,
    filter_candidates,
    rank,
    score_candidates,
    top_positions,
)
from service.matching.services import query_for  # noqa: E402
from service.registry.domain import units_per_month  # noqa: E402
from service.registry.tables import Certificate, Check, Training, Worker  # noqa: E402
from service.settings import PROJECT_ROOT, load_settings  # noqa: E402
from service.taxonomy.rules import best_levels, relative_level, split_key, tiers_covering, work_type_max_level  # noqa: E402
from service.taxonomy.services import load_taxonomy  # noqa: E402

LIMIT = 20
ORM_CHUNK = 30_000
TIME_BUDGET_SECONDS = {"service": 60, "floor": 60, "sql": 90, "orm": 120}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def tiers_at_least(category: str) -> list[str]:
    """The health-check tiers whose report covers the category (health_checks.json)."""
    return list(tiers_covering(category))


def credential_args(index: CandidateIndex, q: MatchQuery) -> list:
    """The counted credentials as parallel arrays: occupation, 工种, the 工种's top level, and
    the occupation's lowest and highest levels."""
    keys = counted_credentials(q)
    occupations = index.taxonomy.occupations
    levels = [occupations.get(split_key(k)[0], {}).get("levels") or [5, 4, 3, 2, 1] for k in keys]
    return [
        [split_key(k)[0] for k in keys],
        [split_key(k)[1] for k in keys],
        [work_type_max_level(occupations, k) for k in keys],
        [max(v) for v in levels],
        [min(v) for v in levels],
    ]


# (b) One SQL query ---------------------------------------------------------------------------

SQL_RANK = """
WITH candidates AS (
    SELECT w.id, w.skills, w.languages, w.experience_years, w.wage_min, w.wage_unit, w.lat, w.lon,
           w.district_codes && $2::varchar[] AS serves
    FROM worker w
    WHERE w.status = 'active' AND w.consented_at IS NOT NULL
      AND (w.blacklisted_until IS NULL OR w.blacklisted_until <= $3)
      AND w.categories @> ARRAY[$1]::varchar[]
      {area}
      AND (NOT $8 OR w.live_in)
      AND (w.available_from IS NULL OR w.available_from <= $9)
      AND EXISTS (SELECT 1 FROM worker_check h WHERE h.worker = w.id AND h.kind = 'health' AND h.result = 'passed'
                  AND h.status = 'verified' AND h.tier = ANY($10::varchar[]) AND h.valid_until >= $9)
      AND (NOT $11 OR EXISTS (SELECT 1 FROM worker_check b WHERE b.worker = w.id AND b.kind = 'background'
                  AND b.result = 'passed' AND b.status = 'verified' AND coalesce(b.valid_until, 'infinity') >= $9))
      AND ($12::varchar IS NULL OR EXISTS (SELECT 1 FROM certificate c WHERE c.worker = w.id AND c.status = 'verified'
                  AND c.occupation_code = $12 AND c.level <= $13
                  AND ($32::varchar IS NULL OR c.work_type = $32 OR c.level < $33::int)))
)
SELECT c.id,
    $14::float8 * CASE WHEN cardinality($15::varchar[]) = 0 THEN 1.0 ELSE
        (SELECT count(*) FROM unnest(c.skills) s WHERE s = ANY($15::varchar[]))::float8 / cardinality($15::varchar[]) END
  + $16::float8 * coalesce((SELECT max(least(1.0, (k.lowest - ce.level + 1)::float8 / (k.lowest - k.highest + 1)))
        FROM certificate ce JOIN unnest($17::varchar[], $34::varchar[], $35::int[], $36::int[], $37::int[])
             AS k(occupation, work_type, top, lowest, highest)
          ON ce.occupation_code = k.occupation AND (k.work_type IS NULL OR ce.work_type = k.work_type OR ce.level < k.top)
        WHERE ce.worker = c.id AND ce.status = 'verified' AND ce.level IS NOT NULL), 0)
  + $18::float8 * $19::float8
  + $20::float8 * greatest(0.0, 1.0 - greatest(0.0, (CASE WHEN c.wage_unit = 'hour' THEN c.wage_min * $21::float8
        WHEN c.wage_unit = 'term' THEN c.wage_min * $38::float8 ELSE c.wage_min END / $39::float8
        - $22::float8) / greatest($22::float8 * 0.5, 1.0)))
  + $23::float8 * least(c.experience_years / $24::float8, 1.0)
  + $25::float8 * CASE WHEN $5::float8 IS NULL OR c.lat IS NULL THEN (CASE WHEN c.serves THEN 1.0 ELSE 0.5 END)
        ELSE greatest(0.0, 1.0 - round(earth_distance(ll_to_earth(c.lat, c.lon), ll_to_earth($5, $6)) / 1000) / $26::float8) END
  + $27::float8 * CASE WHEN cardinality($28::varchar[]) = 0 THEN 1.0 ELSE
        (SELECT count(*) FROM unnest(c.languages) l WHERE l = ANY($28::varchar[]))::float8 / cardinality($28::varchar[]) END
  + CASE WHEN EXISTS (SELECT 1 FROM training t WHERE t.worker = c.id AND t.result = 'passed' AND t.status = 'verified'
        AND t.finished_on >= $3 - $29::int) THEN $30::float8 ELSE 0.0 END AS score
FROM candidates c
ORDER BY score DESC, c.id
LIMIT $31
"""


# The area predicate, written for each shape of request so that the planner sees plain
# conditions it can answer from an index: the GIN index on district_codes, and a GiST index
# on ll_to_earth(lat, lon) (made by this script, see SQL_INDEXES) for the radius.
AREA_SQL = {
    "province": "AND $4::varchar[] IS NULL AND $7::float8 IS NULL",
    "district": "AND w.district_codes && $4::varchar[] AND $7::float8 IS NULL",
    "radius": """AND (w.district_codes && $4::varchar[]
           OR (earth_box(ll_to_earth($5::float8, $6::float8), $7::float8 * 1000) @> ll_to_earth(w.lat, w.lon)
               AND earth_distance(ll_to_earth(w.lat, w.lon), ll_to_earth($5, $6)) <= $7 * 1000))""",
}
SQL_BY_AREA = {shape: SQL_RANK.replace("{area}", predicate) for shape, predicate in AREA_SQL.items()}
SQL_INDEXES = ("CREATE INDEX IF NOT EXISTS bench_worker_earth ON worker USING gist (ll_to_earth(lat, lon))",)


def sql_for(q: MatchQuery) -> str:
    if q.scope == "province":
        return SQL_BY_AREA["province"]
    return SQL_BY_AREA["radius" if (q.lat is not None and q.radius_km) else "district"]


def sql_args(index: CandidateIndex, q: MatchQuery) -> list:
    area = None
    if q.scope == "district":
        area = [q.district_code]
    elif q.scope == "city":
        city = index.taxonomy.districts[q.district_code]["city_code"]
        area = [c for c, d in index.taxonomy.districts.items() if d["city_code"] == city]
    radius = q.radius_km if (q.lat is not None and q.radius_km and q.scope != "province") else None
    hours_per_month = (q.hours_per_week or (60 if q.live_in else 40)) * 52 / 12
    return [
        q.category,
        [q.district_code],
        q.today,
        area,
        q.lat if radius else None,
        q.lon if radius else None,
        radius,
        q.live_in,
        q.start_date,
        tiers_at_least(q.category),
        q.background_required,
        q.required_occupation,
        q.required_min_level or 5,
        WEIGHTS["skills"],
        q.skills,
        WEIGHTS["certificate"],
        credential_args(index, q)[0],
        WEIGHTS["integrity"],
        NEUTRAL_INTEGRITY,
        WEIGHTS["wage"],
        hours_per_month,
        float(q.budget_max),
        WEIGHTS["experience"],
        float(EXPERIENCE_FULL_YEARS),
        WEIGHTS["distance"],
        float(q.radius_km or DEFAULT_RADIUS_KM),
        WEIGHTS["language"],
        q.languages,
        RECENT_TRAINING_DAYS,
        RECENT_TRAINING_BONUS,
        LIMIT,
        q.required_work_type,
        work_type_max_level(index.taxonomy.occupations, q.required_credential() or ""),
        *credential_args(index, q)[1:],
        units_per_month("term", hours_per_month),
        units_per_month(q.budget_unit, hours_per_month),
    ]


# (c) ORM and a Python loop ---------------------------------------------------------------------


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(a, 1.0)))


async def orm_rank(index: CandidateIndex, q: MatchQuery) -> list[int]:
    query = Worker.select(
        Worker.id,
        Worker.skills,
        Worker.languages,
        Worker.district_codes,
        Worker.experience_years,
        Worker.wage_min,
        Worker.wage_unit,
        Worker.lat,
        Worker.lon,
        Worker.live_in,
        Worker.available_from,
        Worker.blacklisted_until,
    ).where((Worker.status == "active") & Worker.consented_at.is_not_null() & Worker.categories.any(q.category))
    if q.scope != "province":
        query = query.where(Worker.district_codes.any(q.district_code))
    workers = await query
    ids = [w["id"] for w in workers]
    if not ids:
        return []
    tiers = set(tiers_at_least(q.category))
    healthy, background, certificates, trained = set(), set(), defaultdict(dict), set()
    chunks = [ids[i : i + ORM_CHUNK] for i in range(0, len(ids), ORM_CHUNK)]  # PostgreSQL takes ≤ 32767 parameters
    checks = [
        h
        for chunk in chunks
        for h in await Check.select(Check.worker, Check.kind, Check.tier, Check.valid_until).where(
            Check.worker.is_in(chunk) & (Check.result == "passed") & (Check.status == "verified")
        )
    ]
    for h in checks:
        if h["kind"] == "health" and h["tier"] in tiers and h["valid_until"] >= q.start_date:
            healthy.add(h["worker"])
        if h["kind"] == "background" and (h["valid_until"] is None or h["valid_until"] >= q.start_date):
            background.add(h["worker"])
    for c in [
        c
        for chunk in chunks
        for c in await Certificate.select(
            Certificate.worker, Certificate.occupation_code, Certificate.work_type, Certificate.level
        ).where(Certificate.worker.is_in(chunk) & (Certificate.status == "verified") & Certificate.level.is_not_null())
    ]:
        certificates[c["worker"]][(c["occupation_code"], c["work_type"], c["level"])] = c["level"]
    recent = q.today - timedelta(days=RECENT_TRAINING_DAYS)
    for t in [
        t
        for chunk in chunks
        for t in await Training.select(Training.worker).where(
            Training.worker.is_in(chunk)
            & (Training.result == "passed")
            & (Training.status == "verified")
            & (Training.finished_on >= recent)
        )
    ]:
        trained.add(t["worker"])
    hours_per_month = (q.hours_per_week or (60 if q.live_in else 40)) * 52 / 12
    scored = []
    for w in workers:
        if w["blacklisted_until"] and w["blacklisted_until"] > q.today:
            continue
        if q.live_in and not w["live_in"]:
            continue
        if w["available_from"] and w["available_from"] > q.start_date:
            continue
        if w["id"] not in healthy or (q.background_required and w["id"] not in background):
            continue
        levels = best_levels(index.taxonomy.occupations, certificates.get(w["id"], {}))
        required = q.required_credential()
        if required and levels.get(required, 99) > (q.required_min_level or 5):
            continue
        skills = len(set(w["skills"]) & set(q.skills)) / len(q.skills) if q.skills else 1.0
        certificate = max(
            (
                min(1.0, relative_level(levels[key], index.taxonomy.occupations[split_key(key)[0]]["levels"]))
                for key in counted_credentials(q)
                if key in levels
            ),
            default=0.0,
        )
        expected = (
            w["wage_min"]
            * units_per_month(w["wage_unit"], hours_per_month)
            / units_per_month(q.budget_unit, hours_per_month)
        )
        wage = max(0.0, 1.0 - max(0.0, (expected - q.budget_max) / max(q.budget_max * 0.5, 1.0)))
        experience = min(w["experience_years"] / EXPERIENCE_FULL_YEARS, 1.0)
        serves = q.district_code in w["district_codes"]
        if q.lat is not None and w["lat"] is not None:
            distance = max(
                0.0, 1 - round(_haversine(q.lat, q.lon, w["lat"], w["lon"])) / (q.radius_km or DEFAULT_RADIUS_KM)
            )
        else:
            distance = 1.0 if serves else 0.5
        language = len(set(w["languages"]) & set(q.languages)) / len(q.languages) if q.languages else 1.0
        score = (
            WEIGHTS["skills"] * skills
            + WEIGHTS["certificate"] * certificate
            + WEIGHTS["integrity"] * NEUTRAL_INTEGRITY
            + WEIGHTS["wage"] * wage
            + WEIGHTS["experience"] * experience
            + WEIGHTS["distance"] * distance
            + WEIGHTS["language"] * language
            + (RECENT_TRAINING_BONUS if w["id"] in trained else 0.0)
        )
        scored.append((-score, w["id"]))
    scored.sort()
    return [worker_id for _, worker_id in scored[:LIMIT]]


# Timing ------------------------------------------------------------------------------------


LAGS: list[float] = []


async def loop_lag() -> None:
    """How late the event loop wakes a 1 ms sleeper while (a) ranks: the time it was blocked."""
    while True:
        started = time.perf_counter()
        await asyncio.sleep(0.001)
        LAGS.append(max(0.0, (time.perf_counter() - started) * 1000 - 1.0))


async def timed(label: str, queries: list[MatchQuery], run, budget: float) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + budget
    for q in queries:
        started = time.perf_counter()
        await run(q)
        latencies.append((time.perf_counter() - started) * 1000)
        if time.perf_counter() > deadline and len(latencies) >= 3:
            break
    return latencies


class PeakRss:
    """The largest resident size seen, sampled every 20 ms in a thread, while in the block."""

    def __enter__(self) -> PeakRss:
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def column_digests(index: CandidateIndex) -> dict[str, str]:
    """A digest of each column over the rows in use, and of what the columns depend on."""
    digests = {
        name: hashlib.sha256(np.ascontiguousarray(index.col(name)).tobytes()).hexdigest() for name in index._columns
    }
    digests["_surnames"] = hashlib.sha256("\n".join(index.surnames).encode()).hexdigest()
    digests["_skipped"] = hashlib.sha256(repr(sorted(index.skipped.items())).encode()).hexdigest()
    for name in ("skills", "districts", "languages"):
        digests[f"_{name}"] = repr(sorted(getattr(index, name).bits.items()))
    return digests


def rankings_of(index: CandidateIndex, queries: list[MatchQuery]) -> list:
    return [rank(index, q, limit=LIMIT, offset=0) for q in queries]


async def checkpoint_round(
    engine, url: str, taxonomy, index: CandidateIndex, queries: list[MatchQuery], catch_up: int
) -> tuple[CandidateIndex, dict]:
    """Write a checkpoint of the freshly loaded `index` (timed, with the event loop's
    lateness meanwhile), drop the index, then start a new one from the checkpoint (timed
    until it can rank: reading, catching up, rebuilding the lists, reading the placements)
    and check that it holds the same columns and ranks the same. With `catch_up`, that
    many workers are touched (a write that changes nothing but their change_txid) between
    the checkpoint and the restore."""
    store = CheckpointStore.of(engine, max_age_seconds=0)
    ticker = asyncio.create_task(loop_lag())
    written = await store.write(index, max_age_seconds=0)
    ticker.cancel()
    await asyncio.gather(ticker, return_exceptions=True)
    write_lag = max(LAGS) if LAGS else 0.0
    LAGS.clear()
    if not written.written:
        raise SystemExit(f"the checkpoint was not written: {written.reason}")
    # What this checkpoint's chunks take in the table (the relation's size also counts the
    # older checkpoints deleted and not yet vacuumed).
    stored = await engine.pool.fetchval(
        "SELECT sum(pg_column_size(data)) FROM index_checkpoint_chunk WHERE checkpoint = $1", written.checkpoint_id
    )
    digests, rankings = column_digests(index), rankings_of(index, queries)
    del index
    gc.collect()
    rss_dropped = rss_mb()
    if catch_up:
        await engine.pool.execute(
            f"UPDATE worker SET change_txid = 0 WHERE id IN (SELECT id FROM worker ORDER BY random() LIMIT {catch_up:d})"
        )
    restored = CandidateIndex(taxonomy, DatabaseFacts(engine), checkpoints=store)
    with PeakRss() as peak:
        started = time.perf_counter()
        await restored.ensure_fresh()
        restore_seconds = time.perf_counter() - started
    if restored.restored_from != written.checkpoint_id:
        raise SystemExit("the index did not start from the checkpoint just written")
    differing = [
        name
        for name, digest in column_digests(restored).items()
        if digest != digests[name] and not (catch_up and name == "txid")
    ]
    same_rankings = rankings_of(restored, queries) == rankings
    print(
        f"checkpoint: written in {written.seconds:.1f} s ({written.size / 2**20:.0f} MB of columns, "
        f"{stored / 2**20:.0f} MB stored; event loop late by at most {write_lag:.1f} ms meanwhile); "
        f"restored in {restore_seconds:.1f} s with {restored.caught_up_rows} rows caught up; "
        f"columns {'equal' if not differing else 'DIFFER: ' + ', '.join(differing)}, "
        f"rankings of {len(queries)} requests {'equal' if same_rankings else 'DIFFER'}",
        file=sys.stderr,
    )
    return restored, {
        "write_seconds": written.seconds,
        "checkpoint_mb": written.size / 2**20,
        "stored_mb": stored / 2**20,
        "write_lag_ms": write_lag,
        "restore_seconds": restore_seconds,
        "caught_up": restored.caught_up_rows,
        "rss_dropped_mb": rss_dropped,
        "rss_restore_peak_mb": peak.peak,
        "rss_restored_mb": rss_mb(),
        "same": not differing and same_rankings,
    }


def summary(latencies: list[float]) -> dict:
    values = np.array(latencies)
    return {
        "n": len(values),
        "p50": float(np.percentile(values, 50)),
        "p95": float(np.percentile(values, 95)),
        "p99": float(np.percentile(values, 99)),
        "qps": 1000.0 / float(values.mean()),
    }


async def prepare(size: int, seed: int, server_url: str, data_key: bytes, requests: int, name: str = "") -> str:
    name = name or f"nanyue_bench_{size}_s{seed}"
    url = with_database(server_url, name)
    try:
        conn = await asyncpg.connect(url)
        try:
            have = await conn.fetchval("SELECT count(*) FROM worker")
            have_requests = await conn.fetchval("SELECT count(*) FROM job_request")
        finally:
            await conn.close()
        if have == size and have_requests >= requests:
            print(f"reusing {name} ({size} workers)", file=sys.stderr)
            await run_migrations(make_engine(url))  # the schema may have moved on since
            return url
    except (asyncpg.InvalidCatalogNameError, asyncpg.UndefinedTableError):
        pass
    url = await fresh_database(name, server_url)
    await fill(url, workers=size, seed=seed, requests=requests, data_key=data_key)
    return url


async def bench_size(size: int, args, server_url: str, data_key: bytes) -> dict:
    url = await prepare(size, args.seed, server_url, data_key, args.requests, args.databases.get(size, ""))
    engine = make_engine(url)
    await engine.start_connection_pool(min_size=1, max_size=4)
    bind_tables(engine)
    try:
        taxonomy = await load_taxonomy()
        rows = await engine.pool.fetch("SELECT * FROM job_request ORDER BY id LIMIT $1", args.requests)
        district_queries = [query_for(dict(r)) for r in rows]
        province_queries = [replace(q, scope="province") for q in district_queries]

        rss_before = rss_mb()
        index = CandidateIndex(taxonomy, DatabaseFacts(engine))
        started = time.perf_counter()
        await index.ensure_fresh()
        load_seconds = time.perf_counter() - started
        rss_after = rss_mb()
        checkpoint = None
        if args.checkpoint:
            index, checkpoint = await checkpoint_round(
                engine, url, taxonomy, index, district_queries + province_queries, args.catch_up
            )

        async def service(q):
            await index.ensure_fresh()
            return await index.read(rank, index, q, limit=LIMIT, offset=0)

        async def floor(q):
            rows, _, serves = filter_candidates(index, q)
            values = score_candidates(index, q, rows, serves)
            return top_positions(index.col("id")[rows], values["_score"], LIMIT)

        # Plans made for each request's values (a prepared statement's generic plan cannot
        # tell a small district from the province).
        sql_conn = await asyncpg.connect(url, server_settings={"plan_cache_mode": "force_custom_plan"})
        for statement in SQL_INDEXES:
            await sql_conn.execute(statement)
        await sql_conn.execute("ANALYZE worker")

        async def sql(q):
            return await sql_conn.fetch(sql_for(q), *sql_args(index, q))

        async def orm(q):
            return await orm_rank(index, q)

        # The event loop's lateness with nothing to do: the machine's own scheduling noise.
        ticker = asyncio.create_task(loop_lag())
        await asyncio.sleep(3)
        ticker.cancel()
        await asyncio.gather(ticker, return_exceptions=True)
        idle_lag = max(LAGS) if LAGS else 0.0
        LAGS.clear()

        agreement = []
        for q in district_queries[:20]:
            ours = [m.worker_id for m in rank(index, q, limit=LIMIT, offset=0).items]
            theirs = [r["id"] for r in await sql(q)]
            if ours or theirs:
                agreement.append(len(set(ours) & set(theirs)) / max(len(ours), len(theirs)))

        results: dict = {
            "size": size,
            "load_seconds": load_seconds,
            "index_mb": index.memory_bytes() / 2**20,
            "rss_before_mb": rss_before,
            "rss_after_mb": rss_after,
            "agreement": float(np.mean(agreement)) if agreement else float("nan"),
            "idle_lag_ms": idle_lag,
            "scopes": {},
            "checkpoint": checkpoint,
        }
        for scope, queries, repeat in (
            ("district", district_queries, args.district_repeat),
            ("province", province_queries, 1),
        ):
            scope_results = {}
            for name, run in (("service", service), ("floor", floor), ("sql", sql), ("orm", orm)):
                await run(queries[0])  # warm up
                budget = TIME_BUDGET_SECONDS[name] * (0.5 if scope == "district" else 1.0)
                ticker = asyncio.create_task(loop_lag()) if name == "service" else None
                latencies = await timed(name, queries * repeat, run, budget)
                scope_results[name] = summary(latencies)
                s = scope_results[name]
                if ticker is not None:
                    ticker.cancel()
                    lags = await asyncio.gather(ticker, return_exceptions=True)
                    s["loop_lag_ms"] = max(LAGS) if LAGS else 0.0
                    s["loop_lag_p99_ms"] = float(np.percentile(LAGS, 99)) if LAGS else 0.0
                    del lags
                    LAGS.clear()
                print(
                    f"{size:>9} {scope:<8} {name:<8} n={s['n']:>4} p50={s['p50']:9.2f} ms p95={s['p95']:9.2f} ms "
                    f"p99={s['p99']:9.2f} ms qps={s['qps']:9.1f}"
                    + (
                        f" event-loop lag max={s['loop_lag_ms']:.1f} ms p99={s['loop_lag_p99_ms']:.1f} ms"
                        if "loop_lag_ms" in s
                        else ""
                    ),
                    file=sys.stderr,
                )
            candidates = [filter_candidates(index, q)[0].size for q in queries[:50]]
            scope_results["_candidates"] = float(np.mean(candidates))
            results["scopes"][scope] = scope_results
        return results
    finally:
        await engine.close_connection_pool()


LABELS = {
    "service": "(a) service matcher",
    "sql": "(b) one SQL query",
    "orm": "(c) ORM + Python loop",
    "floor": "(d) numpy floor",
}


def markdown(all_results: list[dict]) -> str:
    lines = [
        "| workers | scope | approach | n | p50 ms | p95 ms | p99 ms | qps | p95 vs (a) |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in all_results:
        for scope, scope_results in r["scopes"].items():
            a = scope_results["service"]["p95"]
            for name in ("service", "sql", "orm", "floor"):
                s = scope_results[name]
                ratio = s["p95"] / a
                lines.append(
                    f"| {r['size']:,} | {scope} | {LABELS[name]} | {s['n']} | {s['p50']:.2f} | {s['p95']:.2f} | "
                    f"{s['p99']:.2f} | {s['qps']:.1f} | {ratio:.2f}× |"
                )
    lines += [
        "",
        "| workers | index load s | index MB | process RSS before → after load MB | eligible candidates (district / province, mean) | top-20 overlap (a) vs (b) | event loop late during (a), max ms (district / province; idle) |",
        "|---:|---:|---:|---|---|---:|---|",
    ]
    for r in all_results:
        lines.append(
            f"| {r['size']:,} | {r['load_seconds']:.1f} | {r['index_mb']:.0f} | {r['rss_before_mb']:.0f} → "
            f"{r['rss_after_mb']:.0f} | {r['scopes']['district']['_candidates']:.0f} / "
            f"{r['scopes']['province']['_candidates']:.0f} | {r['agreement'] * 100:.0f}% | "
            f"{r['scopes']['district']['service']['loop_lag_ms']:.1f} / "
            f"{r['scopes']['province']['service']['loop_lag_ms']:.1f}; {r['idle_lag_ms']:.1f} |"
        )
    if any(r["checkpoint"] for r in all_results):
        lines += [
            "",
            "| workers | full load s | checkpoint write s | checkpoint MB (columns / stored) | event loop late during the write, max ms | restore s (read, catch up, rebuild, placements) | rows caught up | RSS MB: index dropped → restore peak → restored | restored = loaded (columns, rankings) |",
            "|---:|---:|---:|---|---:|---:|---:|---|---|",
        ]
        for r in all_results:
            c = r["checkpoint"]
            if c:
                lines.append(
                    f"| {r['size']:,} | {r['load_seconds']:.1f} | {c['write_seconds']:.1f} | "
                    f"{c['checkpoint_mb']:.0f} / {c['stored_mb']:.0f} | {c['write_lag_ms']:.1f} | "
                    f"{c['restore_seconds']:.1f} | {c['caught_up']} | {c['rss_dropped_mb']:.0f} → "
                    f"{c['rss_restore_peak_mb']:.0f} → {c['rss_restored_mb']:.0f} | {'yes' if c['same'] else 'NO'} |"
                )
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "\n".join(lines) + f"\n\nload average (1/5/15 min) at the end: {load}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--district-repeat", type=int, default=2, help="passes over the requests, district scope")
    parser.add_argument(
        "--databases",
        default="",
        help="reuse databases made by generate_data.py, e.g. 1000000=bench_speed,2300000=bench_speed_2m3",
    )
    parser.add_argument(
        "--checkpoint",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after the full load, write a checkpoint and start the index again from it (timed)",
    )
    parser.add_argument(
        "--catch-up",
        type=int,
        default=0,
        help="workers touched (change_txid only) between the checkpoint and the restore",
    )
    parser.add_argument("--out", default=str(PROJECT_ROOT / "bench-results" / "bench_match.md"))
    args = parser.parse_args()
    args.databases = {int(k): v for k, v in (pair.split("=") for pair in args.databases.split(",") if pair)}
    settings = load_settings()
    exit_on_sigterm()  # the embedded server, if started here, stops when this script ends
    server_url = settings.database_url or start_embedded_server(PROJECT_ROOT / "var" / "bench-pg")

    async def run() -> list[dict]:
        return [
            await bench_size(int(size), args, server_url, settings.data_key_bytes) for size in args.sizes.split(",")
        ]

    results = asyncio.run(run())
    table = markdown(results)
    print(f"\nmachine: {os.cpu_count()} cores; PostgreSQL at {server_url.split('@')[-1]}\n")
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table, encoding="utf-8")
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
