"""DATABASE_READ_URL: the candidate index's loads and refreshes and the bureau's reports read
there; everything else (and every read that must see the request's own write) on
DATABASE_URL."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from service.registry.domain import today_local
from service.settings import load_settings
from tests.conftest import in_app
from tests.factories import post_request
from tests.faults.support import another_instance

MARKER_SCHEMA = "read_marker"


def with_query(url: str, **params: str) -> str:
    """`url` with more query parameters (the embedded server's URL already has `?host=`)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode(parse_qsl(parts.query) + list(params.items()))))


def test_database_read_url_is_read_from_the_environment(tmp_path):
    base = {"VAR_DIR": str(tmp_path)}
    assert load_settings(base, dotenv=tmp_path / ".env").database_read_url is None
    url = "postgresql://reader@127.0.0.1:5432/nanyue"
    assert load_settings(base | {"DATABASE_READ_URL": url}, dotenv=tmp_path / ".env").database_read_url == url


async def test_matching_reads_the_registry_through_the_read_engine(client, app, actors, registry, database_url):
    _person, worker = await registry.worker(certificate_level=4)
    employer = await actors.employer()
    request = await post_request(client, employer)

    async def scenario() -> list[int]:
        async with another_instance(app, database_read_url=database_url) as (other, http):
            assert other.state.read_engine is not other.state.engine
            assert other.state.matcher.source.engine is other.state.read_engine
            ranked = await http.get(f"/api/v1/job-requests/{request['id']}/matches", headers=employer.headers)
            assert ranked.status_code == 200, ranked.text
            return [m["worker_id"] for m in ranked.json()["items"]]

    assert in_app(client, scenario) == [worker["id"]]
    # Without DATABASE_READ_URL the one engine serves both.
    assert app.state.read_engine is app.state.engine


async def test_reports_read_from_the_read_url(client, app, actors, database_url):
    """The read URL names the same database with a schema in front holding a certificate
    the primary does not have: a report that counts it was read there."""
    admin = await actors.admin()
    today = today_local()
    period = {"date_from": (today - timedelta(days=30)).isoformat(), "date_to": today.isoformat()}
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {MARKER_SCHEMA} CASCADE; CREATE SCHEMA {MARKER_SCHEMA}")
        await conn.execute(f"CREATE TABLE {MARKER_SCHEMA}.certificate (LIKE public.certificate INCLUDING DEFAULTS)")
        await conn.execute(
            f"INSERT INTO {MARKER_SCHEMA}.certificate (id, worker, occupation_code, level, certificate_no, "
            "issued_on, status, kind) VALUES (1, 1, '4-10-01-06', 4, 'MARKER-1', $1, 'verified', 'skill_level')",
            today,
        )

        async def report(http) -> int:
            answer = await http.get("/api/v1/reports/certificates", headers=admin.headers, params=period)
            assert answer.status_code == 200, answer.text
            # The grand total is the largest row (the others are groups of it).
            return max((row["certificates"] for row in answer.json()["rows"]), default=0)

        async def scenario() -> tuple[int, int]:
            async with another_instance(app) as (_, http):
                primary = await report(http)
            marked = with_query(database_url, search_path=f"{MARKER_SCHEMA},public")
            async with another_instance(app, database_read_url=marked) as (_, http):
                replica = await report(http)
            return primary, replica

        assert in_app(client, scenario) == (0, 1)
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {MARKER_SCHEMA} CASCADE")
        await conn.close()


STALE_SCHEMA = "read_stale"


async def test_a_worker_hidden_on_the_primary_leaves_a_page_ranked_from_a_lagging_replica(
    client, app, actors, registry, database_url
):
    """The read URL puts a schema in front holding a copy of the worker table taken before
    she withdrew consent (a replica that lags, forever): the index still ranks her, but
    the page shown to the household is checked on the primary and leaves her out."""
    _person, worker = await registry.worker(certificate_level=4)
    employer = await actors.employer()
    request = await post_request(client, employer)
    path = f"/api/v1/job-requests/{request['id']}/matches"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {STALE_SCHEMA} CASCADE; CREATE SCHEMA {STALE_SCHEMA}")
        await conn.execute(f"CREATE TABLE {STALE_SCHEMA}.worker AS TABLE public.worker")

        async def page(http, **params) -> dict:
            answer = await http.get(path, headers=employer.headers, params=params)
            assert answer.status_code == 200, answer.text
            return answer.json()

        async def scenario() -> tuple[dict, dict, dict]:
            lagging = with_query(database_url, search_path=f"{STALE_SCHEMA},public")
            async with another_instance(app, database_read_url=lagging) as (other, http):
                assert other.state.matcher.may_lag
                before = await page(http)
                # On the primary only (the stale copy keeps her consent).
                await app.state.engine.run_ddl(
                    f"UPDATE public.worker SET consented_at = NULL WHERE id = {worker['id']}"
                )
                after = await page(http)
                cached = await page(http)  # the same page again, from the process's pages
                ranked = await page(http, limit=5)  # a page not made before: ranked now
                return before, after, cached, ranked

        before, after, cached, ranked = in_app(client, scenario)
        assert [m["worker_id"] for m in before["items"]] == [worker["id"]]
        for shown in (after, cached, ranked):
            assert shown["items"] == [] and shown["total"] == 0
            status = next(e for e in shown["excluded"] if e["filter"] == "status")
            assert status["removed"] >= 1
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {STALE_SCHEMA} CASCADE")
        await conn.close()
