"""The fast paths of matching answer exactly what the plain ones would."""

import asyncio
import inspect
import threading
from dataclasses import replace
from datetime import date, timedelta

import msgspec
import numpy as np

from service.accounts.guards import Role, require_authenticated, requires
from service.employment.services import busy_periods
from service.matching.facts import DatabaseFacts
from service.matching.index import CATEGORIES, CandidateIndex, FactsSource, Probe, WorkerFacts, day_number
from service.matching.pages import kept_page, workers_version
from service.matching.ranking import MatchQuery, area_codes, filter_candidates, hard_filters, in_area, rank
from service.matching.schemas import MatchPage
from service.matching.services import query_for
from service.taxonomy.rules import HEALTH_TIER_CODES
from tests.conftest import in_app
from tests.factories import matches, post_request


class CountingFacts(DatabaseFacts):
    """The database source, counting the queries for changes."""

    def __init__(self, engine) -> None:
        super().__init__(engine)
        self.change_queries = 0

    async def changed_workers(self, since_xmin):
        self.change_queries += 1
        return await super().changed_workers(since_xmin)


async def test_province_filters_count_what_each_removes(client, actors, registry, app):
    await registry.worker()
    await registry.worker(consent=False)
    await registry.worker(categories=["elderly"])
    await registry.worker(district_codes=["441881"])
    await registry.worker(categories=["elderly"], consent=False)
    employer = await actors.employer()
    job = await post_request(client, employer)

    async def filtered():
        index = CandidateIndex(app.state.taxonomy, DatabaseFacts(app.state.engine), busy=busy_periods)
        await index.ensure_fresh()
        row = await app.state.engine.pool.fetchrow("SELECT * FROM job_request WHERE id = $1", job["id"])
        query = replace(query_for(dict(row)), scope="province")
        return index, query, filter_candidates(index, query)

    index, query, (rows, excluded, _) = in_app(client, filtered)
    status = index.col("active") & index.col("consented") & (index.col("blacklisted") <= day_number(query.today))
    in_category = (index.col("categories") & (1 << CATEGORIES.index(query.category))) != 0
    removed = {e["filter"]: e["removed"] for e in excluded}
    assert removed["area"] == 0
    assert removed["status"] == int((~status).sum()) == 2
    assert removed["category"] == int((status & ~in_category).sum()) == 1
    assert sorted(index.col("id")[rows].tolist()) == sorted(
        index.col("id")[np.flatnonzero(status & in_category)].tolist()
    )


async def test_a_probe_that_found_no_change_spares_the_query(client, actors, registry, app):
    await registry.worker()

    async def probe():
        source = CountingFacts(app.state.engine)
        index = CandidateIndex(app.state.taxonomy, source, busy=busy_periods)
        await index.ensure_fresh()
        before, xmin = source.change_queries, index.xmin
        await index.ensure_fresh(Probe(since=xmin, xmin=xmin + 1, changed=False))
        spared = source.change_queries == before and index.xmin == xmin + 1
        # A probe that saw a change, or was taken against an older xmin, is not trusted.
        await index.ensure_fresh(Probe(since=index.xmin, xmin=index.xmin, changed=True))
        await index.ensure_fresh(Probe(since=index.xmin - 1, xmin=index.xmin, changed=False))
        return spared, source.change_queries - before

    spared, queries = in_app(client, probe)
    assert spared
    assert queries == 2


async def test_callers_waiting_for_a_refresh_share_the_next_one(client, actors, registry, app):
    """Twenty requests that all saw a change, arriving while a refresh is under way, make
    one more refresh between them (not twenty), and each sees the change."""
    await registry.worker()

    async def crowd():
        source = SlowFacts(app.state.engine)
        index = CandidateIndex(app.state.taxonomy, source, busy=busy_periods)
        await index.ensure_fresh()
        before = source.change_queries
        first = asyncio.create_task(index.ensure_fresh(Probe(since=index.xmin, xmin=index.xmin, changed=True)))
        await asyncio.sleep(0.05)  # the first refresh is reading
        await asyncio.gather(
            *(index.ensure_fresh(Probe(since=index.xmin, xmin=index.xmin, changed=True)) for _ in range(20))
        )
        await first
        return source.change_queries - before

    assert in_app(client, crowd) == 2


