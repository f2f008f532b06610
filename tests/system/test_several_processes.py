"""The service as an operator runs it with `WORKERS=2`: `/metrics` adds up what every server
process counted, and `scripts/loadtest.py` loads an already running service on an existing
database (`--url`, `--database`) without generating or changing its accounts."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from service.database import with_database
from service.settings import PROJECT_ROOT
from tests.factories import post_request
from tests.faults.support import RedisServer, free_port


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@contextmanager
def two_processes(settings, database_url: str, redis_url: str, tmp: Path) -> Iterator[tuple[str, str]]:
    """`python -m service run` with WORKERS=2 on the test database: (API base, metrics URL)."""
    port, metrics_port = free_port(), free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        STORE_NAMESPACE="nanyue-processes",
        SECRET_KEY=settings.secret_key,
        DATA_KEY=settings.data_key,
        HOST="127.0.0.1",
        PORT=str(port),
        WORKERS="2",
        METRICS_PORT=str(metrics_port),
        RATE_LIMIT_PER_MINUTE="100000",
        RUN_DISPATCHER="false",
        LOG_LEVEL="WARNING",
        TMPDIR=str(tmp),  # the run's metrics directory is made here
    )
    log = (tmp / "service.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "run"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (tmp / "service.log").read_text()
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the service did not get ready"
            time.sleep(0.3)
        yield base, f"http://127.0.0.1:{metrics_port}/metrics"
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def health_counts(files: list[str]) -> float:
    """GET /health answers counted in these metrics files."""
    return sum(
        sample.value
        for metric in MultiProcessCollector.merge(files, accumulate=True)
        for sample in metric.samples
        if sample.name == "nanyue_requests_total" and sample.labels.get("path") == "/health"
    )


async def test_metrics_add_up_the_requests_of_every_server_process(settings, database_url, redis_server, tmp_path):
    with two_processes(settings, database_url, redis_server.url, tmp_path) as (base, metrics):
        (run_dir,) = tmp_path.glob("nanyue-metrics-*")
        sent = 0
        # Each request on a new connection, many at once: the two processes take turns accepting
        # (once both have started: /ready answered from one of them, the other may still be starting).
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0)) as http:
            while time.monotonic() < deadline:
                answers = await asyncio.gather(*(http.get(f"{base}/health") for _ in range(20)))
                assert {a.status_code for a in answers} == {200}
                sent += len(answers)
                per_process = [health_counts([str(f)]) for f in run_dir.glob("counter_*.db")]
                if len([n for n in per_process if n]) == 2:
                    break
                await asyncio.sleep(0.1)  # leave the starting one a core
        assert len([n for n in per_process if n]) == 2, per_process  # both processes served some
        text = httpx.get(metrics).text
        total = next(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("nanyue_requests_total{") and 'path="/health"' in line
        )
        assert total == sent == sum(per_process)
        # Gauges that are not sums carry the process: one series per server process.
        assert len([line for line in text.splitlines() if line.startswith("nanyue_webhook_listening{pid=")]) == 2
    assert not run_dir.exists()  # the run's directory goes with the service


async def test_loadtest_loads_a_running_service_on_an_existing_database(
    client, registry, actors, settings, database_url, redis_server, tmp_path
):
    for _ in range(3):
        await registry.worker(certificate_level=4)
    employer = await actors.employer()
    request = await post_request(client, employer)
    name = urlsplit(database_url).path.lstrip("/")
    conn = await asyncpg.connect(database_url)
    try:
        passwords_before = await conn.fetch("SELECT id, password_hash FROM app_user ORDER BY id")
    finally:
        await conn.close()

    def load(base, *client):
        return subprocess.run(
            [
                sys.executable,
                "scripts/loadtest.py",
                *("--database", name, "--url", base),
                *("--duration", "3", "--ceiling-duration", "1", "--concurrency", "4", "--compare", "1"),
                *client,
            ],
            cwd=PROJECT_ROOT,
            env=dict(
                os.environ,
                DATABASE_URL=with_database(database_url, "postgres"),
                SECRET_KEY=settings.secret_key,
                DATA_KEY=settings.data_key,
            ),
            capture_output=True,
            text=True,
            timeout=300,
        )

    with two_processes(settings, database_url, redis_server.url, tmp_path) as (base, _metrics):
        run = load(base)
        # The reads from wrk (Debian's package, installed by .ci/run), the writes beside them.
        by_wrk = load(base, "--client", "wrk", "--write-rate", "10") if shutil.which("wrk") else None
    assert run.returncode == 0, run.stdout + run.stderr
    if by_wrk is None:
        warnings.warn("wrk is not installed: loadtest.py --client wrk was not tried", stacklevel=1)
    else:
        assert_wrk_run(by_wrk, base)
    out = run.stdout
    assert f"data: {name}, 1 open requests" in out
    assert "== ceiling: bare Litestar handler" in out
    service = out[out.index(f"== service: the mix against {base}") :]
    answers = service.split("answers by status: ", 1)[1].splitlines()[0]
    statuses = {int(part.split(":")[0]) for part in answers.split(", ")}
    assert statuses <= {200, 201}, service
    assert "match" in service and "profile_read" in service
    assert "identical rankings over 2 reads each: 1 of 1 requests" in service
    conn = await asyncpg.connect(database_url)
    try:
        # Nothing was generated, and nobody's password was set: the tokens are signed with SECRET_KEY.
        assert await conn.fetch("SELECT id, password_hash FROM app_user ORDER BY id") == passwords_before
        assert await conn.fetchval("SELECT count(*) FROM job_request") == 1
        assert await conn.fetchval("SELECT count(*) FROM worker") == 3
    finally:
        await conn.close()
    assert request["id"]


def assert_wrk_run(by_wrk, base):
    """The reads came from wrk without an error of any kind; the writes were answered."""
    assert by_wrk.returncode == 0, by_wrk.stdout + by_wrk.stderr
    reads = by_wrk.stdout[by_wrk.stdout.index(f"== service: the mix against {base}, reads from wrk") :]
    assert "errors: connect: 0, read: 0, write: 0, status >= 400: 0, timeout: 0" in reads, reads
    assert int(reads.split("reads (wrk)", 1)[1].split()[0]) > 0
    writes = reads[reads.index("writes beside them") :]
    answers = writes.split("answers by status: ", 1)[1].splitlines()[0]
    assert {int(part.split(":")[0]) for part in answers.split(", ")} <= {200, 201}, writes
    assert "profile_update" in writes and "identical rankings over 2 reads each: 1 of 1 requests" in writes
    mixed = writes[writes.index("== the mix together: ") :].splitlines()[0]
    assert "writes; p50 " in mixed and " ms, p99 " in mixed, mixed


def test_the_mix_percentiles_count_reads_and_writes_together():
    """The reads (known by wrk's quantiles) and the writes (each timed) make one distribution:
    here 990 reads at 10-100 ms and 10 writes at 1 s, so the p99 of the mix falls where the
    reads end and the writes begin, and a 20th write slower than that moves it up."""
    from scripts.loadtest import Results, WrkResult, mixed_percentile

    quantiles = [(float(q), 10 + 90 * q / 100) for q in (50, 90, 95, 99, 99.9)]
    reads = WrkResult(990, 10.0, {}, 55.0, 95.5, 99.1, 100.0, quantiles)
    writes = Results()
    for _ in range(10):
        writes.add("offer", 1.0, 201)
    p99 = mixed_percentile(reads, writes, 99)
    assert 99.0 <= p99 <= 100.0, p99
    assert 54 <= mixed_percentile(reads, writes, 50) <= 56
    for _ in range(10):
        writes.add("offer", 1.0, 201)
    assert mixed_percentile(reads, writes, 99) == 1000.0
