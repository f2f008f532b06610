"""Load: a realistic mix of requests against the service running as real processes, with a
bare Litestar handler measured in the same run as the ceiling of this machine and client.

    .venv/bin/python scripts/loadtest.py --workers 100000 --duration 30 --concurrency 50
    .venv/bin/python scripts/loadtest.py --database bench_speed --service-workers 1,2 --redis-url redis://127.0.0.1:6379/5
    .venv/bin/python scripts/loadtest.py --database bench_speed --url http://127.0.0.1:8000
    .venv/bin/python scripts/loadtest.py --database bench_speed --service-workers 1,2 --redis-url redis://127.0.0.1:6379/5 --client wrk

What it does:

1. The data: `--database NAME`, an existing database made by `scripts/generate_data.py` on
   the server of DATABASE_URL, used as it is; or else generated data in database
   `nanyue_bench_<workers>_s<seed>`, reused by later runs (the same databases as
   `scripts/bench_match.py`). The callers are the employers who own the open job requests
   and an admin (the first active one; when there is none, one is made with the service's
   own `nanyue create-admin`). Their bearer tokens are signed with SECRET_KEY as the
   service signs them at login, so no password is set or sent: the service must run with
   the same SECRET_KEY (or the same VAR_DIR/dev-keys.json).
2. Starts a bare Litestar app (one handler answering a small JSON body) with uvicorn and
   loads it with the same client and concurrency: the ceiling.
3. The service: with `--url http://127.0.0.1:PORT` (repeatable) an already running one
   (start it with RATE_LIMIT_PER_MINUTE raised: one client address sends everything);
   otherwise, for each value of `--service-workers` (e.g. `1,2`), starts `--processes`
   services (`python -m service run` with that WORKERS, each on its own port, sharing
   `--redis-url` for the stores when there is more than one process), waits for `/ready`,
   and sends the mix for `--duration` seconds from `--concurrency` clients, spread over
   the addresses as a load balancer would:

       70 %  GET  /api/v1/job-requests/{id}/matches      an employer reads her ranking
       15 %  GET  /api/v1/workers/{id}                   a profile read (admin: the full record)
       10 %  PATCH /api/v1/workers/{id}  (If-Match)      a profile update (experience years)
        5 %  POST /api/v1/job-requests/{id}/offers       an offer to a worker from her ranking

   Every profile update changes the registry, so rankings are recomputed, not only cached.
   The updates and offers are written to the database: use a generated one. After each
   run the offers it made (and the events they raised) are deleted, so that runs compare:
   left behind, they take workers off the rankings later offers are chosen from, and each
   later run reads deeper, freshly ranked pages (`--keep-offers` keeps them).
4. Prints, for the ceiling and each service run: requests per second, p50/p95/p99 overall
   and per kind, answers by status, the load average before and after; then whether
   `--compare` requests are ranked identically on repeated reads over every address (behind
   one address with WORKERS > 1 the reads land on its processes as the kernel spreads them).

`--client wrk` drives the reads (the 70 % match reads and 15 % profile reads, in that
proportion) with wrk, a load generator written in C that leaves the cores to the service,
while this script sends the writes beside it at a steady `--write-rate` per second (two
profile updates to one offer) and times them. The Python client costs about as much CPU per
request as the service itself: with it the ceiling, not the service, is what a run measures.
wrk is Debian's package `wrk`; its reads are reported together (wrk keeps one latency
histogram), the writes by kind, then the mix's own percentiles (reads and writes together).
While wrk runs, this script's thread runs at nice -10 when it may (root): a Python client
starved of a core on a saturated machine times its own waits as the service's (see
`favoured`); wrk and the service keep the ordinary priority.

A started service runs with its rate limits raised and LOG_LEVEL=WARNING (no access log
lines); each process's log is in var/loadtest-service-<n>.log. The client shares the
machine with the server: the ceiling shows what this client and machine allow at all.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import math
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from litestar import Litestar, get  # noqa: E402

MIX = (("match", 70), ("profile_read", 15), ("profile_update", 10), ("offer", 5))
ADMIN_PHONE = "13900000099"
MAX_OFFSET = 1000  # the API's largest `offset` of a match page


@get("/bare", sync_to_thread=False)
def _bare() -> dict:
    return {"status": "ok", "items": [1, 2, 3]}


# The ceiling: one handler, no middleware, no database (`uvicorn scripts.loadtest:bare_app`).
bare_app = Litestar(route_handlers=[_bare], openapi_config=None, logging_config=None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    errors_by_kind: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    seconds: float = 0.0
    nice: int | None = None  # the writes' client's nice value while it ran beside wrk

    def add(self, kind: str, seconds: float, status: int | str) -> None:
        self.latencies[kind].append(seconds)
        self.statuses[status] += 1
        if not (isinstance(status, int) and status < 400):
            self.errors_by_kind[kind][status] += 1


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(label: str, results: Results) -> None:
    every = [v for values in results.latencies.values() for v in values]
    total = len(every)
    print(f"\n== {label}: {total} requests in {results.seconds:.1f} s = {total / results.seconds:.0f} req/s")
    print(f"   {'kind':<16}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    rows = [("all", every), *sorted(results.latencies.items())]
    for kind, values in rows:
        print(
            f"   {kind:<16}{len(values):>8}"
            + "".join(f"{percentile(values, p) * 1000:>10.1f}" for p in (50, 95, 99))
            + f"{max(values) * 1000:>10.1f}"
        )
    print("   answers by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(results.statuses.items(), key=str)))
    for kind, errors in sorted(results.errors_by_kind.items()):
        print(f"   errors in {kind}: " + ", ".join(f"{k}: {v}" for k, v in errors.items()))


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the process serving {url} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


async def prepare_data(args, settings) -> str:
    from bench_match import prepare, with_database

    from service.database import start_embedded_server

    server_url = settings.database_url or start_embedded_server(ROOT / "var" / "bench-pg")
    if args.database:
        # An existing generated database: nothing is generated (the service migrates it when it starts).
        return with_database(server_url, args.database)
    return await prepare(args.workers, args.seed, server_url, settings.data_key_bytes, args.requests)


async def prepare_people(url: str, settings) -> tuple[list[tuple[int, int, str]], list[int], set[tuple[int, int]], int]:
    """The open requests (id, employer id, employer phone), a sample of worker ids, the
    offers earlier runs made (not made again) and the id of an active admin, made with the
    service's own command (`nanyue create-admin`) when the database has none."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        admin = await conn.fetchval("SELECT id FROM app_user WHERE role = 'admin' AND is_active ORDER BY id LIMIT 1")
        if admin is None:
            env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=settings.secret_key, DATA_KEY=settings.data_key)
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "service",
                    "create-admin",
                    "--phone",
                    ADMIN_PHONE,
                    "--display-name",
                    "压测管理员",
                ],
                cwd=ROOT,
                env=env,
                input=secrets.token_urlsafe(24) + "\n",
                text=True,
                check=True,
            )
            admin = await conn.fetchval("SELECT id FROM app_user WHERE phone = $1", ADMIN_PHONE)
        requests = [
            (r["id"], r["employer"], r["phone"])
            for r in await conn.fetch(
                "SELECT j.id, j.employer, u.phone FROM job_request j JOIN app_user u ON u.id = j.employer "
                "WHERE j.status = 'open' AND u.is_active ORDER BY j.id"
            )
        ]
        workers = [r["id"] for r in await conn.fetch("SELECT id FROM worker TABLESAMPLE SYSTEM (5) LIMIT 5000")]
        if len(workers) < 200:  # a small database: the sample may miss every page
            workers = [r["id"] for r in await conn.fetch("SELECT id FROM worker ORDER BY id LIMIT 5000")]
        offered = {(r["request"], r["worker"]) for r in await conn.fetch("SELECT request, worker FROM offer")}
    finally:
        await conn.close()
    return requests, workers, offered, admin


