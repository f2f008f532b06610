"""How long a worker waits for the open requests she fits.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
      .venv/bin/python scripts/bench_worker_side.py --workers 100000 --requests 2000

Builds synthetic data once (database `nanyue_bench_worker_side_<workers>_<requests>_s<seed>`,
reused by later runs; the generator of scripts/bench_match.py), loads the candidate index,
and for a sample of consented, active workers times what `GET /api/v1/workers/me/open-requests`
does after finding her record: read the candidate requests (her categories and areas),
assess each against her index row (hard filters, her side's score, the household's
explanation) and sort. Prints p50/p95/max in ms, with how many requests were read and
how many she fits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

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
from service.matching.facts import DatabaseFacts  # noqa: E402
from service.matching.index import CandidateIndex  # noqa: E402
from service.matching.services import query_for  # noqa: E402
from service.matching.worker_side import _candidate_requests, rank_requests_for  # noqa: E402
from service.registry.domain import today_local  # noqa: E402
from service.settings import PROJECT_ROOT, load_settings  # noqa: E402
from service.taxonomy.services import load_taxonomy  # noqa: E402


async def prepare(args, server_url: str, data_key: bytes) -> str:
    import asyncpg

    name = f"nanyue_bench_worker_side_{args.workers}_{args.requests}_s{args.seed}"
    url = with_database(server_url, name)
    try:
        conn = await asyncpg.connect(url)
        try:
            have = await conn.fetchval("SELECT count(*) FROM worker")
        finally:
            await conn.close()
        if have == args.workers:
            print(f"reusing {name}", file=sys.stderr)
            await run_migrations(make_engine(url))
            return url
    except (asyncpg.InvalidCatalogNameError, asyncpg.UndefinedTableError):
        pass
    url = await fresh_database(name, server_url)
    await fill(url, workers=args.workers, seed=args.seed, requests=args.requests, data_key=data_key)
    return url


async def bench(args, server_url: str, data_key: bytes) -> None:
    url = await prepare(args, server_url, data_key)
    engine = make_engine(url)
    await engine.start_connection_pool(min_size=1, max_size=4)
    bind_tables(engine)
    try:
        index = CandidateIndex(await load_taxonomy(), DatabaseFacts(engine))
        await index.ensure_fresh()
        await engine.pool.execute("SELECT setseed($1)", 0.42)
        workers = [
            dict(r)
            for r in await engine.pool.fetch(
                "SELECT * FROM worker WHERE consented_at IS NOT NULL AND status = 'active' ORDER BY random() LIMIT $1",
                args.samples,
            )
        ]
        latencies, read, fitting = [], [], []
        for worker in workers:
            row = index.row_of(worker["id"])
            if row is None:
                continue
            started = time.perf_counter()
            fits = await rank_requests_for(worker, row, index=index, query_for=query_for, include_near=False)
            latencies.append((time.perf_counter() - started) * 1000)
            fitting.append(len(fits))
            read.append(len(await _candidate_requests(worker, index, today_local())))
        values = np.array(latencies)
        print(f"machine: {os.cpu_count()} cores; {args.workers} workers, {args.requests} open requests")
        print(f"workers sampled: {values.size}")
        print(f"requests read per worker (mean / max): {np.mean(read):.1f} / {max(read)}")
        print(f"requests she fits (mean / max): {np.mean(fitting):.1f} / {max(fitting)}")
        print(
            f"ms per worker: p50 {np.percentile(values, 50):.2f}, p95 {np.percentile(values, 95):.2f}, "
            f"max {values.max():.2f}"
        )
    finally:
        await engine.close_connection_pool()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    settings = load_settings()
    exit_on_sigterm()
    server_url = settings.database_url or start_embedded_server(PROJECT_ROOT / "var" / "bench-pg")
    asyncio.run(bench(args, server_url, settings.data_key_bytes))


if __name__ == "__main__":
    main()
