"""Matching over HTTP: the real service beside a bare Litestar app answering the same JSON.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/10 \\
      .venv/bin/python scripts/bench_http.py --database bench_speed --processes 1,2

The database is one made by `scripts/generate_data.py` (reused as it is; the script only
reads it). The service runs as `nanyue run` in a subprocess on 127.0.0.1
with WORKERS=1, then 2 (Redis shared, a fresh key namespace per run so no run reads
another's cache); the bare app runs in its own process with the same uvicorn options and
answers, from memory, the very JSON the service answered. `wrk` (one thread, in its own
process) drives each for a fixed time and reports requests/s and latency percentiles:

  bare match       GET a 20-item match page held in memory (Litestar encodes it)
  cached match     GET /api/v1/job-requests/{id}/matches as its employer, already ranked
  bare request     GET one job request's JSON held in memory
  bare + 1 query   the same, after reading the job request's row with one asyncpg query:
                   what any handler that reads the database on each request cannot beat
  auth read        GET /api/v1/job-requests/{id} as its employer
  fresh ranking    GET .../matches?offset=20k for every open district-scoped request and
                   k = 1..49 in turn: each is a page not ranked before, so it is ranked anew

It prints a table and writes it to bench-results/bench_http.md with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.registry.domain import today_local  # noqa: E402
from service.security import issue_token  # noqa: E402
from service.settings import load_settings  # noqa: E402

SECRET = "bench-http-secret-key-not-for-production-0123456789"
FRESH_PAGES = 50

WRK_SCRIPT = """
local entries = {ENTRIES}
local i = 0
request = function()
  i = i + 1
  local e = entries[(i - 1) % #entries + 1]
  return wrk.format("GET", e[1], {["Authorization"] = e[2]})
end
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format('RESULT {"requests": %d, "seconds": %.3f, "errors": %d, '
    .. '"p50": %.3f, "p95": %.3f, "p99": %.3f}\\n',
    summary.requests, summary.duration / 1e6, errors,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# The bare app ------------------------------------------------------------------------------


def serve_bare(port: int, bodies: Path, database_url: str) -> None:
    """A Litestar app with handlers answering fixed JSON (decoded once, encoded per
    request); `/bare/request/query/{id}` reads the job request's row first, with one
    asyncpg query, and still answers the JSON held in memory: the least a handler that
    reads the database on each request can cost."""
    import msgspec
    import uvicorn
    from litestar import Litestar, get

    data = msgspec.json.decode(bodies.read_bytes())
    pools: list[asyncpg.Pool] = []

    async def open_pool() -> None:
        pools.append(await asyncpg.create_pool(database_url, min_size=2, max_size=16))

    @get("/bare/request/query/{request_id:int}")
    async def bare_request_query(request_id: int) -> dict:
        await pools[0].fetchrow("SELECT * FROM job_request WHERE id = $1", request_id)
        return data["request"]

    @get("/bare/match")
    async def bare_match() -> dict:
        return data["match"]

    @get("/bare/request")
    async def bare_request() -> dict:
        return data["request"]

    app = Litestar(
        [bare_match, bare_request, bare_request_query], on_startup=[open_pool], logging_config=None, debug=False
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False, proxy_headers=False)


# Set-up --------------------------------------------------------------------------------------


async def callers(url: str) -> list[tuple[int, int]]:
    """(request id, employer id) of the open district-scoped requests, in id order."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT id, employer FROM job_request WHERE status = 'open' AND search_scope = 'district' "
            "AND employer IS NOT NULL AND start_date >= $1 ORDER BY id",
            today_local(),
        )
    finally:
        await conn.close()
    return [(r["id"], r["employer"]) for r in rows]


def bearer(employer: int) -> str:
    return "Bearer " + issue_token(user_id=employer, role="employer", secret=SECRET, ttl_seconds=24 * 3600)


def lua_entries(entries: list[tuple[str, str]]) -> str:
    return "{" + ",".join("{%s,%s}" % (json.dumps(path), json.dumps(auth)) for path, auth in entries) + "}"


def wrk(url: str, entries: list[tuple[str, str]], *, seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT.replace("{ENTRIES}", lua_entries(entries)))
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script.name, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / result["seconds"]
    result["load"] = load_average()
    return result


def wait_ready(base: str, processes: int, timeout: float, proc: subprocess.Popen) -> float:
    """Seconds until /ready says the matcher is loaded in every process (many answers in a row)."""
    started = time.perf_counter()
    in_a_row = 0
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"the service stopped (exit {proc.returncode}); see its log")
        try:
            body = httpx.get(f"{base}/ready", timeout=5).json()
            in_a_row = in_a_row + 1 if body["matcher"]["loaded"] else 0
        except (httpx.HTTPError, ValueError, KeyError):
            in_a_row = 0
        if in_a_row >= 10 * processes:
            return time.perf_counter() - started
        time.sleep(0.2 if in_a_row else 1.0)
    raise SystemExit(f"the service was not ready after {timeout:.0f} s")


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="bench_speed", help="a database made by generate_data.py")
    parser.add_argument("--processes", default="1,2", help="service processes (WORKERS) to run, in turn")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--db-pool", type=int, default=16, help="DB_POOL_MAX of each service process")
    parser.add_argument("--ready-timeout", type=float, default=600)
    parser.add_argument("--only", default="", help="comma-separated scenarios to run (default: all)")
    parser.add_argument("--serve-bare", nargs=3, metavar=("PORT", "FILE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(int(args.serve_bare[0]), Path(args.serve_bare[1]), args.serve_bare[2])
        return

    server = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not server or not redis_url:
        raise SystemExit("set DATABASE_URL (the server holding --database) and REDIS_URL (shared by the processes)")
    url = server.rsplit("/", 1)[0] + "/" + args.database
    found = asyncio.run(callers(url))
    if not found:
        raise SystemExit(f"no open district-scoped requests in {args.database}: run scripts/generate_data.py")
    request_id, employer = found[0]
    auth = bearer(employer)
    tokens = {e: bearer(e) for _, e in found}
    only = set(filter(None, args.only.split(",")))
    results_dir = ROOT / "bench-results"
    results_dir.mkdir(exist_ok=True)
    rows: list[tuple[int, str, dict]] = []
    data_key = load_settings().data_key

    for processes in [int(p) for p in args.processes.split(",")]:
        port, metrics_port = free_port(), free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "STORE_NAMESPACE": f"bench-http-{uuid.uuid4().hex[:8]}",
            "WORKERS": str(processes),
            "PORT": str(port),
            "METRICS_PORT": str(metrics_port),
            "SECRET_KEY": SECRET,
            "DATA_KEY": data_key,
            "RATE_LIMIT_PER_MINUTE": "100000000",
            "RUN_DISPATCHER": "false",
            "LOG_LEVEL": "WARNING",
            "DB_POOL_MAX": str(args.db_pool),
        }
        log = results_dir / f"bench_http_service_{processes}.log"
        service = start([sys.executable, "-m", "service", "run"], env, log)
        bare_port = free_port()
        bare = None
        try:
            ready_s = wait_ready(base, processes, args.ready_timeout, service)
            print(f"{processes} process(es): ready in {ready_s:.0f} s (load {load_average()})", flush=True)
            match_path = f"/api/v1/job-requests/{request_id}/matches"
            request_path = f"/api/v1/job-requests/{request_id}"
            match = httpx.get(base + match_path, headers={"Authorization": auth}, timeout=60)
            job = httpx.get(base + request_path, headers={"Authorization": auth}, timeout=60)
            match.raise_for_status()
            job.raise_for_status()
            with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as bodies:
                bodies.write(json.dumps({"match": match.json(), "request": job.json()}).encode())
            bare = start(
                [sys.executable, str(Path(__file__).resolve()), "--serve-bare", str(bare_port), bodies.name, url],
                dict(os.environ),
                results_dir / "bench_http_bare.log",
            )
            for _ in range(100):
                try:
                    httpx.get(f"http://127.0.0.1:{bare_port}/bare/request", timeout=2).raise_for_status()
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            fresh = [
                (f"/api/v1/job-requests/{rid}/matches?offset={20 * k}", tokens[e])
                for k in range(1, FRESH_PAGES)
                for rid, e in found
            ]
            scenarios = [
                ("bare match", f"http://127.0.0.1:{bare_port}", [("/bare/match", "")], len(match.content)),
                ("cached match", base, [(match_path, auth)], len(match.content)),
                ("bare request", f"http://127.0.0.1:{bare_port}", [("/bare/request", "")], len(job.content)),
                (
                    "bare + 1 query",
                    f"http://127.0.0.1:{bare_port}",
                    [(f"/bare/request/query/{request_id}", "")],
                    len(job.content),
                ),
                ("auth read", base, [(request_path, auth)], len(job.content)),
                ("fresh ranking", base, fresh, None),
            ]
            for name, target, entries, size in scenarios:
                if only and name not in only:
                    continue
                result = wrk(target, entries, seconds=args.seconds, connections=args.connections)
                result["bytes"] = size
                rows.append((processes, name, result))
                print(
                    f"  {name:14} {result['rps']:8.0f} req/s  p50 {result['p50']:6.2f}  p95 {result['p95']:6.2f}  "
                    f"p99 {result['p99']:6.2f} ms  errors {result['errors']}  (load {result['load']})",
                    flush=True,
                )
                if name == "fresh ranking" and result["requests"] > len(fresh):
                    print("  (more requests than distinct pages: some fresh-ranking answers came from the cache)")
            os.unlink(bodies.name)
        finally:
            if bare is not None:
                stop(bare)
            stop(service)

    table = render(rows, args)
    (results_dir / "bench_http.md").write_text(table)
    print()
    print(table)


def render(rows: list[tuple[int, str, dict]], args: argparse.Namespace) -> str:
    lines = [
        f"wrk -t1 -c{args.connections} -d{args.seconds}s, DB_POOL_MAX={args.db_pool}, bare app in one process; "
        f"loadavg (1/5/15 min) taken at the end of each run",
        "",
        "| service processes | scenario | JSON bytes | req/s | p50 ms | p95 ms | p99 ms | errors | vs bare | load |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    bare = {}
    for processes, name, r in rows:
        if name in ("bare match", "bare request"):
            bare[(processes, name.removeprefix("bare "))] = r["rps"]
    compare = {"cached match": "match", "auth read": "request", "bare + 1 query": "request"}
    for processes, name, r in rows:
        ratio = ""
        if name in compare and (processes, compare[name]) in bare:
            ratio = f"{100 * r['rps'] / bare[(processes, compare[name])]:.0f}%"
        lines.append(
            f"| {processes} | {name} | {r['bytes'] or ''} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p95']:.2f} | "
            f"{r['p99']:.2f} | {r['errors']} | {ratio} | {r['load']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
