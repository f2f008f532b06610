"""From match to employment: an employer, a worker and an agency walk the whole loop."""

import asyncio
from datetime import timedelta

import pytest

from service.accounts.guards import Principal, Role
from service.employment import services as employment
from service.errors import Conflict
from service.registry.domain import today_local
from tests.conftest import in_app
from tests.factories import START, matches, offer, post_request


async def integrity_of(client, person, worker_id):
    response = await client.get(f"/api/v1/workers/{worker_id}/integrity", headers=person.headers)
    assert response.status_code == 200, response.text
    return response.json()


def let_expire(client, offer_id):
    """Move an offer's expiry into the past, as time would."""

    async def expire():
        from service.employment.services import _now
        from service.employment.tables import Offer

        await Offer.update({Offer.expires_at: _now() - timedelta(seconds=1)}).where(Offer.id == offer_id)

    in_app(client, expire)


async def test_offer_accept_complete_review_complain_appeal(client, actors, registry):
    person, worker = await registry.worker(real_name="陈秀英", certificate_level=4, available_from=None)
    employer = await actors.employer()
    today = today_local()
    job = await post_request(
        client, employer, start_date=today.isoformat(), end_date=(today + timedelta(days=26)).isoformat()
    )
    assert [m["worker_id"] for m in (await matches(client, employer, job["id"]))["items"]] == [worker["id"]]
    start = await integrity_of(client, person, worker["id"])
    assert start["stars"] in range(1, 6) and start["advice"] and start["history"]
    assert {c["name"] for c in start["components"]} >= {"identity", "certificate", "reviews", "complaints"}

    made = await offer(client, employer, job["id"], worker["id"], message="月子期间住家")
    assert made["status"] == "offered" and made["wage"] == 9000
    mine = await client.get("/api/v1/offers", headers=person.headers)
    assert [o["id"] for o in mine.json()] == [made["id"]]

    accepted = await client.post(f"/api/v1/offers/{made['id']}/accept", headers=person.headers)
    assert accepted.status_code == 201, accepted.text
    placement = accepted.json()
    assert placement["status"] == "active" and placement["start_date"] == job["start_date"]
    # Only now does the household see her name and phone.
    seen = (await client.get(f"/api/v1/placements/{placement['id']}", headers=employer.headers)).json()
    assert seen["worker_contact"] == {"name": "陈秀英", "phone": person.phone}
    assert (await client.get(f"/api/v1/job-requests/{job['id']}", headers=employer.headers)).json()[
        "status"
    ] == "filled"

    # Reviews wait for the end of the placement.
    early = await client.post(
        f"/api/v1/placements/{placement['id']}/reviews",
        headers=employer.headers,
        json={"ratings": {"quality": 5, "communication": 5, "reliability": 5, "honesty": 5}},
    )
    assert early.status_code == 409
    done = await client.post(f"/api/v1/placements/{placement['id']}/complete", headers=employer.headers, json={})
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert (
        await client.post(f"/api/v1/placements/{placement['id']}/complete", headers=employer.headers)
    ).status_code == 409

    review = await client.post(
        f"/api/v1/placements/{placement['id']}/reviews",
        headers=employer.headers,
        json={
            "ratings": {"quality": 5, "communication": 5, "reliability": 5, "honesty": 5},
            "comment": "细心负责，宝宝照顾得很好",
        },
    )
    assert review.status_code == 201
    assert (
        await client.post(
            f"/api/v1/placements/{placement['id']}/reviews",
            headers=employer.headers,
            json={"ratings": {"quality": 1, "communication": 1, "reliability": 1, "honesty": 1}},
        )
    ).status_code == 409
    her_review = await client.post(
        f"/api/v1/placements/{placement['id']}/reviews",
        headers=person.headers,
        json={"ratings": {"respect": 5, "pay_on_time": 4, "working_conditions": 4, "honesty": 5}},
    )
    assert her_review.status_code == 201 and her_review.json()["author_role"] == "worker"
    after_review = await integrity_of(client, person, worker["id"])
    # One five-star review moves the Bayesian average from 4.0 to 4.25 — not to 5.
    reviews = next(c for c in after_review["components"] if c["name"] == "reviews")
    assert reviews["points"] == pytest.approx((4.25 - 1) / 4 * 35, abs=0.1)
    assert after_review["score"] > start["score"]

    # A serious complaint, substantiated: she is blacklisted and leaves matching; her record stays.
    complaint = await client.post(
        f"/api/v1/placements/{placement['id']}/complaints",
        headers=employer.headers,
        json={"category": "theft", "description": "家中首饰丢失，监控显示……"},
    )
    assert complaint.status_code == 201 and complaint.json()["serious"] is True
    admin = registry.admin
    decided = await client.post(
        f"/api/v1/complaints/{complaint.json()['id']}/decision",
        headers=admin.headers,
        json={"outcome": "substantiated", "reason": "经调查属实"},
    )
    assert decided.status_code == 200 and decided.json()["decided_by"] == admin.id and decided.json()["decided_at"]
    me = (await client.get("/api/v1/workers/me", headers=person.headers)).json()
    assert me["blacklisted_until"] is not None
    other_job = await post_request(
        client,
        employer,
        start_date=(START + timedelta(days=60)).isoformat(),
        end_date=(START + timedelta(days=90)).isoformat(),
    )
    assert (await matches(client, employer, other_job["id"]))["items"] == []
    penalised = await integrity_of(client, person, worker["id"])
    assert next(c for c in penalised["components"] if c["name"] == "complaints")["points"] == pytest.approx(
        -30, abs=0.1
    )
    assert penalised["score"] < after_review["score"]

    # Employers see the summary only: no complaint text, no details.
    summary_for_employer = await client.get(f"/api/v1/workers/{worker['id']}/integrity", headers=employer.headers)
    assert summary_for_employer.status_code == 404  # blacklisted: not visible to employers at all

    appeal = await client.post(
        f"/api/v1/complaints/{complaint.json()['id']}/appeal",
        headers=person.headers,
        json={"text": "首饰后来在家中沙发下找到，有照片为证"},
    )
    assert appeal.status_code == 200 and appeal.json()["appeal_status"] == "pending"
    again = await client.post(
        f"/api/v1/complaints/{complaint.json()['id']}/appeal", headers=person.headers, json={"text": "再次申诉再次申诉"}
    )
    assert again.status_code == 409
    upheld = await client.post(
        f"/api/v1/complaints/{complaint.json()['id']}/appeal-decision",
        headers=admin.headers,
        json={"outcome": "upheld", "reason": "物品已找回，投诉不成立"},
    )
    assert upheld.json()["status"] == "overturned" and upheld.json()["appeal_decided_by"] == admin.id
    assert (await client.get("/api/v1/workers/me", headers=person.headers)).json()["blacklisted_until"] is None
    restored = await integrity_of(client, person, worker["id"])
    assert restored["score"] == after_review["score"]
    assert [h["score"] for h in restored["history"]][:3] == [
        restored["score"],
        penalised["score"],
        after_review["score"],
    ]

    summary = await client.get(f"/api/v1/workers/{worker['id']}/integrity", headers=employer.headers)
    assert summary.status_code == 200
    assert set(summary.json()) == {"worker_id", "score", "stars", "components", "algorithm_version"}
    assert "首饰" not in summary.text