class SlowFacts(CountingFacts):
    """Counting, and slow to answer (as a busy database is)."""

    async def changed_workers(self, since_xmin):
        await asyncio.sleep(0.2)
        return await super().changed_workers(since_xmin)


async def test_a_change_after_a_cached_page_shows_in_the_next_answer(client, actors, registry):
    _, first = await registry.worker(experience_years=2)
    employer = await actors.employer()
    job = await post_request(client, employer)
    url = f"/api/v1/job-requests/{job['id']}/matches"
    answered = [await client.get(url, headers=employer.headers) for _ in range(2)]
    assert answered[0].content == answered[1].content
    # The stored bytes are a MatchPage's own encoding.
    assert msgspec.json.encode(msgspec.json.decode(answered[0].content, type=MatchPage)) == answered[0].content
    _, second = await registry.worker(experience_years=9)
    page = await matches(client, employer, job["id"])
    assert [m["worker_id"] for m in page["items"]] == [second["id"], first["id"]]


async def test_rankings_run_beside_the_event_loop_and_refreshes_wait_for_them(client, actors, registry, app):
    await registry.worker()

    async def run():
        index = CandidateIndex(app.state.taxonomy, DatabaseFacts(app.state.engine), busy=busy_periods)
        await index.ensure_fresh()
        release = threading.Event()
        ranked_in: list[int] = []

        def slow_ranking():
            ranked_in.append(threading.get_ident())
            release.wait(5)
            return "ranked"

        reading = asyncio.ensure_future(index.read(slow_ranking))
        ticks = 0
        for _ in range(5):
            await asyncio.sleep(0.01)
            ticks += 1  # the loop runs while the ranking holds its thread
        async with index._lock:
            writer = asyncio.ensure_future(index._until_no_readers())
            await asyncio.sleep(0.05)
            waited = not writer.done()
            release.set()
            await writer
        return ticks, ranked_in, waited, await reading

    ticks, ranked_in, waited, result = in_app(client, run)
    assert ticks == 5 and result == "ranked"
    assert ranked_in and ranked_in[0] != threading.get_ident()
    assert waited


async def test_a_ranking_is_the_same_through_the_index_thread(client, actors, registry, app):
    for years in (1, 4, 7):
        await registry.worker(experience_years=years)
    employer = await actors.employer()
    job = await post_request(client, employer)

    async def both():
        index = CandidateIndex(app.state.taxonomy, DatabaseFacts(app.state.engine), busy=busy_periods)
        await index.ensure_fresh()
        row = await app.state.engine.pool.fetchrow("SELECT * FROM job_request WHERE id = $1", job["id"])
        query = query_for(dict(row))
        return rank(index, query, limit=20, offset=0), await index.read(rank, index, query, limit=20, offset=0)

    direct, threaded = in_app(client, both)
    assert [m.worker_id for m in direct.items] == [m.worker_id for m in threaded.items]
    assert len(direct.items) == 3


def test_guards_are_coroutines_so_none_runs_in_a_thread():
    assert inspect.iscoroutinefunction(require_authenticated)
    assert inspect.iscoroutinefunction(requires(Role.ADMIN))
    assert inspect.iscoroutinefunction(requires(Role.HOUSEKEEPING, scope="jobs:read"))


