"""An index started from a checkpoint and caught up is the index a full load makes."""

import asyncio
import logging
import random
from dataclasses import replace
from datetime import timedelta

import numpy as np
from piccolo.querystring import QueryString

from service.app import new_candidate_index
from service.employment.services import busy_periods
from service.matching.checkpoint import ADVISORY_LOCK_KEY, CheckpointStore, keep_checkpoints
from service.matching.facts import DatabaseFacts
from service.matching.index import CandidateIndex
from service.matching.ranking import rank
from service.matching.services import query_for
from service.registry.domain import today_local
from tests.conftest import in_app, tuned
from tests.factories import offer, post_request

DISTRICTS = ["441802", "441803", "441881", "441821", "440103"]
SKILLS = ["maternity_postpartum_care", "lactation_support", "cantonese_cooking", "infant_care", "elderly_daily_care"]
LANGUAGES = ["粤语", "普通话", "客家话", "潮汕话", "英语"]


def random_profile(rng: random.Random) -> dict:
    lat, lon = 23.70 + rng.uniform(-0.3, 0.3), 113.05 + rng.uniform(-0.3, 0.3)
    categories = rng.sample(["maternity", "household", "elderly"], rng.randint(1, 3))
    unit = rng.choice(["month", "month", "hour", "term"] if "maternity" in categories else ["month", "hour"])
    wage = {"month": 6000, "hour": 30, "term": 14000}[unit] + rng.randrange(0, 4) * {
        "month": 800,
        "hour": 5,
        "term": 1500,
    }[unit]
    return {
        "real_name": rng.choice(["陈秀英", "欧阳丽华", "李美玲", "黄丽", "司徒燕", "张敏"]),
        "district_codes": rng.sample(DISTRICTS, rng.randint(1, 3)),
        "location": rng.choice([None, {"lat": round(lat, 4), "lon": round(lon, 4)}]),
        "categories": categories,
        "skills": rng.sample(SKILLS, rng.randint(1, 4)),
        "languages": rng.sample(LANGUAGES[:4], rng.randint(1, 3)),
        "experience_years": rng.randint(0, 12),
        "wage_min": wage,
        "wage_max": wage * 2,
        "wage_unit": unit,
        "live_in": rng.random() < 0.5,
    }


def cold_index(app) -> CandidateIndex:
    return CandidateIndex(app.state.taxonomy, DatabaseFacts(app.state.engine), busy=busy_periods)


def store_of(app) -> CheckpointStore:
    return CheckpointStore.of(app.state.engine, max_age_seconds=3600)


async def loaded(index: CandidateIndex) -> CandidateIndex:
    await index.ensure_fresh()
    return index


def decoded(index: CandidateIndex, column: str, vocabulary) -> list[frozenset]:
    """Each row's mask as the set of codes it names (bits may be assigned in another order)."""
    names = {bit: code for code, bit in vocabulary.bits.items()}
    values = index.col(column)
    values = values[:, None] if values.ndim == 1 else values
    return [
        frozenset(names[w * 64 + b] for w, word in enumerate(row.tolist()) for b in range(64) if word >> b & 1)
        for row in values
    ]


def assert_same_index(restored: CandidateIndex, cold: CandidateIndex) -> None:
    assert restored.n == cold.n
    assert restored.version == cold.version
    assert restored.skipped == cold.skipped
    a, b = np.argsort(restored.col("id")), np.argsort(cold.col("id"))
    ids = cold.col("id")[b].tolist()
    assert restored.col("id")[a].tolist() == ids
    for name in cold._columns:
        if name in ("skills", "districts", "languages", "surname"):
            continue
        np.testing.assert_array_equal(restored.col(name)[a], cold.col(name)[b], err_msg=name)
    for column, vocabulary in (("skills", "skills"), ("districts", "districts"), ("languages", "languages")):
        ours, theirs = (
            decoded(restored, column, getattr(restored, vocabulary)),
            decoded(cold, column, getattr(cold, vocabulary)),
        )
        assert [ours[i] for i in a] == [theirs[i] for i in b], column
    assert [restored.surname_of(i) for i in a] == [cold.surname_of(i) for i in b]
    # Placements, the area lists and the area fingerprints.
    busy = lambda index: {int(index.col("id")[row]): sorted(r) for row, r in index._busy.items()}  # noqa: E731
    assert busy(restored) == busy(cold)
    for code in DISTRICTS:
        assert set(restored.col("id")[restored.rows_serving([code])].tolist()) == set(
            cold.col("id")[cold.rows_serving([code])].tolist()
        ), code
        assert restored.area_version([code], 23.7, 113.05, 30) == cold.area_version([code], 23.7, 113.05, 30)
    cells = lambda index: {  # noqa: E731
        cell: sorted(index.col("id")[np.concatenate(chunks)].tolist()) for cell, chunks in index._grid_rows.items()
    }
    assert cells(restored) == cells(cold)


