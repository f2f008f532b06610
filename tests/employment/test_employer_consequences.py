"""A complaint about an employer that the bureau upholds has proportionate consequences:
workers see a neutral count on that employer's open requests and in their explanation
(never a complaint's text); for a serious one the bureau may suspend the employer from
posting and making offers, with a reason, reversibly and on the record; the employer
appeals as a worker does."""

from __future__ import annotations

import asyncio

from service.registry.domain import today_local
from tests.conftest import in_app
from tests.factories import offer, post_request

DESCRIPTION = "雇主多次辱骂并推搡，邻居可以作证"


async def upheld_complaint(client, actors, registry, employer, category="abuse"):
    """A worker placed with `employer` complains; the bureau upholds it."""
    person, worker = await registry.worker(available_from=None)
    job = await post_request(client, employer)
    made = await offer(client, employer, job["id"], worker["id"])
    placement = (await client.post(f"/api/v1/offers/{made['id']}/accept", headers=person.headers)).json()
    filed = await client.post(
        f"/api/v1/placements/{placement['id']}/complaints",
        headers=person.headers,
        json={"category": category, "description": DESCRIPTION},
    )
    assert filed.status_code == 201, filed.text
    admin = await actors.admin()
    decided = await client.post(
        f"/api/v1/complaints/{filed.json()['id']}/decision",
        headers=admin.headers,
        json={"outcome": "substantiated", "reason": "证言与录音一致"},
    )
    assert decided.status_code == 200, decided.text
    return admin, decided.json()


async def open_requests(client, person):
    response = await client.get("/api/v1/workers/me/open-requests", headers=person.headers)
    assert response.status_code == 200, response.text
    return response


async def test_workers_see_the_count_suspension_stops_hiring_and_an_upheld_appeal_undoes_it(client, actors, registry):
    employer, other_employer = await actors.employer(), await actors.employer()
    admin, complaint = await upheld_complaint(client, actors, registry, employer)
    seeker_person, seeker = await registry.worker(available_from=None)
    job = await post_request(client, employer)
    clean = await post_request(client, other_employer)

    listed = await open_requests(client, seeker_person)
    items = {i["request"]["id"]: i for i in listed.json()["items"]}
    assert items[job["id"]]["verified_complaints"] == 1
    assert items[job["id"]]["complaint_note"].startswith("该雇主有 1 起经核实的投诉")
    assert items[clean["id"]]["verified_complaints"] == 0 and items[clean["id"]]["complaint_note"] is None
    assert DESCRIPTION not in listed.text and "证言与录音一致" not in listed.text
    made = await offer(client, employer, job["id"], seeker["id"])
    explained = await client.get(f"/api/v1/offers/{made['id']}/explanation", headers=seeker_person.headers)
    assert explained.json()["complaint_note"].startswith("该雇主有 1 起经核实的投诉")
    assert DESCRIPTION not in explained.text

    # Only the bureau suspends, and only with a reason.
    url = f"/api/v1/complaints/{complaint['id']}/employer-suspension"
    assert (await client.post(url, headers=employer.headers, json={"reason": "虐待"})).status_code == 403
    no_reason = await client.post(url, headers=admin.headers, json={})
    assert no_reason.status_code == 400 or no_reason.status_code == 422
    suspended = await client.post(url, headers=admin.headers, json={"reason": "经核实存在虐待家政服务员行为"})
    assert suspended.status_code == 201, suspended.text
    record = suspended.json()
    assert record["active"] is True and record["user_id"] == employer.id
    assert record["complaint_id"] == complaint["id"] and record["suspended_by"] is not None
    assert (await client.post(url, headers=admin.headers, json={"reason": "再次"})).status_code == 409

    # Suspended: no new request, no offer; workers no longer see its requests.
    refused = await client.post("/api/v1/job-requests", headers=employer.headers, json=_body())
    assert refused.status_code == 403 and "经核实存在虐待家政服务员行为" in refused.json()["detail"]
    other_person, other = await registry.worker(available_from=None)
    no_offer = await client.post(
        f"/api/v1/job-requests/{job['id']}/offers", headers=employer.headers, json={"worker_id": other["id"]}
    )
    assert no_offer.status_code == 403
    ids = [i["request"]["id"] for i in (await open_requests(client, seeker_person)).json()["items"]]
    assert job["id"] not in ids and clean["id"] in ids

    # The employer appeals, like a worker; the bureau upholds it: the suspension is lifted.
    appealed = await client.post(
        f"/api/v1/complaints/{complaint['id']}/appeal",
        headers=employer.headers,
        json={"text": "当时是误会，有监控为证"},
    )
    assert appealed.status_code == 200 and appealed.json()["appeal_status"] == "pending"
    upheld = await client.post(
        f"/api/v1/complaints/{complaint['id']}/appeal-decision",
        headers=admin.headers,
        json={"outcome": "upheld", "reason": "监控显示投诉不实"},
    )
    assert upheld.status_code == 200 and upheld.json()["status"] == "overturned"
    [row] = [s for s in (await client.get("/api/v1/employer-suspensions", headers=admin.headers)).json()]
    assert row["active"] is False and row["lift_reason"].startswith("申诉成立")
    assert (await client.post("/api/v1/job-requests", headers=employer.headers, json=_body())).status_code == 201
    items = {i["request"]["id"]: i for i in (await open_requests(client, seeker_person)).json()["items"]}
    assert items[job["id"]]["verified_complaints"] == 0 and items[job["id"]]["complaint_note"] is None


