"""Dates outside their windows answer 422 naming the field, through the real routes."""

from datetime import date, timedelta

from service.registry.domain import today_local
from tests.factories import id_number, request_body, worker_body


def _problem_field(response, status=422):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in response.json()["errors"]]


async def test_out_of_window_dates_are_422_naming_the_field_and_save_nothing(client, actors):
    today = today_local()  # per test: a run may cross Guangdong midnight
    agency = await actors.agency("housekeeping")
    far = "9999-12-31"
    born = date(1985, 3, 7)
    body = worker_body(id_number=id_number(born)) | {"available_from": far}
    assert _problem_field(await client.post("/api/v1/workers", headers=agency.headers, json=body)) == ["available_from"]
    too_young = today - timedelta(days=365 * 15)
    body = worker_body(birth_date=too_young)
    assert _problem_field(await client.post("/api/v1/workers", headers=agency.headers, json=body)) == ["birth_date"]
    listed = await client.get("/api/v1/workers", headers=agency.headers)
    assert listed.status_code == 200 and listed.json()["total"] == 0

    person, record = await actors.registered_worker()
    got = await client.get(f"/api/v1/workers/{record['id']}", headers=person.headers)
    patched = await client.patch(
        f"/api/v1/workers/{record['id']}",
        headers=person.headers | {"If-Match": got.headers["etag"]},
        json={"available_from": far},
    )
    assert _problem_field(patched) == ["available_from"]
    check = await client.post(
        f"/api/v1/workers/{record['id']}/checks",
        headers=agency.headers,
        json={"kind": "background", "result": "passed", "checked_on": today.isoformat(), "valid_until": far},
    )
    assert _problem_field(check) == ["valid_until"]

    employer = await actors.employer()
    job = await client.post(
        "/api/v1/job-requests", headers=employer.headers, json=request_body(start_date=today.isoformat(), end_date=far)
    )
    assert _problem_field(job) == ["end_date"]
    assert (await client.get(f"/api/v1/workers/{record['id']}", headers=person.headers)).json()[
        "available_from"
    ] == record["available_from"]
