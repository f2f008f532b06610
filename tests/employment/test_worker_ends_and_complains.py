"""The worker's side of employment: she ends a placement with notice, and complains about
an employer through the same complaint flow, decided by the bureau."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.registry.domain import today_local
from tests.factories import matches, offer, post_request


async def integrity_of(client, person, worker_id):
    response = await client.get(f"/api/v1/workers/{worker_id}/integrity", headers=person.headers)
    assert response.status_code == 200, response.text
    return response.json()


def no_show_points(rating):
    return next(c for c in rating["components"] if c["name"] == "no_shows")["points"]


async def placed(client, actors, registry, *, start_in_days=0, days=26, **request):
    """She is placed in a job starting `start_in_days` from today."""
    person, worker = await registry.worker(available_from=None)
    employer = await actors.employer()
    start = today_local() + timedelta(days=start_in_days)
    job = await post_request(
        client,
        employer,
        start_date=start.isoformat(),
        end_date=(start + timedelta(days=days)).isoformat(),
        **request,
    )
    made = await offer(client, employer, job["id"], worker["id"])
    accepted = await client.post(f"/api/v1/offers/{made['id']}/accept", headers=person.headers)
    assert accepted.status_code == 201, accepted.text
    return person, worker, employer, accepted.json()


async def resign(client, person, placement_id, **body):
    return await client.post(f"/api/v1/placements/{placement_id}/resign", headers=person.headers, json=body)


async def test_with_the_notice_owed_she_leaves_on_her_last_day_at_no_cost(client, actors, registry):
    person, worker, employer, placement = await placed(client, actors, registry)
    before = await integrity_of(client, person, worker["id"])
    ended = await resign(client, person, placement["id"], category="family", reason="家里老人生病需要照顾")
    assert ended.status_code == 200, ended.text
    body = ended.json()
    today = today_local()
    # A maternity job: seven days' notice; by default her last day is a week from today.
    assert body["status"] == "resigned" and body["ended_by"] == "worker"
    assert body["notice_required_days"] == body["notice_given_days"] == 7
    assert body["end_date"] == (today + timedelta(days=7)).isoformat()
    assert body["counts_against_rating"] is False and body["end_category"] == "family"
    assert (await integrity_of(client, person, worker["id"]))["score"] == before["score"]
    # The household sees it ended by her, with the reason.
    seen = (await client.get(f"/api/v1/placements/{placement['id']}", headers=employer.headers)).json()
    assert seen["ended_by"] == "worker" and seen["end_reason"] == "家里老人生病需要照顾"
    # She is still busy until her last day: a job starting before then does not list her.
    other = await actors.employer()
    soon = await post_request(client, other, start_date=(today + timedelta(days=3)).isoformat())
    after = await post_request(client, other, start_date=(today + timedelta(days=8)).isoformat())
    assert worker["id"] not in [m["worker_id"] for m in (await matches(client, other, soon["id"]))["items"]]
    assert worker["id"] in [m["worker_id"] for m in (await matches(client, other, after["id"]))["items"]]
    # Once ended, it cannot be ended again.
    again = await resign(client, person, placement["id"], category="family", reason="再次")
    assert again.status_code == 409


async def test_leaving_without_notice_counts_as_a_no_show(client, actors, registry):
    person, worker, employer, placement = await placed(client, actors, registry)
    before = await integrity_of(client, person, worker["id"])
    today = today_local()
    ended = await resign(
        client, person, placement["id"], category="personal", reason="找到别的工作", last_day=today.isoformat()
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["notice_given_days"] == 0 and ended.json()["counts_against_rating"] is True
    after = await integrity_of(client, person, worker["id"])
    assert no_show_points(after) == pytest.approx(-10, abs=0.1)
    assert after["score"] == before["score"] - 10


async def test_an_hourly_job_needs_a_days_notice_and_a_last_day_must_lie_within_the_job(client, actors, registry):
    person, worker, employer, placement = await placed(
        client, actors, registry, category="household", budget_unit="hour", budget_min=30, budget_max=40, languages=[]
    )
    today = today_local()
    late = await resign(
        client,
        person,
        placement["id"],
        category="personal",
        reason="太远",
        last_day=(today + timedelta(days=40)).isoformat(),
    )
    assert late.status_code == 422 and late.json()["errors"][0]["field"] == "last_day"
    past = await resign(
        client,
        person,
        placement["id"],
        category="personal",
        reason="太远",
        last_day=(today - timedelta(days=1)).isoformat(),
    )
    assert past.status_code == 422
    ended = await resign(client, person, placement["id"], category="personal", reason="太远")
    assert ended.json()["notice_required_days"] == 1 and ended.json()["counts_against_rating"] is False


async def test_before_the_start_she_cancels_and_her_dates_are_free_again(client, actors, registry):
    person, worker, employer, placement = await placed(client, actors, registry, start_in_days=10)
    refused = await resign(
        client, person, placement["id"], category="health", reason="身体不适", last_day=today_local().isoformat()
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "last_day"
    ended = await resign(client, person, placement["id"], category="health", reason="身体不适")
    assert ended.status_code == 200, ended.text
    body = ended.json()
    assert body["status"] == "cancelled" and body["notice_given_days"] == 10 and body["counts_against_rating"] is False
    other = await actors.employer()
    same_dates = await post_request(client, other, start_date=placement["start_date"])
    assert worker["id"] in [m["worker_id"] for m in (await matches(client, other, same_dates["id"]))["items"]]


async def test_employer_fault_with_a_complaint_is_excused_until_the_bureau_dismisses_it(client, actors, registry):
    person, worker, employer, placement = await placed(client, actors, registry)
    admin = await actors.admin()
    before = await integrity_of(client, person, worker["id"])
    ended = await resign(
        client,
        person,
        placement["id"],
        category="employer_fault",
        reason="雇主拖欠工资",
        last_day=today_local().isoformat(),
        complaint={"category": "unpaid_wages", "description": "十一月工资至今未发"},
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["counts_against_rating"] is False
    assert (await integrity_of(client, person, worker["id"]))["score"] == before["score"]

    # The complaint is in the one flow: the household reads it, the bureau decides it.
    from tests.conftest import in_app

    async def complaints():
        from service.employment.tables import Complaint

        return await Complaint.select().where(Complaint.placement == placement["id"])

    [complaint] = in_app(client, complaints)
    assert complaint["against"] == "employer" and complaint["category"] == "unpaid_wages"
    read = await client.get(f"/api/v1/complaints/{complaint['id']}", headers=employer.headers)
    assert read.status_code == 200 and read.json()["against"] == "employer"
    decided = await client.post(
        f"/api/v1/complaints/{complaint['id']}/decision",
        headers=admin.headers,
        json={"outcome": "dismissed", "reason": "工资已按约定支付"},
    )
    assert decided.status_code == 200, decided.text
    # Dismissed: her leaving at once now counts as a no-show would.
    after = await integrity_of(client, person, worker["id"])
    assert no_show_points(after) == pytest.approx(-10, abs=0.1)
    seen = (await client.get(f"/api/v1/placements/{placement['id']}", headers=person.headers)).json()
    assert seen["counts_against_rating"] is True


async def test_employer_fault_without_a_complaint_is_not_excused(client, actors, registry):
    person, worker, employer, placement = await placed(client, actors, registry)
    ended = await resign(
        client,
        person,
        placement["id"],
        category="employer_fault",
        reason="不想做了",
        last_day=today_local().isoformat(),
    )
    assert ended.json()["counts_against_rating"] is True
    # Complaining afterwards, while the bureau has not decided, excuses it.
    filed = await client.post(
        f"/api/v1/placements/{placement['id']}/complaints",
        headers=person.headers,
        json={"category": "unsafe_conditions", "description": "要求在没有防护的情况下擦高层窗户"},
    )
    assert filed.status_code == 201, filed.text
    seen = (await client.get(f"/api/v1/placements/{placement['id']}", headers=person.headers)).json()
    assert seen["counts_against_rating"] is False
    assert no_show_points(await integrity_of(client, person, worker["id"])) == 0


async def test_a_worker_complains_about_an_employer_and_the_bureau_decides(client, actors, registry):
    person, worker, employer, placement = await placed(client, actors, registry)
    admin = await actors.admin()
    url = f"/api/v1/placements/{placement['id']}/complaints"
    before = await integrity_of(client, person, worker["id"])
    # Each side has its own categories: she cannot accuse the household of theft here,
    # nor the household her of unpaid wages.
    wrong = await client.post(url, headers=person.headers, json={"category": "theft", "description": "拿走了我的东西"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "category"
    wrong = await client.post(
        url, headers=employer.headers, json={"category": "unpaid_wages", "description": "服务员说我们没有付钱"}
    )
    assert wrong.status_code == 422

    filed = await client.post(
        url, headers=person.headers, json={"category": "abuse", "description": "雇主多次辱骂并推搡"}
    )
    assert filed.status_code == 201, filed.text
    complaint = filed.json()
    assert complaint["against"] == "employer" and complaint["serious"] is True and complaint["status"] == "open"
    # The same kind of complaint from the household about her is a separate one.
    theirs = await client.post(
        url, headers=employer.headers, json={"category": "abuse", "description": "对孩子态度粗暴"}
    )
    assert theirs.status_code == 201 and theirs.json()["against"] == "worker"
    twice = await client.post(
        url, headers=person.headers, json={"category": "abuse", "description": "雇主多次辱骂并推搡"}
    )
    assert twice.status_code == 409

    decided = await client.post(
        f"/api/v1/complaints/{complaint['id']}/decision",
        headers=admin.headers,
        json={"outcome": "substantiated", "reason": "邻居证言与录音一致"},
    )
    assert decided.status_code == 200 and decided.json()["status"] == "substantiated"
    # A substantiated complaint about the employer neither costs her points nor blacklists her.
    after = await integrity_of(client, person, worker["id"])
    assert after["score"] == before["score"]
    record = (await client.get(f"/api/v1/workers/{worker['id']}", headers=person.headers)).json()
    assert record["blacklisted_until"] is None
    # It is not hers to appeal (it is the employer's): as for a complaint she cannot see.
    appeal = await client.post(
        f"/api/v1/complaints/{complaint['id']}/appeal", headers=person.headers, json={"text": "我要申诉这个决定"}
    )
    assert appeal.status_code == 404


async def test_only_she_resigns(client, actors, registry):
    person, worker, employer, placement = await placed(client, actors, registry)
    body = {"category": "personal", "reason": "不做了"}
    assert (
        await client.post(f"/api/v1/placements/{placement['id']}/resign", headers=employer.headers, json=body)
    ).status_code == 403
    stranger, _ = await registry.worker(available_from=None)
    foreign = await client.post(f"/api/v1/placements/{placement['id']}/resign", headers=stranger.headers, json=body)
    missing = await client.post("/api/v1/placements/999999/resign", headers=stranger.headers, json=body)
    assert foreign.status_code == missing.status_code == 404
    assert {k: v for k, v in foreign.json().items() if k != "instance"} == {
        k: v for k, v in missing.json().items() if k != "instance"
    }
