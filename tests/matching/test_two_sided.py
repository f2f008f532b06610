"""The worker's side of matching: the open requests she fits, ranked and explained for her,
her interest, and the household seeing it."""

from __future__ import annotations

from datetime import timedelta

from service.registry.domain import today_local
from tests.factories import START, matches, post_request

MISSING = 999_999


async def open_requests(client, person, **params):
    response = await client.get("/api/v1/workers/me/open-requests", headers=person.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_she_sees_the_requests_she_fits_ranked_for_her_and_nothing_private(client, actors, registry):
    person, _ = await registry.worker(available_from=None)
    employer = await actors.employer()
    modest = await post_request(
        client, employer, budget_min=6000, budget_max=7000, household_notes="住清城区松岗路18号3栋，家里有猫"
    )
    generous = await post_request(client, employer, budget_min=9000, budget_max=11000)
    await post_request(client, employer, worker_visibility="hidden", budget_max=12000)
    await post_request(client, employer, category="elderly")
    await post_request(client, employer, district_code="440106")  # Guangzhou: not her area
    certified = await post_request(
        client, employer, required_certificate={"occupation_code": "4-10-01-06", "min_level": 3}
    )

    page = await open_requests(client, person)
    assert [item["request"]["id"] for item in page["items"]] == [generous["id"], modest["id"]]
    assert page["total"] == 2 and page["notices"] == []
    best = page["items"][0]
    assert best["fits"] and best["lacks"] == []
    assert [c["name"] for c in best["components"]] == ["wage", "distance", "skills", "dates", "standing"]
    assert abs(sum(c["contribution"] for c in best["components"]) - best["score"]) < 1e-3
    wage = {item["request"]["id"]: next(c for c in item["components"] if c["name"] == "wage") for item in page["items"]}
    assert wage[generous["id"]]["value"] == 1.0 and wage[modest["id"]]["value"] < 1.0
    assert best["distance_km"] is None  # the request gave no location: district only
    assert best["request"]["district"] == {"code": "441802", "name_zh": "清城区"}
    # What she lacks against the household's wishes: 催乳 is asked and she does not offer it.
    assert any("催乳" in u or "lactation" in u or "泌乳" in u for u in best["unmet"]), best["unmet"]
    # Nothing about the household beyond what she needs: no notes, no name, no coordinates.
    text = str(page)
    for private in ("松岗路", "household_notes", "employer", "林女士", "lat", "skills_text"):
        assert private not in text, private

    # With include_near, the request she lacks only a certificate for, and what she lacks.
    near = await open_requests(client, person, include_near="true")
    lacking = [item for item in near["items"] if not item["fits"]]
    assert [item["request"]["id"] for item in lacking] == [certified["id"]]
    assert len(lacking[0]["lacks"]) == 1 and lacking[0]["lacks"][0].startswith("无所需证书")
    assert near["items"][-1]["request"]["id"] == certified["id"]  # fitting ones first


async def test_interest_is_idempotent_and_the_household_sees_it_flagged(client, actors, registry):
    person, worker = await registry.worker(available_from=None)
    other, _ = await registry.worker(available_from=None, real_name="李美玲")
    employer = await actors.employer()
    job = await post_request(client, employer)
    hidden = await post_request(client, employer, worker_visibility="hidden")
    before = await matches(client, employer, job["id"])
    assert before["interested_count"] == 0 and not any(m["interested"] for m in before["items"])

    url = f"/api/v1/job-requests/{job['id']}/interest"
    first = await client.post(url, headers=person.headers)
    again = await client.post(url, headers=person.headers)
    assert first.status_code == again.status_code == 200, first.text
    assert first.json() == again.json()
    assert first.json()["interested"] and first.json()["worker_id"] == worker["id"]

    page = await matches(client, employer, job["id"])
    flagged = {m["worker_id"]: m["interested"] for m in page["items"]}
    assert flagged[worker["id"]] is True and list(flagged.values()).count(True) == 1
    assert page["interested_count"] == 1
    listed = await client.get(f"/api/v1/job-requests/{job['id']}/interests", headers=employer.headers)
    assert listed.status_code == 200
    assert [(w["worker_id"], w["display_name"]) for w in listed.json()] == [(worker["id"], "陈阿姨")]
    assert "陈秀英" not in listed.text
    mine = await open_requests(client, person)
    assert [i["interested"] for i in mine["items"]] == [True]
    assert [i["interested"] for i in (await open_requests(client, other))["items"]] == [False]

    # A request workers may not find, or that does not exist: the same 404.
    for target in (hidden["id"], MISSING):
        refused = await client.post(f"/api/v1/job-requests/{target}/interest", headers=person.headers)
        assert refused.status_code == 404 and "no such job request" in refused.text
        gone = await client.delete(f"/api/v1/job-requests/{target}/interest", headers=person.headers)
        assert gone.status_code == 404
    # The household cannot say it for her; another household cannot read the list.
    assert (await client.post(url, headers=employer.headers)).status_code == 403
    stranger = await actors.employer()
    assert (
        await client.get(f"/api/v1/job-requests/{job['id']}/interests", headers=stranger.headers)
    ).status_code == 404

    # Withdrawing, twice: the flag goes at once (the cached page is not served).
    assert (await client.delete(url, headers=person.headers)).status_code == 204
    assert (await client.delete(url, headers=person.headers)).status_code == 204
    page = await matches(client, employer, job["id"])
    assert page["interested_count"] == 0 and not any(m["interested"] for m in page["items"])


async def test_interest_of_a_worker_who_withdrew_consent_is_not_shown(client, actors, registry):
    person, worker = await registry.worker(available_from=None)
    employer = await actors.employer()
    job = await post_request(client, employer)
    assert (await client.post(f"/api/v1/job-requests/{job['id']}/interest", headers=person.headers)).status_code == 200
    assert (await client.delete(f"/api/v1/workers/{worker['id']}/consent", headers=person.headers)).status_code == 200
    listed = await client.get(f"/api/v1/job-requests/{job['id']}/interests", headers=employer.headers)
    assert listed.json() == []
    page = await open_requests(client, person)
    assert page["items"] == [] and page["notices"] and "授权" in page["notices"][0]
    # And she cannot say it again while unseen.
    again = await client.post(f"/api/v1/job-requests/{job['id']}/interest", headers=person.headers)
    assert again.status_code == 404


async def test_her_side_and_the_households_ranking_agree_on_who_fits_what(client, actors, registry):
    """For every worker and every request workers may find: she lists it exactly when its
    household's ranking lists her."""
    later = (START + timedelta(days=40)).isoformat()
    people = [
        await registry.worker(available_from=None),
        await registry.worker(available_from=None, live_in=False),
        await registry.worker(available_from=None, district_codes=["441881"], location={"lat": 24.19, "lon": 113.41}),
        await registry.worker(available_from=None, health="home", categories=["household"]),
        await registry.worker(available_from=None, certificate_level=4),
        await registry.worker(available_from=later),
        await registry.worker(available_from=None, consent=False),
    ]
    employer = await actors.employer()
    today = today_local()
    requests = [
        await post_request(client, employer),
        await post_request(client, employer, live_in=True),
        await post_request(client, employer, required_certificate={"occupation_code": "4-10-01-06", "min_level": 4}),
        await post_request(client, employer, search_scope="city"),
        await post_request(client, employer, district_code="441881"),
        await post_request(
            client, employer, location={"lat": 23.72, "lon": 113.08}, radius_km=15, district_code="441881"
        ),
        await post_request(client, employer, category="household", budget_max=6000, budget_min=3000),
        await post_request(client, employer, start_date=(today + timedelta(days=60)).isoformat(), end_date=None),
        await post_request(client, employer, background_check_required=True),
    ]
    household_side = set()
    for job in requests:
        page = await matches(client, employer, job["id"], limit=100)
        household_side |= {(m["worker_id"], job["id"]) for m in page["items"]}
    worker_side = set()
    for person, record in people:
        page = await open_requests(client, person, limit=100)
        worker_side |= {(record["id"], item["request"]["id"]) for item in page["items"] if item["fits"]}
    assert worker_side == household_side
    assert len(household_side) >= 10  # the comparison is not vacuous