async def test_a_restored_index_caught_up_ranks_as_a_full_load_does(client, actors, registry, app):
    rng = random.Random(20261128)
    people, records = {}, []
    for _ in range(18):
        person, record = await registry.worker(
            health=rng.choice(["maternity", "home", "elderly", None]),
            certificate_level=rng.choice([None, 3, 4, 5]),
            **random_profile(rng),
        )
        people[record["id"]] = person
        records.append(record)
    placed_before, placed_after = [(await registry.worker())[1] for _ in range(2)]
    people[placed_before["id"]] = registry.people[placed_before["id"]]
    people[placed_after["id"]] = registry.people[placed_after["id"]]
    employer = await actors.employer()
    jobs = [
        await post_request(client, employer),
        await post_request(
            client, employer, category="household", skills=["cantonese_cooking"], district_code="441803"
        ),
        await post_request(client, employer, search_scope="city", live_in=True, languages=["客家话"]),
        await post_request(client, employer, required_certificate={"occupation_code": "4-10-01-06", "min_level": 3}),
        await post_request(
            client, employer, background_check_required=True, budget_unit="hour", budget_min=20, budget_max=40
        ),
        await post_request(
            client, employer, location={"lat": 23.75, "lon": 113.1}, radius_km=20, district_code="441821"
        ),
        await post_request(client, employer, category="maternity"),
    ]
    engine = app.state.engine
    # One worker already placed, one row the index cannot read (skipped).
    made = await offer(client, employer, jobs[0]["id"], placed_before["id"])
    accepted = await client.post(f"/api/v1/offers/{made['id']}/accept", headers=people[placed_before["id"]].headers)
    assert accepted.status_code == 201, accepted.text
    in_app(client, engine.run_ddl, f"UPDATE worker SET available_from = 'infinity' WHERE id = {records[1]['id']}")

    store = store_of(app)
    first = in_app(client, loaded, cold_index(app))
    assert records[1]["id"] in first.skipped
    written = in_app(client, store.write, first)
    assert written.written and written.size > 0

    # Between the checkpoint and the restore: new workers, edits, consent withdrawn,
    # credentials added, revoked and expired, a placement, the unreadable row mended.
    for _ in range(4):
        person, record = await registry.worker(
            health=rng.choice(["maternity", "home"]), **random_profile(rng) | {"languages": ["英语", "粤语"]}
        )
        people[record["id"]] = person
        records.append(record)
    for record in rng.sample(records[2:18], 5):
        url = f"/api/v1/workers/{record['id']}"
        person = people[record["id"]]
        tag = (await client.get(url, headers=person.headers)).headers["etag"]
        edited = {k: v for k, v in random_profile(rng).items() if k not in ("real_name",)}
        changed = await client.patch(url, headers=person.headers | {"If-Match": tag}, json=edited)
        assert changed.status_code == 200, changed.text
    for record in rng.sample(records[2:18], 2):
        withdrawn = await client.delete(f"/api/v1/workers/{record['id']}/consent", headers=people[record["id"]].headers)
        assert withdrawn.status_code == 200, withdrawn.text
    for record in rng.sample(records[2:], 3):
        await registry.certificate(record["id"], "4-10-01-06", rng.choice([2, 3, 4]))
    certified = await registry.certificate(records[5]["id"], "4-10-01-02", 3)
    revoked = await client.delete(
        f"/api/v1/workers/{records[5]['id']}/certificates/{certified['id']}", headers=registry.evaluator.headers
    )
    assert revoked.status_code == 200, revoked.text
    long_ago = today_local() - timedelta(days=400)
    for record, check in (
        (records[6], {"kind": "health", "tier": "home", "result": "passed", "checked_on": today_local().isoformat()}),
        (records[7], {"kind": "background", "result": "passed", "checked_on": today_local().isoformat()}),
        (  # an expired one
            records[8],
            {
                "kind": "background",
                "result": "passed",
                "checked_on": long_ago.isoformat(),
                "valid_until": (long_ago + timedelta(days=300)).isoformat(),
            },
        ),
    ):
        added = await client.post(f"/api/v1/workers/{record['id']}/checks", headers=registry.admin.headers, json=check)
        assert added.status_code == 201, added.text
    made = await offer(client, employer, jobs[-1]["id"], placed_after["id"])
    accepted = await client.post(f"/api/v1/offers/{made['id']}/accept", headers=people[placed_after["id"]].headers)
    assert accepted.status_code == 201, accepted.text
    in_app(client, engine.run_ddl, f"UPDATE worker SET available_from = NULL WHERE id = {records[1]['id']}")
    in_app(
        client, engine.run_ddl, f"UPDATE worker SET lat = 95 WHERE id = {records[-1]['id']}"
    )  # a new row, unreadable

    restored = in_app(
        client, loaded, CandidateIndex(app.state.taxonomy, DatabaseFacts(engine), busy=busy_periods, checkpoints=store)
    )
    cold = in_app(client, loaded, cold_index(app))
    assert restored.restored_from == written.checkpoint_id
    assert restored.caught_up_rows >= 12
    assert cold.restored_from is None and records[-1]["id"] in cold.skipped
    assert_same_index(restored, cold)

    rows = in_app(client, engine.pool.fetch, "SELECT * FROM job_request ORDER BY id")
    queries = [query_for(dict(r)) for r in rows]
    queries += [replace(q, scope="province") for q in queries]
    for q in queries:
        ours, theirs = rank(restored, q, limit=50, offset=0), rank(cold, q, limit=50, offset=0)
        assert ours == theirs
    assert sum(len(rank(cold, q, limit=50, offset=0).items) for q in queries) > 10