async def test_a_worker_who_leaves_a_district_leaves_its_list(client, actors, registry):
    person, moving = await registry.worker()
    _, staying = await registry.worker()
    employer = await actors.employer()
    job = await post_request(client, employer, location=None)
    url = f"/api/v1/workers/{moving['id']}"

    async def move_to(codes):
        tag = (await client.get(url, headers=person.headers)).headers["etag"]
        moved = await client.patch(url, headers=person.headers | {"If-Match": tag}, json={"district_codes": codes})
        assert moved.status_code == 200
        page = await matches(client, employer, job["id"])
        removed = {e["filter"]: e["removed"] for e in page["excluded"]}
        return [m["worker_id"] for m in page["items"]], page["total"], removed["area"]

    assert len((await matches(client, employer, job["id"]))["items"]) == 2  # the lists are built
    first = await move_to(["441881"])  # the district's list still names her: the column decides
    assert first[:2] == ([staying["id"]], 1)
    back = await move_to(["441802"])  # listed twice now, ranked once
    assert sorted(back[0]) == sorted([moving["id"], staying["id"]]) and back[1] == 2
    assert back[2] == first[2] - 1


class GeneratedFacts(FactsSource):
    """A generated registry in memory: every worker's facts, and later changes to some."""

    def __init__(self, facts):
        self.facts = {f.id: f for f in facts}
        self.changed: list = []

    async def all_workers(self):
        return sorted(self.facts.values(), key=lambda f: f.id), 1

    async def changed_workers(self, since_xmin):
        changed, self.changed = self.changed, []
        return changed, since_xmin + 1


def generated_worker(rng, worker_id, codes, center):
    located = rng.random() < 0.8
    return WorkerFacts(
        id=worker_id,
        txid=worker_id,
        active=rng.random() < 0.95,
        consented=rng.random() < 0.9,
        blacklisted_until=None,
        categories=list(rng.choice(CATEGORIES, size=int(rng.integers(1, 3)), replace=False)),
        skills=[],
        district_codes=list(rng.choice(codes, size=int(rng.integers(1, 3)), replace=False)),
        languages=["cantonese"],
        live_in=bool(rng.random() < 0.5),
        experience_years=int(rng.integers(0, 15)),
        wage_min=int(rng.integers(4000, 9000)),
        wage_max=9500,
        wage_unit="month",
        available_from=None,
        lat=float(center[0] + rng.normal(0, 0.15)) if located else None,
        lon=float(center[1] + rng.normal(0, 0.15)) if located else None,
        surname="陈",
        female=True,
        health_until={tier: date(2100, 1, 1) for tier in HEALTH_TIER_CODES},
        integrity=float(rng.integers(40, 100)) / 100,
    )


async def test_the_fast_paths_rank_as_a_fresh_index_and_a_brute_force_area_do(app):
    """Trusted district lists and grid cells taken whole answer as checking every row does,
    also after workers moved (their old lists and cells then hold stale rows)."""
    taxonomy = app.state.taxonomy
    rng = np.random.default_rng(11)
    city = taxonomy.districts["441802"]["city_code"]
    codes = sorted(c for c, d in taxonomy.districts.items() if d["city_code"] == city)
    center = (23.70, 113.05)
    facts = [generated_worker(rng, i, codes, center) for i in range(1, 3001)]
    source = GeneratedFacts(facts)
    index = CandidateIndex(taxonomy, source)
    await index.ensure_fresh()
    # A quarter of them move: another district, another place, or no location at all.
    moved = [replace(f, txid=f.txid + 10_000, **_moved(rng, codes, center)) for f in facts[::4]]
    source.changed = moved
    await index.ensure_fresh()
    assert index._stale_districts and index._stale_cells
    fresh = CandidateIndex(taxonomy, GeneratedFacts([source.facts[f.id] for f in facts]))
    fresh.source.facts.update({f.id: f for f in moved})
    await fresh.ensure_fresh()

    today = date(2026, 11, 27)
    for n in range(40):
        q = MatchQuery(
            category=str(rng.choice(CATEGORIES)),
            skills=[],
            district_code=str(rng.choice(codes)),
            start_date=today + timedelta(days=5),
            scope=str(rng.choice(["district", "district", "city", "province"])),
            today=today,
        )
        if n % 2:
            q = replace(q, lat=center[0] + rng.normal(0, 0.1), lon=center[1] + rng.normal(0, 0.1), radius_km=5.0 + n)
        for built in (index, fresh):
            ranked = rank(built, q, limit=50, offset=0)
            assert ranked == rank(fresh, q, limit=50, offset=0)
        # The area's fingerprint, kept up to date through the moves, is the fresh one's.
        area = (area_codes(index, q), q.lat, q.lon, q.radius_km or 0)
        assert index.area_version(*area) == fresh.area_version(*area)
        # The area by brute force, over every row.
        rows, excluded, _ = filter_candidates(index, q)
        if q.scope != "province":
            plain = np.array([row for row in range(index.n) if in_area(index, q, row)], dtype=np.int64)
            assert excluded[0]["removed"] == index.n - plain.size
            for _name, condition in hard_filters(index, q):
                plain = plain[condition(plain)]
            assert rows.tolist() == plain.tolist()


