"""A placement that ends before its term frees its place: the household sees the filled
headcount drop, is told (event and page), and reopens the request with one action; the
worker who left is not offered the job again unless the household makes her an offer."""

from __future__ import annotations

from datetime import date, timedelta

from service.matching.tables import JobRequest
from service.registry.domain import TERM_DAYS, today_local
from tests.conftest import deliver, in_app
from tests.factories import matches, offer, post_request

HOOK = "http://127.0.0.1:9/vacancy"


async def place(client, person, employer, job, worker_id):
    made = await offer(client, employer, job["id"], worker_id)
    accepted = await client.post(f"/api/v1/offers/{made['id']}/accept", headers=person.headers)
    assert accepted.status_code == 201, accepted.text
    return made, accepted.json()


async def staffing(client, owner, request_id):
    response = await client.get(f"/api/v1/job-requests/{request_id}/staffing", headers=owner.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_resignation_frees_the_place_and_the_household_reopens_without_her(client, actors, registry):
    person, worker = await registry.worker(available_from=None)
    employer = await actors.employer()
    today = today_local()
    job = await post_request(
        client, employer, start_date=today.isoformat(), end_date=(today + timedelta(days=60)).isoformat()
    )
    interested = await client.post(f"/api/v1/job-requests/{job['id']}/interest", headers=person.headers)
    assert interested.status_code in (200, 201), interested.text
    _made, placement = await place(client, person, employer, job, worker["id"])
    full = await staffing(client, employer, job["id"])
    assert full["status"] == "filled" and full["filled"] == 1 and full["vacancies"] == 0
    assert full["can_reopen"] is False and full["left_early"] == []
    refused = await client.post(f"/api/v1/job-requests/{job['id']}/reopen", headers=employer.headers)
    assert refused.status_code == 409

    ended = await client.post(
        f"/api/v1/placements/{placement['id']}/resign",
        headers=person.headers,
        json={"category": "family", "reason": "家里有事"},
    )
    assert ended.status_code == 200, ended.text
    last_day = today + timedelta(days=7)
    view = await staffing(client, employer, job["id"])
    assert view["status"] == "filled" and view["filled"] == 0 and view["vacancies"] == 1
    assert view["can_reopen"] is True and view["reopen_from"] == (last_day + timedelta(days=1)).isoformat()
    assert [(p["placement_id"], p["status"], p["last_day"]) for p in view["left_early"]] == [
        (placement["id"], "resigned", last_day.isoformat())
    ]
    # Only the household (or its agency, or the bureau) reads it.
    assert (await client.get(f"/api/v1/job-requests/{job['id']}/staffing", headers=person.headers)).status_code == 403
    stranger = await actors.employer()
    assert (await client.get(f"/api/v1/job-requests/{job['id']}/staffing", headers=stranger.headers)).status_code == 404
    bad = await client.post(
        f"/api/v1/job-requests/{job['id']}/reopen",
        headers=employer.headers,
        json={"start_date": (today + timedelta(days=61)).isoformat()},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "start_date"

    reopened = await client.post(f"/api/v1/job-requests/{job['id']}/reopen", headers=employer.headers)
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status"] == "open" and reopened.json()["can_reopen"] is False
    request = (await client.get(f"/api/v1/job-requests/{job['id']}", headers=employer.headers)).json()
    assert request["status"] == "open" and request["start_date"] == (last_day + timedelta(days=1)).isoformat()
    # She is not brought back: her interest went when she left, and she has no live offer.
    interests = await client.get(f"/api/v1/job-requests/{job['id']}/interests", headers=employer.headers)
    assert worker["id"] not in [i["worker_id"] for i in interests.json()]
    mine = (await client.get("/api/v1/offers", headers=person.headers)).json()
    assert [o["status"] for o in mine if o["request_id"] == job["id"]] == ["accepted"]

    # A replacement fills it again; the one who left does not count.
    other_person, other = await registry.worker(available_from=None)
    assert other["id"] in [m["worker_id"] for m in (await matches(client, employer, job["id"]))["items"]]
    await place(client, other_person, employer, job, other["id"])
    again = await staffing(client, employer, job["id"])
    assert again["status"] == "filled" and again["filled"] == 1 and len(again["left_early"]) == 1


async def test_the_agency_that_posted_the_job_gets_a_vacancy_event(client, actors, registry, app, receiver):
    agency = await actors.agency("housekeeping")
    hook = await client.post(
        "/api/v1/webhooks", headers=agency.headers, json={"url": HOOK, "event_types": ["request.vacancy"]}
    )
    assert hook.status_code == 201, hook.text
    person, worker = await registry.worker(available_from=None)
    start = today_local() + timedelta(days=5)
    job = await post_request(
        client, agency, start_date=start.isoformat(), end_date=(start + timedelta(days=26)).isoformat()
    )
    _made, placement = await place(client, person, agency, job, worker["id"])
    cancelled = await client.post(
        f"/api/v1/placements/{placement['id']}/resign",
        headers=person.headers,
        json={"category": "health", "reason": "身体不适"},
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert deliver(client, app) == 1
    (delivery,) = receiver.to(HOOK)
    event = delivery.json
    assert event["type"] == "request.vacancy"
    assert event.get("data", event.get("payload")) == {
        "request_id": job["id"],
        "placement_id": placement["id"],
        "worker_id": worker["id"],
        "outcome": "cancelled",
        "last_day": start.isoformat(),
        "headcount": 1,
        "filled": 0,
    }
    view = await staffing(client, agency, job["id"])
    assert view["reopen_from"] == start.isoformat() and view["vacancies"] == 1


async def test_finishing_the_job_or_a_second_place_still_taken_is_no_vacancy(client, actors, registry):
    employer = await actors.employer()
    today = today_local()
    job = await post_request(
        client, employer, start_date=today.isoformat(), end_date=(today + timedelta(days=3)).isoformat(), headcount=2
    )
    first_person, first = await registry.worker(available_from=None)
    second_person, second = await registry.worker(available_from=None)
    _m1, p1 = await place(client, first_person, employer, job, first["id"])
    _m2, p2 = await place(client, second_person, employer, job, second["id"])
    assert (await staffing(client, employer, job["id"]))["filled"] == 2
    # Her last day is the job's last day: she finishes it, no place comes free.
    ended = await client.post(
        f"/api/v1/placements/{p1['id']}/resign",
        headers=first_person.headers,
        json={"category": "family", "reason": "x"},
    )
    assert ended.status_code == 200 and ended.json()["end_date"] == (today + timedelta(days=3)).isoformat()
    assert (await staffing(client, employer, job["id"]))["vacancies"] == 0
    # The household ends the other early: one place free.
    terminated = await client.post(
        f"/api/v1/placements/{p2['id']}/terminate", headers=employer.headers, json={"reason": "不合适"}
    )
    assert terminated.status_code == 200, terminated.text
    view = await staffing(client, employer, job["id"])
    assert view["filled"] == 1 and view["vacancies"] == 1 and view["can_reopen"] is True


async def test_after_accepting_her_own_placement_does_not_fail_her_on_dates(client, actors, registry):
    person, worker = await registry.worker(available_from=None)
    employer, other_household = await actors.employer(), await actors.employer()
    job = await post_request(client, employer)
    overlapping = await post_request(client, other_household)
    made = await offer(client, employer, job["id"], worker["id"])
    other_offer = await offer(client, other_household, overlapping["id"], worker["id"])
    before = (await client.get(f"/api/v1/offers/{made['id']}/explanation", headers=person.headers)).json()
    assert before["shown"] is True and before["failed"] == []
    accepted = await client.post(f"/api/v1/offers/{made['id']}/accept", headers=person.headers)
    assert accepted.status_code == 201, accepted.text

    response = await client.get(f"/api/v1/offers/{made['id']}/explanation", headers=person.headers)
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["shown"] is True and after["failed"] == [] and after["rank"] == 1
    assert after["total"] == before["total"] and after["match"]["worker_id"] == worker["id"]
    # Another household's job on the same dates: there her placement does keep her busy.
    elsewhere = (await client.get(f"/api/v1/offers/{other_offer['id']}/explanation", headers=person.headers)).json()
    assert elsewhere["shown"] is False and [f["filter"] for f in elsewhere["failed"]] == ["schedule"]


async def test_a_yuesao_replacement_is_booked_from_the_reopening_day_not_the_due_date(client, actors, registry):
    today = today_local()
    due_from, due_to = today, today + timedelta(days=10)
    person, worker = await registry.worker(available_from=None)
    employer = await actors.employer()
    job = await post_request(
        client,
        employer,
        start_date=due_from.isoformat(),
        end_date=None,
        due_date_from=due_from.isoformat(),
        due_date_to=due_to.isoformat(),
        live_in=True,
        budget_min=12800,
        budget_max=16800,
        budget_unit="term",
    )
    last = due_to + timedelta(days=TERM_DAYS - 1)
    _made, placement = await place(client, person, employer, job, worker["id"])
    assert placement["start_date"] == due_from.isoformat()
    ended = await client.post(
        f"/api/v1/placements/{placement['id']}/resign",
        headers=person.headers,
        json={"category": "family", "reason": "家里有事"},
    )
    assert ended.status_code == 200 and ended.json()["status"] == "resigned", ended.text
    view = await staffing(client, employer, job["id"])
    assert view["can_reopen"] is True
    reopen_from = date.fromisoformat(view["reopen_from"])
    assert due_from < reopen_from <= last

    # Not before the day after the one who left works, not after the last day of the 单.
    url = f"/api/v1/job-requests/{job['id']}/reopen"
    for start in (reopen_from - timedelta(days=1), last + timedelta(days=1)):
        bad = await client.post(url, headers=employer.headers, json={"start_date": start.isoformat()})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "start_date", (start, bad.text)
    reopened = await client.post(url, headers=employer.headers)
    assert reopened.status_code == 200, reopened.text
    request = (await client.get(f"/api/v1/job-requests/{job['id']}", headers=employer.headers)).json()
    assert request["service_period"] == {"first_day": reopen_from.isoformat(), "last_day": last.isoformat()}

    # Free only from the reopening day: she is not filtered out for the original due date.
    replacement_person, replacement = await registry.worker(available_from=reopen_from.isoformat())
    page = await matches(client, employer, job["id"])
    assert replacement["id"] in [m["worker_id"] for m in page["items"]]
    _made, second = await place(client, replacement_person, employer, job, replacement["id"])
    assert (second["start_date"], second["end_date"]) == (reopen_from.isoformat(), last.isoformat())


async def test_a_request_whose_dates_are_over_is_not_reopened(client, actors, registry):
    person, worker = await registry.worker(available_from=None)
    employer = await actors.employer()
    today = today_local()
    job = await post_request(
        client,
        employer,
        start_date=(today + timedelta(days=3)).isoformat(),
        end_date=(today + timedelta(days=10)).isoformat(),
    )
    _made, placement = await place(client, person, employer, job, worker["id"])
    # She cancels before it begins; then the job's dates pass.
    cancelled = await client.post(
        f"/api/v1/placements/{placement['id']}/resign",
        headers=person.headers,
        json={"category": "health", "reason": "身体不适"},
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text

    async def move_into_the_past():
        await JobRequest.update(
            {JobRequest.start_date: today - timedelta(days=20), JobRequest.end_date: today - timedelta(days=10)}
        ).where(JobRequest.id == job["id"])

    in_app(client, move_into_the_past)
    view = await staffing(client, employer, job["id"])
    assert view["vacancies"] == 1 and view["can_reopen"] is False
    refused = await client.post(f"/api/v1/job-requests/{job['id']}/reopen", headers=employer.headers)
    assert refused.status_code == 409, refused.text