async def test_without_a_checkpoint_of_its_schema_the_index_loads_in_full(client, actors, registry, app):
    for _ in range(3):
        await registry.worker()
    store = store_of(app)
    with_store = lambda: CandidateIndex(  # noqa: E731
        app.state.taxonomy, DatabaseFacts(app.state.engine), busy=busy_periods, checkpoints=store
    )
    none_yet = in_app(client, loaded, with_store())
    assert none_yet.restored_from is None and none_yet.n == 3
    written = in_app(client, store.write, none_yet)
    assert written.written
    assert in_app(client, loaded, with_store()).restored_from == written.checkpoint_id

    # Another version's checkpoint (another column layout, taxonomy or code) is not ours.
    in_app(client, app.state.engine.run_ddl, "UPDATE index_checkpoint SET schema_key = 'another version'")
    other = in_app(client, loaded, with_store())
    assert other.restored_from is None and other.n == 3
    assert_same_index(other, in_app(client, loaded, cold_index(app)))


async def test_a_torn_or_foreign_checkpoint_is_never_restored(client, actors, registry, app):
    for _ in range(3):
        await registry.worker()
    store = store_of(app)
    engine = app.state.engine
    with_store = lambda: CandidateIndex(  # noqa: E731
        app.state.taxonomy, DatabaseFacts(engine), busy=busy_periods, checkpoints=store
    )

    async def fresh_checkpoint() -> int:
        await engine.run_ddl("DELETE FROM index_checkpoint")
        result = await store.write(await loaded(cold_index(app)))
        assert result.written
        return result.checkpoint_id

    spoiled = [
        "UPDATE index_checkpoint SET complete = false",
        "DELETE FROM index_checkpoint_chunk WHERE seq = 0",
        "UPDATE index_checkpoint_chunk SET data = overlay(data PLACING '\\xff'::bytea FROM 9) WHERE seq = 0",
        "UPDATE index_checkpoint SET origin = origin || '0'",  # another database or worker table
    ]
    for statement in spoiled:
        in_app(client, fresh_checkpoint)
        in_app(client, engine.run_ddl, statement)
        index = in_app(client, loaded, with_store())
        assert index.restored_from is None and index.n == 3, statement
    # The worker table rewritten (TRUNCATE gives it a new file too): the checkpoint is another table's.
    in_app(client, fresh_checkpoint)
    in_app(client, engine.run_ddl, "VACUUM FULL worker")
    assert in_app(client, loaded, with_store()).restored_from is None