def _moved(rng, codes, center):
    change = int(rng.integers(0, 3))
    if change == 0:
        return {"district_codes": [str(rng.choice(codes))]}
    if change == 1:
        return {"lat": float(center[0] + rng.normal(0, 0.15)), "lon": float(center[1] + rng.normal(0, 0.15))}
    return {"lat": None, "lon": None}


async def test_an_area_version_changes_with_its_own_workers_only(app):
    """A district's (and a grid cell's) fingerprint changes when a worker there changes,
    leaves or arrives, and not when a worker elsewhere does; adding a worker anywhere
    changes every area (the area filter counts the rows it leaves out)."""
    taxonomy = app.state.taxonomy
    rng = np.random.default_rng(5)
    city = taxonomy.districts["441802"]["city_code"]
    codes = sorted(c for c, d in taxonomy.districts.items() if d["city_code"] == city)
    here, there = "441802", next(c for c in codes if c != "441802")
    near = (23.70, 113.05, 3.0)
    far = (24.40, 113.60, 3.0)
    base = generated_worker(rng, 1, codes, (23.70, 113.05))
    workers = [
        replace(base, id=1, txid=1, district_codes=[here], lat=23.70, lon=113.05),
        replace(base, id=2, txid=2, district_codes=[there], lat=24.40, lon=113.60),
    ]
    source = GeneratedFacts(workers)
    index = CandidateIndex(taxonomy, source)
    await index.ensure_fresh()

    def versions():
        return (
            index.area_version([here]),
            index.area_version([there]),
            index.area_version([], *near),
            index.area_version([], *far),
        )

    start = versions()
    assert len(set(start)) == 4
    generation = index.generation
    await index.ensure_fresh()  # nothing changed: the columns are as they were
    assert index.generation == generation
    source.changed = [replace(workers[1], txid=10)]  # a change over there
    await index.ensure_fresh()
    assert index.generation == generation + 1  # pages ranked before it are not carried
    after = versions()
    assert after[0] == start[0] and after[2] == start[2]
    assert after[1] != start[1] and after[3] != start[3]
    source.changed = [replace(workers[1], txid=11, district_codes=[here], lat=23.70, lon=113.05)]  # she comes here
    await index.ensure_fresh()
    moved = versions()
    assert all(m != a for m, a in zip(moved, after))
    source.changed = [replace(base, id=3, txid=12, district_codes=[there], lat=24.40, lon=113.60)]
    await index.ensure_fresh()
    assert all(n != m for n, m in zip(versions(), moved))  # one more row in the index