async def test_only_the_worker_accepts_and_offers_expire(client, actors, registry, app):
    person, worker = await registry.worker()
    employer = await actors.employer()
    job = await post_request(client, employer)
    made = await offer(client, employer, job["id"], worker["id"])
    assert (await client.post(f"/api/v1/offers/{made['id']}/accept", headers=employer.headers)).status_code == 403
    other_person, _ = await registry.worker()
    assert (await client.post(f"/api/v1/offers/{made['id']}/accept", headers=other_person.headers)).status_code == 404
    duplicate = await client.post(
        f"/api/v1/job-requests/{job['id']}/offers", headers=employer.headers, json={"worker_id": worker["id"]}
    )
    assert duplicate.status_code == 409  # one live offer per request and worker

    let_expire(client, made["id"])
    assert (await client.get(f"/api/v1/offers/{made['id']}", headers=person.headers)).json()["status"] == "expired"
    assert (await client.post(f"/api/v1/offers/{made['id']}/accept", headers=person.headers)).status_code == 409
    renewed = await offer(client, employer, job["id"], worker["id"])
    withdrawn = await client.post(f"/api/v1/offers/{renewed['id']}/withdraw", headers=employer.headers)
    assert withdrawn.json()["status"] == "withdrawn"
    assert (await client.post(f"/api/v1/offers/{renewed['id']}/accept", headers=person.headers)).status_code == 409