async def test_one_writer_at_a_time_and_not_again_too_soon(client, actors, registry, app):
    await registry.worker()
    store = store_of(app)
    index = in_app(client, loaded, cold_index(app))

    async def while_locked():
        other = await app.state.engine.get_new_connection()
        try:
            assert await other.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY)
            return await store.write(index)
        finally:
            await other.close()

    locked = in_app(client, while_locked)
    assert not locked.written and "another process" in locked.reason
    assert in_app(client, store.write, index).written
    again = in_app(client, store.write, index)
    assert not again.written and "recent" in again.reason
    # A write reads what changed first; only the newest checkpoint of a schema is kept.
    _, newer = await registry.worker()
    newest = in_app(client, lambda: store.write(index, max_age_seconds=0))
    assert newest.written and index.row_of(newer["id"]) is not None
    rows = in_app(client, app.state.engine.pool.fetch, "SELECT id, workers FROM index_checkpoint")
    assert [(r["id"], r["workers"]) for r in rows] == [(newest.checkpoint_id, 2)]


async def test_a_failed_write_is_logged_and_the_index_serves_on(client, actors, registry, app, caplog):
    _, worker = await registry.worker()
    employer = await actors.employer()
    job = await post_request(client, employer)
    index = in_app(client, loaded, cold_index(app))
    engine = app.state.engine
    in_app(client, engine.run_ddl, "ALTER TABLE index_checkpoint_chunk RENAME TO index_checkpoint_chunk_away")
    try:
        with caplog.at_level(logging.ERROR, logger="service.matching.checkpoint"):
            result = in_app(client, store_of(app).write, index)
    finally:
        in_app(client, engine.run_ddl, "ALTER TABLE index_checkpoint_chunk_away RENAME TO index_checkpoint_chunk")
    assert not result.written and "UndefinedTable" in result.reason
    assert any("writing a checkpoint failed" in r.getMessage() for r in caplog.records)
    assert in_app(client, engine.pool.fetchval, "SELECT count(*) FROM index_checkpoint") == 0  # nothing half-written
    row = in_app(client, engine.pool.fetchrow, "SELECT * FROM job_request WHERE id = $1", job["id"])

    async def ranked():
        await index.ensure_fresh()
        return await index.read(rank, index, query_for(dict(row)), limit=10, offset=0)

    assert [m.worker_id for m in in_app(client, ranked).items] == [worker["id"]]


async def test_the_service_writes_after_a_full_load_and_starts_from_it(client, actors, registry, app):
    await registry.worker()
    await registry.worker()

    async def complete_checkpoints() -> int:
        return await app.state.engine.pool.fetchval("SELECT count(*) FROM index_checkpoint WHERE complete")

    async def writing_until_one_is_complete(index: CandidateIndex, load=None, **timing) -> None:
        writer = asyncio.create_task(keep_checkpoints(lambda: index, 3600, poll_seconds=0.02, **timing))
        try:
            if load is not None:
                await load()
            for _ in range(500):
                if await complete_checkpoints():
                    break
                await asyncio.sleep(0.02)
        finally:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    async def run():
        with tuned(app, index_checkpoint_seconds=3600):
            first = new_candidate_index(app)
            await writing_until_one_is_complete(first, first.ensure_fresh)
            second = new_candidate_index(app)
            await second.ensure_fresh()
            # With none of its schema left (an erasure deletes them), a process writes anew
            # without waiting for its period.
            await app.state.engine.run_ddl("DELETE FROM index_checkpoint")
            await writing_until_one_is_complete(second, missing_check_seconds=0.05)
            rewritten = await complete_checkpoints()
        with tuned(app, index_checkpoint_seconds=0):
            assert new_candidate_index(app).checkpoints is None
        return first, second, rewritten

    first, second, rewritten = in_app(client, run)
    assert rewritten == 1
    assert first.restored_from is None
    assert second.restored_from is not None and second.n == 2
    assert_same_index(second, first)