async def test_only_serious_complaints_found_a_suspension_and_the_bureau_can_lift_one(client, actors, registry):
    employer = await actors.employer()
    admin, unpaid = await upheld_complaint(client, actors, registry, employer, category="unpaid_wages")
    not_serious = await client.post(
        f"/api/v1/complaints/{unpaid['id']}/employer-suspension", headers=admin.headers, json={"reason": "拖欠工资"}
    )
    assert not_serious.status_code == 409
    _, unsafe = await upheld_complaint(client, actors, registry, employer, category="unsafe_conditions")
    suspended = await client.post(
        f"/api/v1/complaints/{unsafe['id']}/employer-suspension",
        headers=admin.headers,
        json={"reason": "要求无防护擦高层外窗"},
    )
    assert suspended.status_code == 201, suspended.text
    lift_url = f"/api/v1/employer-suspensions/{suspended.json()['id']}/lift"
    assert (await client.post(lift_url, headers=employer.headers, json={"reason": "已整改"})).status_code == 403
    lifted = await client.post(lift_url, headers=admin.headers, json={"reason": "已整改并提供防护设备"})
    assert lifted.status_code == 200 and lifted.json()["active"] is False
    assert lifted.json()["lift_reason"] == "已整改并提供防护设备" and lifted.json()["lifted_by"] is not None
    assert (await client.post(lift_url, headers=admin.headers, json={"reason": "再次"})).status_code == 409
    assert (await client.post("/api/v1/job-requests", headers=employer.headers, json=_body())).status_code == 201
    # Another household cannot appeal it; the employer can, once.
    stranger = await actors.employer()
    url = f"/api/v1/complaints/{unsafe['id']}/appeal"
    assert (await client.post(url, headers=stranger.headers, json={"text": "不是我家的事情"})).status_code == 404
    assert (await client.post(url, headers=employer.headers, json={"text": "已整改，请求复核"})).status_code == 200
    assert (await client.post(url, headers=employer.headers, json={"text": "再次申诉一遍"})).status_code == 409


def _body():
    from tests.factories import request_body

    return request_body(start_date=today_local().isoformat(), end_date=None)


def _events(client, kind: str, offer_id: int) -> list[dict]:
    from service.database import jsonb
    from service.events.tables import Event

    async def read():
        return await Event.select().where(Event.type == kind)

    payloads = [jsonb(r["payload"]) for r in in_app(client, read)]
    return [p for p in payloads if p["offer_id"] == offer_id]


def _reopen_offer(client, offer_id: int) -> None:
    """Put a withdrawn offer back to open, as one that slipped past the withdrawal would be."""
    from service.employment.tables import Offer

    async def reopen():
        await Offer.update({Offer.status: "offered", Offer.closed_reason: ""}).where(Offer.id == offer_id)

    in_app(client, reopen)