async def newest_ids(url: str) -> tuple[int, int]:
    """The newest offer and event before a run."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        offer = await conn.fetchval("SELECT coalesce(max(id), 0) FROM offer")
        event = await conn.fetchval("SELECT coalesce(max(id), 0) FROM event")
    finally:
        await conn.close()
    return offer, event


async def forget_run(url: str, marks: tuple[int, int]) -> int:
    """Delete the offers a run made and the events they raised, so that every run starts
    from the same offers: each offer takes a worker off the rankings the next offers are
    chosen from, and runs that leave them behind read ever deeper (fresh) pages."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("DELETE FROM event WHERE id > $1", marks[1])
            return int((await conn.execute("DELETE FROM offer WHERE id > $1", marks[0])).split()[-1])
    finally:
        await conn.close()


def tokens_for(settings, requests, admin: int) -> tuple[dict[int, str], str]:
    """Bearer tokens for the employers who own the requests and for the admin, signed with
    SECRET_KEY as the service signs them at login (no password is set or sent)."""
    from service.security import issue_token

    ttl = settings.token_ttl_seconds

    def token(user: int, role: str) -> str:
        return issue_token(user_id=user, role=role, secret=settings.secret_key, ttl_seconds=ttl)

    return {employer: token(employer, "employer") for _, employer, _ in requests}, token(admin, "admin")