async def test_an_erasure_deletes_the_checkpoints_that_hold_her(client, actors, registry, app):
    from datetime import datetime, timezone

    from service.privacy import services as privacy

    person, worker = await registry.worker(real_name="司徒燕")
    await registry.worker(real_name="陈秀英")
    store = store_of(app)
    index = in_app(client, loaded, cold_index(app))
    assert in_app(client, store.write, index).written
    asked = await client.post(f"/api/v1/workers/{worker['id']}/erasure", headers=person.headers)
    assert asked.status_code == 200, asked.text
    days = app.state.settings.erasure_retention_days
    later = datetime.now(timezone.utc) + timedelta(days=days, minutes=1)
    assert in_app(client, lambda: privacy.erase_due(retention_days=days, now=later)) == [worker["id"]]
    assert in_app(client, app.state.engine.pool.fetchval, "SELECT count(*) FROM index_checkpoint") == 0
    # The next write reads the erasure first: the checkpoint holds her row as erased.
    assert in_app(client, store.write, index).written
    restored = in_app(
        client,
        loaded,
        CandidateIndex(app.state.taxonomy, DatabaseFacts(app.state.engine), busy=busy_periods, checkpoints=store),
    )
    assert restored.restored_from is not None and restored.caught_up_rows == 0
    row = restored.row_of(worker["id"])
    assert restored.surname_of(row) == "" and np.isnan(restored.col("lat")[row])
    # Her surname is gone from the checkpoint too, not only from her row.
    assert "司徒" in index.surnames and "司徒" not in restored.surnames and "陈" in restored.surnames


async def test_a_row_that_became_unreadable_is_not_saved_and_restores_as_a_full_load(client, actors, registry, app):
    _, worker = await registry.worker(real_name="欧阳丽华", location={"lat": 23.71, "lon": 113.05})
    await registry.worker(real_name="陈秀英")
    engine = app.state.engine
    index = in_app(client, loaded, cold_index(app))
    assert index.row_of(worker["id"]) is not None
    in_app(client, engine.run_ddl, f"UPDATE worker SET blacklisted_until = 'infinity' WHERE id = {worker['id']}")
    in_app(client, index.ensure_fresh)
    assert worker["id"] in index.skipped and index.row_of(worker["id"]) is not None  # kept, out of rankings
    store = store_of(app)
    assert in_app(client, store.write, index).written
    restored = in_app(
        client, loaded, CandidateIndex(app.state.taxonomy, DatabaseFacts(engine), busy=busy_periods, checkpoints=store)
    )
    assert restored.restored_from is not None
    # Neither her place nor her surname went into the checkpoint; the index is the full load's.
    assert restored.row_of(worker["id"]) is None and "欧阳" not in restored.surnames
    assert_same_index(restored, in_app(client, loaded, cold_index(app)))


def test_the_schema_key_names_the_code_as_loaded_not_as_on_disk_later(app, tmp_path, monkeypatch):
    from service.matching import checkpoint

    index = cold_index(app)
    before = checkpoint.schema_key(index, "rules")
    # A deploy in place replaces a file the columns are computed by, under this process.
    replaced = tmp_path / "facts.py"
    replaced.write_text("# another version\n")
    monkeypatch.setattr(checkpoint, "_modules_computing_columns", lambda: [replaced])
    assert checkpoint.schema_key(index, "rules") == before