async def test_concurrent_accepts_of_overlapping_jobs_create_one_placement(client, actors, registry):
    person, worker = await registry.worker()
    first_employer, second_employer = await actors.employer(), await actors.employer()
    first_job = await post_request(client, first_employer)
    second_job = await post_request(
        client,
        second_employer,
        start_date=(START + timedelta(days=7)).isoformat(),
        end_date=(START + timedelta(days=40)).isoformat(),
    )
    offers = [
        await offer(client, first_employer, first_job["id"], worker["id"]),
        await offer(client, second_employer, second_job["id"], worker["id"]),
    ]
    her = Principal(role=Role.WORKER, user_id=person.id)

    async def accept_both_at_once():
        return await asyncio.gather(*(employment.accept_offer(her, o["id"]) for o in offers), return_exceptions=True)

    results = in_app(client, accept_both_at_once)
    placements = [r for r in results if isinstance(r, dict)]
    refusals = [r for r in results if isinstance(r, Conflict)]
    assert len(placements) == 1 and len(refusals) == 1, results
    assert "overlapping" in refusals[0].detail or "no longer open" in refusals[0].detail

    # Through the API, the loser gets a clear 409; her calendar now blocks the dates.
    loser = next(o for o in offers if o["id"] != placements[0]["offer"])
    response = await client.post(f"/api/v1/offers/{loser['id']}/accept", headers=person.headers)
    assert response.status_code == 409
    # Days inside both jobs: whichever acceptance won, they are taken.
    third = await post_request(
        client,
        second_employer,
        start_date=(START + timedelta(days=8)).isoformat(),
        end_date=(START + timedelta(days=10)).isoformat(),
    )
    page = await matches(client, second_employer, third["id"])
    assert page["items"] == [] and {e["filter"]: e["removed"] for e in page["excluded"]}["schedule"] == 1


async def started_today(client, employer):
    """A request whose job starts today: the earliest day a no-show can be recorded."""
    today = today_local()
    return await post_request(
        client, employer, start_date=today.isoformat(), end_date=(today + timedelta(days=26)).isoformat()
    )


async def test_a_no_show_is_recorded_and_costs_integrity(client, actors, registry):
    person, worker = await registry.worker(available_from=None)
    employer = await actors.employer()
    job = await started_today(client, employer)
    placement = (
        await client.post(
            f"/api/v1/offers/{(await offer(client, employer, job['id'], worker['id']))['id']}/accept",
            headers=person.headers,
        )
    ).json()
    before = await integrity_of(client, person, worker["id"])
    ended = await client.post(
        f"/api/v1/placements/{placement['id']}/terminate",
        headers=employer.headers,
        json={"reason": "约定日期未到岗", "no_show": True},
    )
    assert ended.json()["status"] == "no_show" and ended.json()["end_reason"] == "约定日期未到岗"
    after = await integrity_of(client, person, worker["id"])
    assert next(c for c in after["components"] if c["name"] == "no_shows")["points"] == pytest.approx(-10, abs=0.1)
    assert after["score"] == before["score"] - 10
    no_review = await client.post(
        f"/api/v1/placements/{placement['id']}/reviews",
        headers=employer.headers,
        json={"ratings": {"quality": 1, "communication": 1, "reliability": 1, "honesty": 1}},
    )
    assert no_review.status_code == 409  # a placement that never happened cannot be reviewed