class Mix:
    """The operations, each choosing its target and remembering what it needs next."""

    def __init__(self, bases, requests, workers, employer_tokens, admin_token, rng) -> None:
        self.bases, self.requests, self.workers, self.rng = bases, requests, workers, rng
        self.employer_tokens, self.admin = employer_tokens, {"Authorization": f"Bearer {admin_token}"}
        self.etags: dict[int, str] = {}
        self.experience: dict[int, int] = {}
        self.ranked: dict[int, list[int]] = {}
        self.depth: dict[int, int] = {}  # the offset of the deepest page read of each ranking
        self.offered: set[tuple[int, int]] = set()
        self.updating: set[int] = set()
        self.details: dict[tuple[str, int], str] = {}
        self.turn = 0

    def base(self) -> str:
        self.turn += 1
        return self.bases[self.turn % len(self.bases)]

    def employer(self, request: tuple[int, int, str]) -> dict:
        return {"Authorization": f"Bearer {self.employer_tokens[request[1]]}"}

    async def match(self, http: httpx.AsyncClient) -> int:
        request = self.rng.choice(self.requests)
        response = await http.get(
            f"{self.base()}/api/v1/job-requests/{request[0]}/matches", headers=self.employer(request)
        )
        if response.status_code == 200:
            top = [m["worker_id"] for m in response.json()["items"]]
            self.ranked[request[0]] = top + [w for w in self.ranked.get(request[0], []) if w not in top]
        return response.status_code

    def candidates(self) -> list[tuple[tuple[int, int, str], int]]:
        return [
            (request, worker)
            for request in self.requests
            for worker in self.ranked.get(request[0], [])
            if (request[0], worker) not in self.offered
        ]

    async def deeper(self, http: httpx.AsyncClient) -> int:
        """The next page of a ranking, whose workers become candidates for offers."""
        open_ = [r for r in self.requests if self.depth.get(r[0], 0) + 20 <= MAX_OFFSET]
        if not open_:
            return await self.match(http)
        request = self.rng.choice(open_)
        offset = self.depth.get(request[0], 0) + 20
        response = await http.get(
            f"{self.base()}/api/v1/job-requests/{request[0]}/matches",
            params={"offset": offset},
            headers=self.employer(request),
        )
        if response.status_code == 200:
            items = response.json()["items"]
            # A ranking read to its end is not read further.
            self.depth[request[0]] = offset if items else MAX_OFFSET + 1
            self.ranked.setdefault(request[0], []).extend(m["worker_id"] for m in items)
        return response.status_code

    async def profile_read(self, http: httpx.AsyncClient) -> int:
        worker = self.rng.choice(self.workers)
        response = await http.get(f"{self.base()}/api/v1/workers/{worker}", headers=self.admin)
        if response.status_code == 200:
            self.etags[worker] = response.headers["etag"]
            self.experience[worker] = response.json()["experience_years"]
        return response.status_code

    async def profile_update(self, http: httpx.AsyncClient) -> int:
        known = [w for w in self.etags if w not in self.updating]
        if not known:
            return await self.profile_read(http)
        worker = self.rng.choice(known)
        self.updating.add(worker)
        try:
            for attempt in range(2):
                years = self.experience[worker]
                body = {"experience_years": years + 1 if years < 30 else years - 1}
                response = await http.patch(
                    f"{self.base()}/api/v1/workers/{worker}",
                    headers=self.admin | {"If-Match": self.etags[worker]},
                    json=body,
                )
                if response.status_code != 412 or attempt:
                    break
                # A read that raced an update left an older ETag here: as a client does,
                # read the profile again and send the change once more.
                fresh = await http.get(f"{self.base()}/api/v1/workers/{worker}", headers=self.admin)
                if fresh.status_code != 200:
                    break
                self.etags[worker] = fresh.headers["etag"]
                self.experience[worker] = fresh.json()["experience_years"]
            if response.status_code == 200:
                self.etags[worker] = response.headers["etag"]
                self.experience[worker] = body["experience_years"]
            return response.status_code
        finally:
            self.updating.discard(worker)

    async def offer(self, http: httpx.AsyncClient) -> int:
        candidates = self.candidates()
        if not candidates:
            # Every worker ranked so far has an offer (earlier runs made many): read further
            # down a ranking first (a read, timed with this offer).
            status = await self.deeper(http)
            candidates = self.candidates()
            if not candidates:
                return status
        request, worker = self.rng.choice(candidates)
        self.offered.add((request[0], worker))
        response = await http.post(
            f"{self.base()}/api/v1/job-requests/{request[0]}/offers",
            headers=self.employer(request),
            json={"worker_id": worker},
        )
        if response.status_code >= 400:
            self.details.setdefault(("offer", response.status_code), response.json().get("detail", ""))
        return response.status_code


