"""One unreadable worker row never stops matching for everyone else."""

import logging

from prometheus_client import REGISTRY

from service.app import new_candidate_index
from tests.conftest import in_app
from tests.factories import matches, post_request


def sql(client, app, statement, *args):
    async def run():
        async with app.state.engine.pool.acquire() as conn:
            await conn.execute(statement, *args)

    in_app(client, run)


def rebuild_index(client, app):
    """What a restart does: a new process loads the whole index in bulk."""

    async def rebuild():
        app.state.matcher = new_candidate_index(app)
        await app.state.matcher.ensure_fresh()

    in_app(client, rebuild)


async def test_an_infinite_date_is_skipped_logged_counted_and_reported(client, actors, registry, app, caplog):
    _, good = await registry.worker(real_name="陈秀英")
    _, bad = await registry.worker(real_name="李美玲")
    employer = await actors.employer()
    job = await post_request(client, employer)
    assert {i["worker_id"] for i in (await matches(client, employer, job["id"]))["items"]} == {good["id"], bad["id"]}

    sql(client, app, "UPDATE worker SET available_from = 'infinity' WHERE id = $1", bad["id"])
    caplog.clear()
    rebuild_index(client, app)

    page = await matches(client, employer, job["id"])
    assert [i["worker_id"] for i in page["items"]] == [good["id"]]
    skipped_lines = [r.getMessage() for r in caplog.records if "skipped worker" in r.getMessage()]
    # (Logged again whenever a refresh re-reads the row.)
    assert skipped_lines and set(skipped_lines) == {
        f"candidate index: skipped worker {bad['id']}, its row cannot be read (available_from out of range)"
    }
    assert REGISTRY.get_sample_value("nanyue_matcher_skipped_rows") == 1
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["matcher"] == {"loaded": True, "workers": 1, "skipped_rows": 1, "degraded": True}

    # Fixed in the table: the next refresh reads her again and the flag clears.
    sql(client, app, "UPDATE worker SET available_from = NULL WHERE id = $1", bad["id"])
    page = await matches(client, employer, job["id"])
    assert {i["worker_id"] for i in page["items"]} == {good["id"], bad["id"]}
    assert (await client.get("/ready")).json()["matcher"]["skipped_rows"] == 0
    assert REGISTRY.get_sample_value("nanyue_matcher_skipped_rows") == 0


async def test_a_row_turning_unreadable_after_the_load_is_taken_out(client, actors, registry, app):
    _, good = await registry.worker(real_name="陈秀英")
    _, bad = await registry.worker(real_name="李美玲")
    employer = await actors.employer()
    job = await post_request(client, employer)
    assert len((await matches(client, employer, job["id"]))["items"]) == 2  # the index is loaded

    # A credential date of the same kind, this time read by the incremental refresh.
    sql(client, app, "UPDATE worker_check SET valid_until = '-infinity' WHERE worker = $1", bad["id"])
    sql(client, app, "UPDATE worker SET updated_at = now() WHERE id = $1", bad["id"])
    page = await matches(client, employer, job["id"])
    assert [i["worker_id"] for i in page["items"]] == [good["id"]]
    assert app.state.matcher.skipped == {bad["id"]: "health_until out of range"}

    # And the bulk load of a restart skips the same row, in the same words.
    rebuild_index(client, app)
    assert [i["worker_id"] for i in (await matches(client, employer, job["id"]))["items"]] == [good["id"]]
    assert app.state.matcher.skipped == {bad["id"]: "health_until out of range"}


async def test_coordinates_off_the_globe_do_not_break_the_bulk_load(client, actors, registry, app, caplog):
    _, good = await registry.worker(real_name="陈秀英")
    _, bad = await registry.worker(real_name="李美玲")
    sql(client, app, "UPDATE worker SET lat = 1e300, blacklisted_until = 'infinity' WHERE id = $1", bad["id"])
    caplog.set_level(logging.ERROR)
    rebuild_index(client, app)
    assert app.state.matcher.skipped == {bad["id"]: "blacklisted_until out of range, lat out of range"}
    employer = await actors.employer()
    job = await post_request(client, employer)
    assert [i["worker_id"] for i in (await matches(client, employer, job["id"]))["items"]] == [good["id"]]