async def test_suspension_withdraws_open_offers_and_no_route_reaches_the_suspended_employers_jobs(
    client, actors, registry
):
    employer = await actors.employer()
    admin, complaint = await upheld_complaint(client, actors, registry, employer)
    she, her = await registry.worker(available_from=None)
    other_person, other = await registry.worker(available_from=None)
    job = await post_request(client, employer, headcount=2)
    before = await offer(client, employer, job["id"], her["id"])
    slipped = await offer(client, employer, job["id"], other["id"])
    interest_url = f"/api/v1/job-requests/{job['id']}/interest"
    assert (await client.post(interest_url, headers=she.headers)).status_code in (200, 201)

    suspended = await client.post(
        f"/api/v1/complaints/{complaint['id']}/employer-suspension",
        headers=admin.headers,
        json={"reason": "经核实存在虐待家政服务员行为"},
    )
    assert suspended.status_code == 201, suspended.text

    # Her open offer was withdrawn with the suspension, and she is told why.
    mine = (await client.get("/api/v1/offers", headers=she.headers)).json()
    [listed] = [o for o in mine if o["id"] == before["id"]]
    assert listed["status"] == "withdrawn" and listed["closed_reason"].startswith("雇主已被暂停")
    [event] = _events(client, "offer.withdrawn", before["id"])
    assert event == {"offer_id": before["id"], "worker_id": her["id"], "reason": "employer_suspended"}

    # An offer that slipped through (still open) cannot be accepted while the suspension holds.
    _reopen_offer(client, slipped["id"])
    cases = [
        ("accept an old offer", she, "post", f"/api/v1/offers/{before['id']}/accept", None, 409),
        ("accept a slipped offer", other_person, "post", f"/api/v1/offers/{slipped['id']}/accept", None, 409),
        ("express interest", other_person, "post", interest_url, None, 404),
        ("withdraw interest never shown", other_person, "delete", interest_url, None, 404),
        (
            "make an offer",
            employer,
            "post",
            f"/api/v1/job-requests/{job['id']}/offers",
            {"worker_id": her["id"]},
            403,
        ),
    ]
    for name, person, method, url, body, status in cases:
        kwargs = {"json": body} if body is not None else {}
        response = await getattr(client, method)(url, headers=person.headers, **kwargs)
        assert response.status_code == status, (name, response.text)
        if name == "accept a slipped offer":
            assert "雇主已被人社部门暂停" in response.json()["detail"]
    ids = [i["request"]["id"] for i in (await open_requests(client, other_person)).json()["items"]]
    assert job["id"] not in ids
    # She may still take back interest she showed before.
    assert (await client.delete(interest_url, headers=she.headers)).status_code in (200, 204)

    # Lifting the suspension does not bring the withdrawn offer back.
    lifted = await client.post(
        f"/api/v1/employer-suspensions/{suspended.json()['id']}/lift",
        headers=admin.headers,
        json={"reason": "已整改"},
    )
    assert lifted.status_code == 200
    again = (await client.get(f"/api/v1/offers/{before['id']}", headers=she.headers)).json()
    assert again["status"] == "withdrawn" and again["closed_reason"].startswith("雇主已被暂停")
    assert (await client.post(f"/api/v1/offers/{before['id']}/accept", headers=she.headers)).status_code == 409