async def drive(call, duration: float, concurrency: int, results: Results) -> None:
    """`concurrency` clients, each sending `call()` -> (kind, status) back to back."""
    deadline = time.monotonic() + duration

    async def client() -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                kind, status = await call()
            except httpx.HTTPError as exc:
                kind, status = "transport", type(exc).__name__
            results.add(kind, time.perf_counter() - started, status)

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    results.seconds = time.monotonic() - started


def http_client(concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(30.0))


async def run_ceiling(base: str, args) -> Results:
    results = Results()
    async with http_client(args.concurrency) as http:

        async def call():
            response = await http.get(f"{base}/bare")
            return "bare", response.status_code

        await drive(call, args.ceiling_duration, args.concurrency, results)
    return results


async def compare_rankings(http: httpx.AsyncClient, bases: list[str], requests, mix: Mix, compare: int) -> str:
    """Nothing changes now: every process must rank every request the same. Each ranking
    is read `rounds` times over the addresses (and, behind one address, over its workers)."""
    if not compare:
        return ""
    same = 0
    sample = requests[:compare]
    rounds = max(2, len(bases))
    for request in sample:
        pages = [
            (
                await http.get(
                    f"{bases[i % len(bases)]}/api/v1/job-requests/{request[0]}/matches",
                    headers=mix.employer(request),
                )
            ).json()
            for i in range(rounds)
        ]
        orders = [[m["worker_id"] for m in page.get("items", [])] for page in pages]
        same += all(order == orders[0] for order in orders)
    return f"identical rankings over {rounds} reads each: {same} of {len(sample)} requests"


async def run_service(bases: list[str], args, requests, workers, offered, tokens, admin_token) -> tuple[Results, str]:
    rng = random.Random(args.seed)
    results = Results()
    async with http_client(args.concurrency) as http:
        probe = await http.get(
            f"{bases[0]}/api/v1/workers/{workers[0]}", headers={"Authorization": f"Bearer {admin_token}"}
        )
        if probe.status_code == 401:
            raise SystemExit(
                f"{bases[0]} refused a token signed with this SECRET_KEY: start the service and this script "
                "with the same SECRET_KEY (or the same VAR_DIR/dev-keys.json)"
            )
        mix = Mix(bases, requests, workers, tokens, admin_token, rng)
        mix.offered |= offered
        # Warm up (not measured): every process loads its index; the profiles to update are read.
        for base in bases:
            for _ in range(4):  # with WORKERS > 1 the processes share the port: knock a few times
                await http.get(
                    f"{base}/api/v1/job-requests/{requests[0][0]}/matches", headers=mix.employer(requests[0])
                )
        for _ in range(min(200, len(workers))):
            await mix.profile_read(http)
        kinds = [k for k, _ in MIX]
        weights = [w for _, w in MIX]

        async def call():
            kind = rng.choices(kinds, weights)[0]
            return kind, await getattr(mix, kind)(http)

        await drive(call, args.duration, args.concurrency, results)
        for (kind, status), detail in sorted(mix.details.items()):
            print(f"   first {status} of {kind}: {detail}")
        verdict = await compare_rankings(http, bases, requests, mix, args.compare)
    return results, verdict