async def test_a_change_elsewhere_keeps_the_cached_page(client, actors, registry, app):
    """The page of a request in 清城区 is served from the cache after a worker in 英德 changes,
    and ranked anew after one of its own workers changes."""
    person_here, here = await registry.worker(experience_years=3)
    person_far, far = await registry.worker(district_codes=["441881"], location={"lat": 24.18, "lon": 113.40})
    employer = await actors.employer()
    job = await post_request(client, employer)
    first = await matches(client, employer, job["id"])
    assert [m["worker_id"] for m in first["items"]] == [here["id"]]
    pages = app.state.matcher.pages

    async def change(person, worker, years):
        url = f"/api/v1/workers/{worker['id']}"
        tag = (await client.get(url, headers=person.headers)).headers["etag"]
        changed = await client.patch(url, headers=person.headers | {"If-Match": tag}, json={"experience_years": years})
        assert changed.status_code == 200, changed.text

    made = len(pages)
    await change(person_far, far, 12)
    assert await matches(client, employer, job["id"]) == first
    assert len(pages) == made  # the same key: nothing ranked anew
    await change(person_here, here, 8)
    again = await matches(client, employer, job["id"])
    assert len(pages) == made + 1
    assert again["items"][0]["worker_id"] == here["id"] and again != first


async def test_pages_carried_past_a_change_are_what_ranking_anew_gives(app):
    """Kept pages that survive a refresh under their new key equal a fresh ranking, over
    random requests and random changes (scores, filters, moves); and some are carried."""
    taxonomy = app.state.taxonomy
    rng = np.random.default_rng(23)
    city = taxonomy.districts["441802"]["city_code"]
    codes = sorted(c for c, d in taxonomy.districts.items() if d["city_code"] == city)
    center = (23.70, 113.05)
    facts = [generated_worker(rng, i, codes, center) for i in range(1, 1501)]
    source = GeneratedFacts(facts)
    index = CandidateIndex(taxonomy, source)
    await index.ensure_fresh()
    today = date(2026, 11, 27)
    queries = []
    for n in range(30):
        q = MatchQuery(
            category=str(rng.choice(CATEGORIES)),
            skills=[],
            district_code=str(rng.choice(codes)),
            start_date=today + timedelta(days=5),
            scope=str(rng.choice(["district", "district", "city"])),
            today=today,
        )
        if n % 2:
            q = replace(q, lat=center[0] + rng.normal(0, 0.1), lon=center[1] + rng.normal(0, 0.1), radius_km=3.0 + n)
        queries.append((n, q, int(rng.choice([5, 20, 400]))))

    def body(q, limit):
        ranked = rank(index, q, limit=limit, offset=0)
        return repr((ranked.total, ranked.items, ranked.excluded)).encode(), ranked

    def keep_all():
        for n, q, limit in queries:
            key = f"{n}:{workers_version(index, q)}"
            if index.pages.get(key) is None:
                made, ranked = body(q, limit)
                shown = [m.worker_id for m in ranked.items]
                index.pages.put(key, made, kept_page(index, q, lambda v, n=n: f"{n}:{v}", shown, ranked.lowest))

    current = {f.id: f for f in facts}
    txid = 10_000
    for _round in range(12):
        keep_all()
        changed = []
        for f in rng.choice(list(current.values()), size=4, replace=False):
            txid += 1
            kind = int(rng.integers(0, 4))
            if kind == 0:
                new = replace(f, txid=txid, experience_years=int(rng.integers(0, 15)))
            elif kind == 1:
                new = replace(f, txid=txid, consented=not f.consented)
            elif kind == 2:
                new = replace(f, txid=txid, integrity=float(rng.integers(40, 100)) / 100)
            else:
                new = replace(f, txid=txid, **_moved(rng, codes, center))
            current[f.id] = new
            changed.append(new)
        source.changed = changed
        await index.ensure_fresh()
        for n, q, limit in queries:
            key = f"{n}:{workers_version(index, q)}"
            kept = index.pages.get(key)
            if kept is not None:
                assert kept == body(q, limit)[0], (n, q)
    assert index.pages.carried > 0


