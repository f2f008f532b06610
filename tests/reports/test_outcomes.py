"""Training outcomes are kept per training by triggers; the report reads them. These tests
change the rows behind the outcomes and count again from the plain-Python copy."""

from datetime import timedelta

import pytest

from tests.bureau_data import seed_city
from tests.conftest import in_app
from tests.reports.test_reports import PERIOD, expected_training_row


@pytest.fixture
def city(client, app):
    async def seed():
        async with app.state.engine.pool.acquire() as connection:
            return await seed_city(connection)

    return in_app(client, seed)


def run_sql(client, app, statement: str, *args):
    async def run():
        async with app.state.engine.pool.acquire() as connection:
            return await connection.fetch(statement, *args)

    return in_app(client, run)


def assert_report_matches(report: dict, trainings: list[dict], city) -> None:
    assert report["rows"], report
    for row in report["rows"]:
        selected = [t for t in trainings if all(t[d] == row[d] for d in row["group"])]
        expected = expected_training_row(city, selected)
        assert {k: row[k] for k in expected} == expected, row


async def test_outcomes_follow_every_change_to_trainings_certificates_placements_and_reviews(client, app, actors, city):
    admin = await actors.admin()
    params = PERIOD | {"group_by": "programme"}
    before = (await client.get("/api/v1/reports/training-employment", headers=admin.headers, params=params)).json()
    total_before = next(r for r in before["rows"] if r["group"] == [])

    # A verified training goes back to pending; a pending one is verified.
    verified = [t for t in city.trainings if t["status"] == "verified"]
    pending = [t for t in city.trainings if t["status"] == "pending"]
    assert verified and pending
    run_sql(client, app, "UPDATE training SET status = 'pending' WHERE id = $1", verified[0]["id"])
    verified[0]["status"] = "pending"
    run_sql(client, app, "UPDATE training SET status = 'verified' WHERE id = $1", pending[0]["id"])
    pending[0]["status"] = "verified"
    # A certificate is revoked.
    revoked = next(c for c in city.certificates if c["status"] == "verified")
    run_sql(client, app, "UPDATE certificate SET status = 'revoked' WHERE id = $1", revoked["id"])
    revoked["status"] = "revoked"
    # A reviewed placement loses its review; another placement moves to a later start.
    reviewed = city.reviews.pop(0)
    run_sql(client, app, "DELETE FROM review WHERE placement = $1", reviewed["placement"])
    moved = next(p for p in city.placements if p["status"] == "active")
    moved["start_date"] += timedelta(days=150)
    run_sql(client, app, "UPDATE placement SET start_date = $2 WHERE id = $1", moved["id"], moved["start_date"])
    # A reviewed placement turns out a no-show: it no longer counts as a placement.
    no_show = next(p for p in city.placements if p["id"] in {r["placement"] for r in city.reviews})
    run_sql(client, app, "UPDATE placement SET status = 'no_show' WHERE id = $1", no_show["id"])
    city.placements.remove(no_show)
    city.reviews = [r for r in city.reviews if r["placement"] != no_show["id"]]

    after = (await client.get("/api/v1/reports/training-employment", headers=admin.headers, params=params)).json()
    assert_report_matches(after, [t for t in city.trainings if t["status"] == "verified"], city)
    total_after = next(r for r in after["rows"] if r["group"] == [])
    assert total_after != total_before
    # The kept facts are exactly what their definition gives from the rows now.
    drift = run_sql(
        client,
        app,
        "(SELECT * FROM training_outcome EXCEPT SELECT * FROM training_outcome_source) UNION ALL "
        "(SELECT * FROM training_outcome_source EXCEPT SELECT * FROM training_outcome)",
    )
    assert drift == []


async def test_a_company_sees_only_its_bound_workers_and_an_institution_only_its_trainings(client, app, actors, city):
    company = await actors.agency("housekeeping")
    other_company = await actors.agency("housekeeping")
    workers = sorted({t["worker"] for t in city.trainings})
    bound, unconfirmed = workers[:12], workers[12:15]
    run_sql(
        client, app, "UPDATE worker SET agency = $1, agency_confirmed_at = now() WHERE id = ANY($2)", company.id, bound
    )
    # A binding the worker has not confirmed does not show her trainings to the company.
    run_sql(client, app, "UPDATE worker SET agency = $1 WHERE id = ANY($2)", company.id, unconfirmed)

    params = PERIOD | {"group_by": "institution,month"}
    seen = await client.get("/api/v1/reports/training-employment", headers=company.headers, params=params)
    assert seen.status_code == 200, seen.text
    own = [t for t in city.trainings if t["status"] == "verified" and t["worker"] in bound]
    assert_report_matches(seen.json(), own, city)
    total = next(r for r in seen.json()["rows"] if r["group"] == [])
    assert 0 < total["trained"] < sum(t["status"] == "verified" for t in city.trainings)

    nothing = await client.get("/api/v1/reports/training-employment", headers=other_company.headers, params=params)
    assert [(r["group"], r["trained"]) for r in nothing.json()["rows"]] == [([], 0)]

    # An institution: the seeded trainings of one school move to this institution.
    trainer = await actors.agency("training")
    school = city.institutions[0]["id"]
    run_sql(client, app, "UPDATE training SET institution = $1 WHERE institution = $2", trainer.id, school)
    for t in city.trainings:
        if t["institution"] == school:
            t["institution"] = trainer.id
    mine = await client.get(
        "/api/v1/reports/training-employment",
        headers=trainer.headers,
        params=PERIOD | {"group_by": "programme,month"},
    )
    assert mine.status_code == 200, mine.text
    theirs = [t for t in city.trainings if t["status"] == "verified" and t["institution"] == trainer.id]
    assert theirs
    assert_report_matches(mine.json(), theirs, city)