# The reads wrk sends: match reads and profile reads in the mix's proportion, each with its
# caller's token; `done` prints one line this script parses.
WRK_SCRIPT = """
local matches = {{
{matches}
}}
local profiles = {{
{profiles}
}}
local admin = "Bearer {admin}"
local match_share = {match_share}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", {seed} + threads)
end
function init(args)
  math.randomseed(seed or {seed})
end
function request()
  if math.random() < match_share then
    local m = matches[math.random(#matches)]
    return wrk.format("GET", m[1], {{["Authorization"] = m[2]}})
  end
  return wrk.format("GET", profiles[math.random(#profiles)], {{["Authorization"] = admin}})
end
"""
# Prints the line this script parses; it ends both wrk scripts (the ceiling's is only this).
WRK_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK-RESULT %d %d %d %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
  local points = {{QUANTILES}}
  local out = {}
  for _, q in ipairs(points) do
    out[#out + 1] = string.format("%s:%d", q, latency:percentile(q))
  end
  io.write("WRK-QUANTILES " .. table.concat(out, " ") .. "\\n")
end
"""
# The reads' latency at these percentiles, to put them together with the writes' (the mix's
# own percentiles: `mixed_percentile`).
QUANTILES = (50, 60, 70, 80, 85, 90, 92, 94, 95, 96, 97, 97.5, 98, 98.5, 99, 99.25, 99.5, 99.75, 99.9, 99.99)
WRK_DONE = WRK_DONE.replace("{{QUANTILES}}", "{" + ", ".join(str(q) for q in QUANTILES) + "}")


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: dict[str, int]
    p50: float
    p95: float
    p99: float
    max: float
    quantiles: list[tuple[float, float]] = field(default_factory=list)  # (percentile, ms)
    parts: list[WrkResult] = field(default_factory=list)  # the runs merged into this one

    def share_above(self, ms: float) -> float:
        """The share of its requests slower than `ms` (interpolated between quantiles)."""
        points = [(0.0, 0.0), *self.quantiles, (100.0, self.max)]
        for (q0, v0), (q1, v1) in zip(points, points[1:]):
            if v1 >= ms:
                below = q0 if v1 == v0 else q0 + (q1 - q0) * (ms - v0) / (v1 - v0)
                return max(0.0, 1 - max(q0, min(q1, below)) / 100)
        return 0.0


def mixed_percentile(reads: WrkResult, writes: Results, p: float) -> float:
    """The `p`th percentile of reads and writes together, in ms: the latency that only
    (100 - p) % of all the mix's requests exceed (reads from wrk's quantiles)."""
    parts = reads.parts or [reads]
    written = sorted(v * 1000 for values in writes.latencies.values() for v in values)
    total = sum(r.requests for r in parts) + len(written)
    allowed = (100 - p) / 100 * total

    def above(ms: float) -> float:
        slower_writes = len(written) - bisect.bisect_right(written, ms)
        return sum(r.requests * r.share_above(ms) for r in parts) + slower_writes

    low, high = 0.0, max([r.max for r in parts] + written[-1:])
    for _ in range(60):
        middle = (low + high) / 2
        if above(middle) > allowed:
            low = middle
        else:
            high = middle
    return high


def write_wrk_script(name: str, requests, workers, employer_tokens, admin_token: str, seed: int) -> Path:
    read_weights = dict(MIX)
    match_share = read_weights["match"] / (read_weights["match"] + read_weights["profile_read"])
    text = (
        WRK_SCRIPT.format(
            matches="\n".join(
                f'  {{"/api/v1/job-requests/{r}/matches", "Bearer {employer_tokens[employer]}"}},'
                for r, employer, _ in requests
            ),
            profiles="\n".join(f'  "/api/v1/workers/{w}",' for w in workers),
            admin=admin_token,
            match_share=f"{match_share:.6f}",
            seed=seed,
        )
        + WRK_DONE
    )
    path = ROOT / "var" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# How much the writes' client is favoured by the scheduler over everything else on the
# machine (a nice value below 0; needs root or CAP_SYS_NICE, else it is not applied).
WRITER_NICE = -10


@contextlib.contextmanager
def favoured() -> Iterator[int]:
    """Run the writes' client ahead of the service, wrk and the database in the scheduler's
    queue (yields the nice value taken, 0 when not permitted). The client shares two cores
    with what it measures: when they are saturated, a Python client waits for a core
    between its own steps and times its waits as the service's latency (at 250 writes/s
    its p99 read 1.6 s where the service's own answers took a tenth of that), which a
    client on its own machine would not. On Linux a nice value is the calling thread's,
    and the event loop sends and times every write."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, WRITER_NICE)
    except (PermissionError, OSError):
        yield 0
        return
    try:
        yield WRITER_NICE
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, 0)