async def test_an_employer_withdrawing_an_offer_says_so_in_the_event(client, actors, registry):
    employer = await actors.employer()
    _person, worker = await registry.worker(available_from=None)
    job = await post_request(client, employer)
    made = await offer(client, employer, job["id"], worker["id"])
    withdrawn = await client.post(f"/api/v1/offers/{made['id']}/withdraw", headers=employer.headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["closed_reason"] == ""
    [event] = _events(client, "offer.withdrawn", made["id"])
    assert event["reason"] == "by_employer"


def _admin_principal(admin):
    from service.accounts.guards import Principal, Role

    return Principal(role=Role.ADMIN, user_id=admin.id)


def _active_suspensions(client, user_id: int) -> list[dict]:
    from service.accounts.tables import EmployerSuspension

    async def read():
        return await EmployerSuspension.select().where(
            (EmployerSuspension.user == user_id) & EmployerSuspension.lifted_at.is_null()
        )

    return in_app(client, read)


async def test_two_suspensions_of_one_employer_at_once_one_wins_the_other_is_refused(client, actors, registry):
    from service.employment import services as employment
    from service.errors import Conflict

    employer = await actors.employer()
    admin, first = await upheld_complaint(client, actors, registry, employer)
    _, second = await upheld_complaint(client, actors, registry, employer, category="harassment")
    bureau = _admin_principal(admin)

    async def both_at_once():
        return await asyncio.gather(
            employment.suspend_employer(bureau, first["id"], reason="虐待"),
            employment.suspend_employer(bureau, second["id"], reason="骚扰"),
            return_exceptions=True,
        )

    results = in_app(client, both_at_once)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "dict"], results
    assert any(isinstance(r, Conflict) and "suspended already" in r.detail for r in results)
    assert len(_active_suspensions(client, employer.id)) == 1
    # Through the API the refusal is a 409.
    again = await client.post(
        f"/api/v1/complaints/{first['id']}/employer-suspension", headers=admin.headers, json={"reason": "再次"}
    )
    assert again.status_code == 409

    # PostgreSQL holds the rule whoever writes: one suspension in force, one employer a row.
    from asyncpg.exceptions import CheckViolationError, UniqueViolationError

    from service.accounts.tables import EmployerSuspension

    async def insert(**employer_columns):
        try:
            await EmployerSuspension.insert(EmployerSuspension(reason="x", suspended_by=admin.id, **employer_columns))
        except (UniqueViolationError, CheckViolationError) as error:
            return type(error).__name__
        return None

    assert in_app(client, lambda: insert(user=employer.id)) == "UniqueViolationError"
    assert in_app(client, lambda: insert(user=None, agency=None)) == "CheckViolationError"


async def test_an_appeal_upheld_while_the_bureau_suspends_leaves_no_suspension_in_force(client, actors, registry):
    from service.employment import services as employment

    employer = await actors.employer()
    admin, complaint = await upheld_complaint(client, actors, registry, employer)
    appealed = await client.post(
        f"/api/v1/complaints/{complaint['id']}/appeal", headers=employer.headers, json={"text": "有监控为证"}
    )
    assert appealed.status_code == 200, appealed.text
    bureau = _admin_principal(admin)

    async def both_at_once():
        return await asyncio.gather(
            employment.suspend_employer(bureau, complaint["id"], reason="虐待"),
            employment.decide_appeal(bureau, complaint["id"], upheld=True, reason="监控显示投诉不实"),
            return_exceptions=True,
        )

    suspended, decided = in_app(client, both_at_once)
    assert isinstance(decided, dict) and decided["status"] == "overturned", decided
    assert _active_suspensions(client, employer.id) == []
    assert (await client.post("/api/v1/job-requests", headers=employer.headers, json=_body())).status_code == 201
    # Once overturned, the complaint founds no suspension.
    late = await client.post(
        f"/api/v1/complaints/{complaint['id']}/employer-suspension", headers=admin.headers, json={"reason": "虐待"}
    )
    assert late.status_code == 409


async def test_deleting_the_suspending_admin_or_the_employer_is_refused_the_record_stays(client, actors, registry):
    # PostgreSQL 15 reports a RESTRICT key as a foreign-key violation, newer servers as a
    # restrict violation (the embedded server is 18); both are integrity violations.
    from asyncpg.exceptions import IntegrityConstraintViolationError

    from service.accounts.tables import User

    employer = await actors.employer()
    admin, complaint = await upheld_complaint(client, actors, registry, employer)
    suspended = await client.post(
        f"/api/v1/complaints/{complaint['id']}/employer-suspension", headers=admin.headers, json={"reason": "虐待"}
    )
    assert suspended.status_code == 201, suspended.text

    for user_id in (admin.id, employer.id):

        async def delete(user_id=user_id):
            try:
                await User.delete().where(User.id == user_id)
            except IntegrityConstraintViolationError as error:
                return str(error)
            return None

        refused = in_app(client, delete)
        assert refused is not None and "employer_suspension" in refused, user_id
    assert len(_active_suspensions(client, employer.id)) == 1