async def test_strangers_cannot_touch_placements_or_complaints(client, actors, registry):
    person, worker = await registry.worker()
    employer, stranger = await actors.employer(), await actors.employer()
    job = await post_request(client, employer)
    placement = (
        await client.post(
            f"/api/v1/offers/{(await offer(client, employer, job['id'], worker['id']))['id']}/accept",
            headers=person.headers,
        )
    ).json()
    url = f"/api/v1/placements/{placement['id']}"
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
    assert (await client.post(f"{url}/complete", headers=stranger.headers)).status_code == 404
    assert (await client.post(f"{url}/complete", headers=person.headers)).status_code == 403
    # She may complain, about the household (never about herself); a stranger may not.
    hers = await client.post(
        f"{url}/complaints", headers=person.headers, json={"category": "other", "description": "雇主不按时付款"}
    )
    assert hers.status_code == 201 and hers.json()["against"] == "employer"
    assert (
        await client.post(
            f"{url}/complaints", headers=stranger.headers, json={"category": "other", "description": "雇主不按时付款"}
        )
    ).status_code == 404
    complaint = (
        await client.post(
            f"{url}/complaints",
            headers=employer.headers,
            json={"category": "negligence", "description": "多次迟到早退"},
        )
    ).json()
    assert (
        await client.post(
            f"/api/v1/complaints/{complaint['id']}/decision",
            headers=employer.headers,
            json={"outcome": "substantiated", "reason": "x"},
        )
    ).status_code == 403
    assert (await client.get(f"/api/v1/complaints/{complaint['id']}", headers=stranger.headers)).status_code == 404
    # Not substantiated yet: nothing to appeal.
    assert (
        await client.post(
            f"/api/v1/complaints/{complaint['id']}/appeal", headers=person.headers, json={"text": "我没有迟到早退"}
        )
    ).status_code == 409


async def test_a_placement_that_has_not_started_cannot_be_completed_or_reviewed(client, actors, registry):
    person, worker = await registry.worker()
    employer = await actors.employer()
    job = await post_request(client, employer)  # starts in ten days
    made = await offer(client, employer, job["id"], worker["id"])
    placement = (await client.post(f"/api/v1/offers/{made['id']}/accept", headers=person.headers)).json()
    url = f"/api/v1/placements/{placement['id']}"
    assert (await client.post(f"{url}/complete", headers=employer.headers)).status_code == 409
    assert (
        await client.post(f"{url}/terminate", headers=employer.headers, json={"reason": "计划有变"})
    ).status_code == 200
    review = await client.post(
        f"{url}/reviews",
        headers=employer.headers,
        json={"ratings": {"quality": 5, "communication": 5, "reliability": 5, "honesty": 5}},
    )
    assert review.status_code == 409  # nothing happened that could be reviewed


async def test_a_blacklisted_worker_cannot_accept_an_earlier_offer(client, actors, registry):
    person, worker = await registry.worker()
    employer = await actors.employer()
    job = await post_request(client, employer)
    made = await offer(client, employer, job["id"], worker["id"])
    await client.post(
        f"/api/v1/workers/{worker['id']}/checks",
        headers=registry.admin.headers,
        json={"kind": "background", "result": "failed", "checked_on": today_local().isoformat()},
    )
    assert (await client.post(f"/api/v1/offers/{made['id']}/accept", headers=person.headers)).status_code == 409
    withdrawn_consent, other = await registry.worker()
    second = await offer(client, employer, job["id"], other["id"])
    await client.delete(f"/api/v1/workers/{other['id']}/consent", headers=withdrawn_consent.headers)
    assert (
        await client.post(f"/api/v1/offers/{second['id']}/accept", headers=withdrawn_consent.headers)
    ).status_code == 409