async def test_a_migration_that_redefines_when_a_credential_counts_retires_the_checkpoints(
    client, actors, registry, app
):
    """`credential_counts` lives in the database; the loads call it. A checkpoint made under
    one definition is not restored under another, though no Python file changed."""
    await registry.worker()
    store = store_of(app)
    engine = app.state.engine
    with_store = lambda: CandidateIndex(  # noqa: E731
        app.state.taxonomy, DatabaseFacts(engine), busy=busy_periods, checkpoints=store
    )
    [row] = in_app(
        client,
        engine.run_querystring,
        QueryString("SELECT pg_get_functiondef('credential_counts'::regproc) AS definition"),
    )
    original = row["definition"]
    written = in_app(client, store.write, in_app(client, loaded, cold_index(app)))
    assert written.written and in_app(client, loaded, with_store()).restored_from == written.checkpoint_id
    redefined = original.replace("SELECT status", "SELECT /* another rule */ status", 1)
    assert redefined != original
    in_app(client, engine.run_ddl, redefined)
    try:
        assert in_app(client, loaded, with_store()).restored_from is None
        assert not in_app(client, store.has_one, cold_index(app))
    finally:
        in_app(client, engine.run_ddl, original)
    assert in_app(client, loaded, with_store()).restored_from == written.checkpoint_id


async def test_an_index_read_from_a_replica_writes_only_once_the_replica_has_caught_up(
    client, actors, registry, app, monkeypatch
):
    from service.matching import checkpoint

    await registry.worker()
    monkeypatch.setattr(checkpoint, "REPLICA_WAIT_SECONDS", 0.5)

    class Replica(DatabaseFacts):
        """The primary, standing in for a replica that has replayed up to `upto` calls' worth."""

        def __init__(self, engine, behind_for: int) -> None:
            super().__init__(engine)
            self.behind_for, self.asked = behind_for, []

        async def replayed(self, lsn: str) -> bool:
            self.asked.append(lsn)
            return len(self.asked) > self.behind_for

    def index_on(source) -> CandidateIndex:
        return CandidateIndex(app.state.taxonomy, source, busy=busy_periods, may_lag=True)

    store = store_of(app)
    behind = Replica(app.state.engine, behind_for=10_000)
    index = in_app(client, loaded, index_on(behind))
    result = in_app(client, store.write, index)
    assert not result.written and "replica" in result.reason and behind.asked
    catching_up = Replica(app.state.engine, behind_for=1)
    result = in_app(client, store.write, in_app(client, loaded, index_on(catching_up)))
    assert result.written and len(catching_up.asked) == 2 and catching_up.asked[0].count("/") == 1
    # A source that is the primary itself has always replayed what the primary wrote.
    primary = DatabaseFacts(app.state.engine)
    lsn = in_app(client, app.state.engine.pool.fetchval, "SELECT pg_current_wal_lsn()::text")
    assert in_app(client, primary.replayed, lsn)


async def test_the_writers_lock_ends_with_its_transaction_not_its_connection(client, actors, registry, app):
    """Behind a pooler in transaction mode the server connection outlives the writer's use of
    it: a lock held until the connection closes would stop every later write and erasure."""
    await registry.worker()
    index = in_app(client, loaded, cold_index(app))

    class Pooled:
        """A server connection as a pooler lends it: closing gives it back; the session goes on."""

        def __init__(self, connection) -> None:
            self.connection, self.closed = connection, []

        def __getattr__(self, name):
            return getattr(self.connection, name)

        async def close(self) -> None:
            self.closed.append(True)

    async def write_over_a_connection_kept_open():
        kept = Pooled(await app.state.engine.get_new_connection())
        other = await app.state.engine.get_new_connection()

        async def connect():
            return kept

        try:
            result = await CheckpointStore(connect, max_age_seconds=0).write(index)
            free = await other.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY)
            return result, kept.closed, free
        finally:
            await other.close()
            await kept.connection.close()

    result, closed, free = in_app(client, write_over_a_connection_kept_open)
    assert result.written and closed and free
