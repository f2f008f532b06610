"""Posting, reading, changing and cancelling job requests."""

from datetime import timedelta

from service.registry.domain import today_local
from tests.factories import request_body


async def test_an_employer_posts_reads_changes_and_cancels_a_request(client, actors):
    employer = await actors.employer()
    created = await client.post(
        "/api/v1/job-requests",
        headers=employer.headers,
        json=request_body(household_notes="三口之家，宝宝预产期12月，有一只猫", hours_per_week=40),
    )
    assert created.status_code == 201
    job = created.json()
    assert job["status"] == "open" and job["employer_id"] == employer.id and job["version"] == 1
    url = f"/api/v1/job-requests/{job['id']}"
    assert (await client.get(url, headers=employer.headers)).json()["household_notes"].startswith("三口之家")

    changed = await client.patch(url, headers=employer.headers, json={"budget_max": 9500, "skills_text": "催乳"})
    assert changed.status_code == 200
    assert changed.json()["budget_max"] == 9500 and changed.json()["version"] == 2
    assert changed.json()["understood"]["matched"][0]["code"] == "lactation_support"

    cancelled = await client.post(f"{url}/cancel", headers=employer.headers)
    assert cancelled.json()["status"] == "cancelled"
    assert (await client.patch(url, headers=employer.headers, json={"budget_max": 9900})).status_code == 409
    assert (await client.get(f"{url}/matches", headers=employer.headers)).status_code == 409


async def test_invalid_combinations_name_the_field(client, actors):
    employer = await actors.employer()
    start = today_local() + timedelta(days=5)
    cases = {
        "end_date": request_body(start_date=start.isoformat(), end_date=(start - timedelta(days=1)).isoformat()),
        "budget_min": request_body(budget_min=9000, budget_max=8000),
        "skills": request_body(skills=["flying"]),
        "district_code": request_body(district_code="449999"),
        "radius_km": request_body(radius_km=10),
        "start_date": request_body(start_date=(today_local() - timedelta(days=1)).isoformat(), end_date=None),
        "required_certificate.min_level": request_body(
            required_certificate={"occupation_code": "4-10-01-02", "min_level": 1}
        ),
        "category": request_body(category="gardening"),
        "budget_unit": request_body(budget_unit="week"),
    }
    for field, body in cases.items():
        response = await client.post("/api/v1/job-requests", headers=employer.headers, json=body)
        assert response.status_code in (400, 422), (field, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (field, response.json())


async def test_requests_are_private_to_their_owner(client, actors):
    employer, stranger = await actors.employer(), await actors.employer()
    job = (await client.post("/api/v1/job-requests", headers=employer.headers, json=request_body())).json()
    url = f"/api/v1/job-requests/{job['id']}"
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
    assert (await client.post(f"{url}/cancel", headers=stranger.headers)).status_code == 404
    person = await actors.worker_account()
    assert (await client.post("/api/v1/job-requests", headers=person.headers, json=request_body())).status_code == 403


async def test_a_housekeeping_agency_posts_for_a_client_household(client, actors):
    agency = await actors.agency("housekeeping")
    created = await client.post("/api/v1/job-requests", headers=agency.headers, json=request_body())
    assert created.status_code == 201
    job = created.json()
    assert job["agency_id"] == agency.id and job["employer_id"] is None
    assert (await client.get(f"/api/v1/job-requests/{job['id']}", headers=agency.headers)).status_code == 200
    other = await actors.agency("housekeeping", name="别家家政")
    assert (await client.get(f"/api/v1/job-requests/{job['id']}", headers=other.headers)).status_code == 404
    # An agency cannot attach a request to some employer's account.
    employer = await actors.employer()
    attached = await client.post(
        "/api/v1/job-requests", headers=agency.headers, json=request_body(employer_id=employer.id)
    )
    assert attached.status_code == 400 and attached.json()["errors"][0]["field"] == "employer_id"