async def test_an_expired_offer_cannot_be_declined_and_one_complaint_per_kind(client, actors, registry):
    person, worker = await registry.worker(available_from=None)
    employer = await actors.employer()
    today = today_local()
    job = await post_request(
        client, employer, start_date=today.isoformat(), end_date=(today + timedelta(days=26)).isoformat()
    )
    made = await offer(client, employer, job["id"], worker["id"])

    let_expire(client, made["id"])
    assert (await client.post(f"/api/v1/offers/{made['id']}/decline", headers=person.headers)).status_code == 409
    renewed = await offer(client, employer, job["id"], worker["id"])
    placement = (await client.post(f"/api/v1/offers/{renewed['id']}/accept", headers=person.headers)).json()
    body = {"category": "negligence", "description": "多次迟到早退"}
    url = f"/api/v1/placements/{placement['id']}/complaints"
    assert (await client.post(url, headers=employer.headers, json=body)).status_code == 201
    assert (await client.post(url, headers=employer.headers, json=body)).status_code == 409


async def test_a_no_show_cannot_be_recorded_before_the_job_starts(client, actors, registry):
    person, worker = await registry.worker()
    employer = await actors.employer()
    job = await post_request(client, employer)  # starts in ten days
    placement = (
        await client.post(
            f"/api/v1/offers/{(await offer(client, employer, job['id'], worker['id']))['id']}/accept",
            headers=person.headers,
        )
    ).json()
    before = await integrity_of(client, person, worker["id"])
    url = f"/api/v1/placements/{placement['id']}"
    early = await client.post(f"{url}/terminate", headers=employer.headers, json={"reason": "未到岗", "no_show": True})
    assert early.status_code == 409, early.text
    assert early.headers["content-type"].startswith("application/problem+json")
    after = await integrity_of(client, person, worker["id"])
    assert after["score"] == before["score"]
    assert next(c for c in after["components"] if c["name"] == "no_shows")["points"] == 0
    placement_now = (await client.get(url, headers=employer.headers)).json()
    assert placement_now["status"] == "active"
    # Calling it off before it starts is still a plain termination, with no penalty.
    off = await client.post(f"{url}/terminate", headers=employer.headers, json={"reason": "计划有变"})
    assert off.status_code == 200 and off.json()["status"] == "terminated"
    assert (await integrity_of(client, person, worker["id"]))["score"] == before["score"]


async def test_penalties_fade_and_aged_ratings_are_refreshed(client, actors, registry):
    person, worker = await registry.worker(available_from=None)
    employer = await actors.employer()
    job = await started_today(client, employer)
    placement = (
        await client.post(
            f"/api/v1/offers/{(await offer(client, employer, job['id'], worker['id']))['id']}/accept",
            headers=person.headers,
        )
    ).json()
    await client.post(
        f"/api/v1/placements/{placement['id']}/terminate",
        headers=employer.headers,
        json={"reason": "未到岗", "no_show": True},
    )
    fresh = await integrity_of(client, person, worker["id"])

    async def half_a_year_later():
        from service.employment import integrity
        from service.employment.services import _now
        from service.employment.tables import IntegrityRating, Placement

        await Placement.update({Placement.ended_at: _now() - timedelta(days=365)}).where(
            Placement.id == placement["id"]
        )
        await IntegrityRating.update({IntegrityRating.computed_at: _now() - timedelta(days=2)}).where(
            IntegrityRating.worker == worker["id"]
        )
        return await integrity.refresh_aged(), await integrity.refresh_aged()

    assert in_app(client, half_a_year_later) == (1, 0)  # refreshed once, then up to date
    aged = await integrity_of(client, person, worker["id"])
    no_shows = next(c for c in aged["components"] if c["name"] == "no_shows")
    assert no_shows["points"] == pytest.approx(-5.0, abs=0.1)  # one year later: half the penalty
    assert aged["score"] == fresh["score"] + 5 and aged["history"][0]["reason"] == "aged"