async def test_a_change_below_the_page_keeps_it_and_one_above_ranks_anew(client, actors, registry, app):
    person_top, top = await registry.worker(experience_years=9)
    person_low, low = await registry.worker(experience_years=1)
    employer = await actors.employer()
    job = await post_request(client, employer)

    async def settled() -> bool:
        # The index reads again every row written at or above its xmin: while a transaction
        # older than these workers' writes runs anywhere on the server (another client's), a
        # change to one would look like a change to both, and no page could be carried.
        row = await app.state.engine.pool.fetchrow(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint > max(change_txid) AS past FROM worker"
        )
        return row["past"]

    for _ in range(200):
        if in_app(client, settled):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("a transaction older than the workers' writes ran for 10 s")
    first = await matches(client, employer, job["id"], limit=1)
    assert [m["worker_id"] for m in first["items"]] == [top["id"]] and first["total"] == 2
    memory = app.state.matcher.pages

    async def change(person, worker, years):
        url = f"/api/v1/workers/{worker['id']}"
        tag = (await client.get(url, headers=person.headers)).headers["etag"]
        changed = await client.patch(url, headers=person.headers | {"If-Match": tag}, json={"experience_years": years})
        assert changed.status_code == 200, changed.text

    carried = memory.carried
    await change(person_low, low, 2)  # still below the page
    assert await matches(client, employer, job["id"], limit=1) == first
    assert memory.carried == carried + 1
    await change(person_low, low, 15)  # now above: ranked anew
    again = await matches(client, employer, job["id"], limit=1)
    assert [m["worker_id"] for m in again["items"]] == [low["id"]]
    assert memory.carried == carried + 1


async def test_grid_cells_west_of_greenwich_and_south_of_the_equator_are_the_rows_own(app):
    """The bulk build packs cells into one number; negative coordinates unpack to the same
    cells one row's update computes (`_cell`)."""
    from service.matching.index import _cell

    rng = np.random.default_rng(3)
    base = generated_worker(rng, 1, ["441802"], (23.70, 113.05))
    places = [(-33.45, -70.66), (51.5, -0.12), (-0.01, 0.01), (23.70, 113.05)]
    facts = [replace(base, id=n + 1, txid=n + 1, lat=lat, lon=lon) for n, (lat, lon) in enumerate(places)]
    index = CandidateIndex(app.state.taxonomy, GeneratedFacts(facts))
    await index.ensure_fresh()
    for row in range(index.n):
        cell = _cell(index.col("lat")[row], index.col("lon")[row])
        assert row in np.concatenate(index._grid_rows[cell]).tolist(), places[row]


async def test_a_page_ranked_after_a_refresh_is_kept_under_the_state_it_read(
    client, actors, registry, app, monkeypatch
):
    """Under steady writes a refresh often lands between the page's key and its ranking
    (the shared store's answer is awaited in between). The page is then cached under the
    version of the workers it read, and the next read is served from memory, not ranked again."""
    from service.matching.services import PAGES
    from service.registry.tables import Worker

    person, worker = await registry.worker(experience_years=3)
    employer = await actors.employer()
    job = await post_request(client, employer)
    index = app.state.matcher
    store = app.stores.get("matches")
    plain_get = type(store).get
    armed = []

    async def get_with_a_write_meanwhile(self, key, *args, **kwargs):
        if self is store and armed:
            armed.clear()
            await Worker.update({Worker.experience_years: 11}).where(Worker.id == worker["id"])
            await index.ensure_fresh()  # the refresh another request would have made
        return await plain_get(self, key, *args, **kwargs)

    monkeypatch.setattr(type(store), "get", get_with_a_write_meanwhile)  # the store has slots
    armed.append(True)
    first = await matches(client, employer, job["id"])
    assert not armed, "the shared store was not asked"
    assert first["items"][0]["worker_id"] == worker["id"]
    experience = next(c for c in first["items"][0]["components"] if c["name"] == "experience")
    assert experience["value"] == 1.0, experience  # ranked from the new state (11 years; 3 gave 0.3)

    def memory_hits() -> float:
        return PAGES.labels("memory")._value.get()

    ranked_before, hits_before = len(index.pages), memory_hits()
    assert await matches(client, employer, job["id"]) == first
    assert memory_hits() == hits_before + 1  # served from memory under the key it was kept by
    assert len(index.pages) == ranked_before