async def run_wrk(base: str, script: Path, *, connections: int, threads: int, duration: float) -> WrkResult:
    # wrk starts at the ordinary priority, whatever this thread's.
    own = os.getpriority(os.PRIO_PROCESS, 0)
    process = await asyncio.create_subprocess_exec(
        *(["nice", "-n", str(-own)] if own < 0 else []),
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        base,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    text = out.decode(errors="replace")
    line = next((x for x in text.splitlines() if x.startswith("WRK-RESULT ")), None)
    if process.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({process.returncode}):\n{text}")
    n, micros, connect, read, write, status, timeout, p50, p95, p99, top = (int(v) for v in line.split()[1:])
    errors = {"connect": connect, "read": read, "write": write, "status >= 400": status, "timeout": timeout}
    points = next((x for x in text.splitlines() if x.startswith("WRK-QUANTILES ")), "").split()[1:]
    quantiles = [(float(q), int(v) / 1e3) for q, _, v in (point.partition(":") for point in points)]
    return WrkResult(n, micros / 1e6, errors, p50 / 1e3, p95 / 1e3, p99 / 1e3, top / 1e3, quantiles)


def report_wrk(label: str, result: WrkResult) -> None:
    print(
        f"\n== {label}: {result.requests} requests in {result.seconds:.1f} s = {result.requests / result.seconds:.0f} req/s"
    )
    print(f"   {'kind':<16}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    print(
        f"   {'reads (wrk)':<16}{result.requests:>8}{result.p50:>10.1f}{result.p95:>10.1f}{result.p99:>10.1f}"
        f"{result.max:>10.1f}"
    )
    print("   errors: " + ", ".join(f"{k}: {v}" for k, v in result.errors.items()))


async def run_service_wrk(
    bases: list[str], args, requests, workers, offered, tokens, admin_token
) -> tuple[WrkResult, Results, str]:
    """The reads from wrk, the writes from here at `--write-rate` per second, at once."""
    rng = random.Random(args.seed)
    writes = Results()
    script = write_wrk_script("loadtest-reads.lua", requests, workers, tokens, admin_token, args.seed)
    writers = max(4, math.ceil(args.write_rate / 5))  # each paced, so a slow answer delays only its own
    interval = writers / args.write_rate if args.write_rate > 0 else None
    # A connection for each writer: none waits in this client for another's answer.
    async with http_client(max(16, writers)) as http:
        mix = Mix(bases, requests, workers, tokens, admin_token, rng)
        mix.offered |= offered
        # Warm up (not measured): every process loads its index; rankings to offer from and
        # profiles to update are read.
        for base in bases:
            for _ in range(4):
                await http.get(
                    f"{base}/api/v1/job-requests/{requests[0][0]}/matches", headers=mix.employer(requests[0])
                )
        for _ in range(min(60, len(requests))):
            await mix.match(http)
        for _ in range(min(200, len(workers))):
            await mix.profile_read(http)
        deadline = time.monotonic() + args.duration

        async def writer() -> None:
            next_at = time.monotonic() + rng.random() * (interval or 0)
            while interval is not None and time.monotonic() < deadline:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
                kind = rng.choices(["profile_update", "offer"], [2, 1])[0]
                started = time.perf_counter()
                try:
                    status = await getattr(mix, kind)(http)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                writes.add(kind, time.perf_counter() - started, status)

        connections = max(1, args.concurrency // len(bases))
        with favoured() as nice:
            started = time.monotonic()
            results = await asyncio.gather(
                *(
                    run_wrk(
                        base,
                        script,
                        connections=connections,
                        threads=2 if len(bases) == 1 else 1,
                        duration=args.duration,
                    )
                    for base in bases
                ),
                *(writer() for _ in range(writers)),
            )
        writes.seconds = time.monotonic() - started
        writes.nice = nice
        reads = [r for r in results if isinstance(r, WrkResult)]
        merged = WrkResult(
            requests=sum(r.requests for r in reads),
            seconds=max(r.seconds for r in reads),
            errors={k: sum(r.errors[k] for r in reads) for k in reads[0].errors},
            p50=max(r.p50 for r in reads),
            p95=max(r.p95 for r in reads),
            p99=max(r.p99 for r in reads),
            max=max(r.max for r in reads),
            parts=reads,
        )
        for (kind, status), detail in sorted(mix.details.items()):
            print(f"   first {status} of {kind}: {detail}")
        verdict = await compare_rankings(http, bases, requests, mix, args.compare)
    return merged, writes, verdict


def service_env(settings, url: str, port: int, redis_url: str | None, workers: int = 1) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        PORT=str(port),
        HOST="127.0.0.1",
        WORKERS=str(workers),
        METRICS_PORT="0",
        SECRET_KEY=settings.secret_key,
        DATA_KEY=settings.data_key,
        RATE_LIMIT_PER_MINUTE="100000000",
        LOGIN_ATTEMPTS_PER_ADDRESS="100000",
        LOOKUPS_PER_MINUTE="100000",
        LOG_LEVEL="WARNING",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
        env["STORE_NAMESPACE"] = f"nanyue-load-{os.getpid()}"  # shared by the processes
    else:
        env.pop("REDIS_URL", None)
    return env


def counts(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None
    if not values or any(not 1 <= v <= 64 for v in values):
        raise argparse.ArgumentTypeError("each value must be 1-64")
    return values


def start_services(settings, url: str, args, workers: int) -> tuple[list[str], list[subprocess.Popen]]:
    bases, processes = [], []
    for n in range(args.processes):
        port = free_port()
        log_path = ROOT / "var" / f"loadtest-service-{n + 1}.log"
        log_path.parent.mkdir(exist_ok=True)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "service", "run"],
                cwd=ROOT,
                env=service_env(settings, url, port, args.redis_url, workers),
                stdout=log_path.open("w"),
                stderr=subprocess.STDOUT,
            )
        )
        bases.append(f"http://127.0.0.1:{port}")
    for base, process in zip(bases, processes):
        wait_until_up(f"{base}/ready", process, seconds=args.start_timeout)
    return bases, processes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=100_000, help="generated workers (default 100000)")
    parser.add_argument("--requests", type=int, default=200, help="generated open job requests")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database",
        default="",
        help="an existing database made by generate_data.py on the server of DATABASE_URL (e.g. bench_speed), "
        "used as it is instead of generating --workers",
    )
    parser.add_argument(
        "--url",
        action="append",
        default=[],
        help="an already running service (http://127.0.0.1:PORT, repeatable): load it instead of starting one; "
        "it must use this database and SECRET_KEY",
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of the service mix")
    parser.add_argument("--ceiling-duration", type=float, default=10.0, help="seconds of the bare handler")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--processes", type=int, default=1, choices=(1, 2), help="separate services, each on a port")
    parser.add_argument(
        "--service-workers",
        type=counts,
        default=[1],
        help="WORKERS of each started service, one run per value: 1,2 runs the mix with 1 and then 2 (default 1)",
    )
    parser.add_argument("--redis-url", default=None, help="shared stores; needed with more than one process")
    parser.add_argument("--compare", type=int, default=50, help="requests whose rankings are compared across processes")
    parser.add_argument(
        "--client",
        choices=("httpx", "wrk"),
        default="httpx",
        help="who sends the load: this script (httpx) or, for the reads, wrk beside this script's writes",
    )
    parser.add_argument(
        "--write-rate",
        type=float,
        default=20.0,
        help="with --client wrk: profile updates and offers per second (two to one), sent beside wrk's reads",
    )
    parser.add_argument(
        "--keep-offers",
        action="store_true",
        help="keep the offers each run makes (by default they are deleted after the run, so runs compare)",
    )
    parser.add_argument("--start-timeout", type=float, default=900.0, help="seconds a started service may take to load")
    args = parser.parse_args()
    if not args.url and (args.processes > 1 or max(args.service_workers) > 1) and not args.redis_url:
        parser.error("more than one process needs --redis-url (limits and login locks are shared through Redis)")
    if args.client == "wrk" and shutil.which("wrk") is None:
        parser.error("--client wrk needs wrk (Debian's package wrk)")
    for url in args.url:
        if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
            parser.error(f"--url {url}: only a service on this machine (http://127.0.0.1:PORT)")

    from service.database import exit_on_sigterm
    from service.settings import load_settings

    settings = load_settings()
    exit_on_sigterm()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {os.cpu_count()}")
    url = asyncio.run(prepare_data(args, settings))
    requests, workers, offered, admin = asyncio.run(prepare_people(url, settings))
    if not requests or not workers:
        raise SystemExit(f"{urlsplit(url).path.lstrip('/')}: no open job requests or no workers to load")
    tokens, admin_token = tokens_for(settings, requests, admin)
    print(
        f"data: {urlsplit(url).path.lstrip('/')}, {len(requests)} open requests; concurrency {args.concurrency}",
    )

    started: list[subprocess.Popen] = []
    try:
        port = free_port()
        bare = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "scripts.loadtest:bare_app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
        )
        started.append(bare)
        wait_until_up(f"http://127.0.0.1:{port}/bare", bare)
        if args.client == "wrk":
            script = ROOT / "var" / "loadtest-ceiling.lua"
            script.write_text(WRK_DONE, encoding="utf-8")
            bare_result = asyncio.run(
                run_wrk(
                    f"http://127.0.0.1:{port}/bare",
                    script,
                    connections=args.concurrency,
                    threads=2,
                    duration=args.ceiling_duration,
                )
            )
            stop(bare)
            report_wrk("ceiling: bare Litestar handler (uvicorn, 1 process), from wrk", bare_result)
        else:
            ceiling = asyncio.run(run_ceiling(f"http://127.0.0.1:{port}", args))
            stop(bare)
            report("ceiling: bare Litestar handler (uvicorn, 1 process)", ceiling)

        runs = [(None, args.url)] if args.url else [(n, []) for n in args.service_workers]
        for workers_each, bases in runs:
            processes: list[subprocess.Popen] = []
            if workers_each is not None:
                bases, processes = start_services(settings, url, args, workers_each)
                started.extend(processes)
                label = f"the mix over {args.processes} service(s) with WORKERS={workers_each}"
            else:
                label = f"the mix against {', '.join(bases)}"
            marks = asyncio.run(newest_ids(url))
            if args.client == "wrk":
                reads, writes, verdict = asyncio.run(
                    run_service_wrk(bases, args, requests, workers, offered | set(), tokens, admin_token)
                )
                report_wrk(f"service: {label}, reads from wrk", reads)
                report(f"service: {label}, writes beside them", writes)
                print(
                    f"   the writes' client ran at nice {writes.nice}"
                    + (" (favoured: see `favoured`)" if writes.nice else " (not favoured: no permission)")
                )
                written = sum(len(v) for v in writes.latencies.values())
                print(
                    f"\n== the mix together: {written / (written + reads.requests):.1%} writes; "
                    + ", ".join(f"p{p} {mixed_percentile(reads, writes, p):.1f} ms" for p in (50, 95, 99))
                )
            else:
                results, verdict = asyncio.run(
                    run_service(bases, args, requests, workers, offered | set(), tokens, admin_token)
                )
                report(f"service: {label}", results)
            if verdict:
                print("   " + verdict)
            for process in processes:
                stop(process)
            if not args.keep_offers:
                print(
                    f"   {asyncio.run(forget_run(url, marks))} offers this run made were deleted (--keep-offers keeps them)"
                )
            offered = asyncio.run(prepare_people(url, settings))[2]  # the next run makes new offers
        print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        for process in started:
            stop(process)


if __name__ == "__main__":
    main()
