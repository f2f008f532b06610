"""PIPL: the log of sensitive reads, her export and erasure, and explained decisions."""

from datetime import datetime, timedelta, timezone

import asyncpg
import pytest

from service.privacy import services as privacy
from service.registry.domain import today_local
from tests.conftest import in_app
from tests.factories import bound_worker, offer, post_request

READS = "/api/v1/bureau/personal-data-reads"
PURPOSE = "电话确认上户时间"


def reveal_url(worker_id: int) -> str:
    return f"/api/v1/workers/{worker_id}/personal-data"


async def test_reads_of_her_id_number_and_phone_are_logged_and_the_bureau_queries_them(client, actors, registry):
    agency = await actors.agency()
    person, record = await bound_worker(client, actors, registry, agency)
    worker_id = record["id"]
    # Her record shows the phone masked; the full one only through the audited read.
    shown = (await client.get(f"/api/v1/workers/{worker_id}", headers=agency.headers)).json()
    assert shown["phone"] == person.phone[:3] + "****" + person.phone[-4:]

    read = await client.get(
        reveal_url(worker_id), headers=agency.headers, params={"fields": ["id_number", "phone"], "purpose": PURPOSE}
    )
    assert read.status_code == 200, read.text
    assert read.json()["phone"] == person.phone and len(read.json()["id_number"]) == 18
    assert read.headers["cache-control"] == "no-store"

    admin = registry.admin
    log = (await client.get(READS, headers=admin.headers, params={"worker_id": worker_id})).json()
    mine = [r for r in log["items"] if r["purpose"] == PURPOSE]
    assert {r["field"] for r in mine} == {"id_number", "phone"}
    assert all(r["agency_id"] == agency.id and r["actor_role"] == "housekeeping" for r in mine)
    assert all(r["route"] == f"GET /api/v1/workers/{worker_id}/personal-data" for r in mine)
    # Filters and paging.
    phone_only = (
        await client.get(READS, headers=admin.headers, params={"worker_id": worker_id, "field": "phone"})
    ).json()
    assert {r["field"] for r in phone_only["items"]} == {"phone"}
    page = (await client.get(READS, headers=admin.headers, params={"agency_id": agency.id, "limit": 1})).json()
    assert page["total"] >= 2 and len(page["items"]) == 1
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    assert (await client.get(READS, headers=admin.headers, params={"since": later})).json()["total"] == 0

    # A purpose is required and named when missing.
    missing = await client.get(reveal_url(worker_id), headers=agency.headers, params={"fields": "phone"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "purpose"
    nothing = await client.get(reveal_url(worker_id), headers=agency.headers, params={"purpose": PURPOSE})
    assert nothing.status_code == 422 and nothing.json()["errors"][0]["field"] == "fields"
    # Only the bureau reads the log.
    for caller in (agency.headers, person.headers):
        assert (await client.get(READS, headers=caller)).status_code == 403


async def test_strangers_get_404_for_her_data_and_other_roles_are_refused(client, actors, registry):
    agency = await actors.agency()
    person, record = await bound_worker(client, actors, registry, agency)
    other_agency = await actors.agency(name="另一家家政公司")
    other_worker, _ = await actors.registered_worker()
    employer = await actors.employer()
    params = {"fields": "phone", "purpose": PURPOSE}
    url = reveal_url(record["id"])
    assert (await client.get(url, headers=person.headers, params=params)).status_code == 200
    assert (await client.get(url, headers=registry.admin.headers, params=params)).status_code == 200
    assert (await client.get(url, headers=other_agency.headers, params=params)).status_code == 404
    assert (await client.get(url, headers=other_worker.headers, params=params)).status_code == 404
    assert (await client.get(url, headers=employer.headers, params=params)).status_code == 403
    assert (await client.get(reveal_url(10**6), headers=agency.headers, params=params)).status_code == 404
    for path in ("export", "erasure"):
        own = f"/api/v1/workers/{record['id']}/{path}"
        assert (await client.get(own, headers=other_worker.headers)).status_code == 404
        for caller in (agency.headers, registry.admin.headers, employer.headers):
            assert (await client.get(own, headers=caller)).status_code == 403
    assert (
        await client.post(f"/api/v1/workers/{record['id']}/erasure", headers=other_worker.headers)
    ).status_code == 404
    # Nobody reads a stranger's check results either, and no read was logged for the refusals.
    assert (await client.get(f"/api/v1/workers/{record['id']}/checks", headers=other_agency.headers)).status_code == 404
    log = (await client.get(READS, headers=registry.admin.headers, params={"worker_id": record["id"]})).json()
    assert {r["agency_id"] for r in log["items"]} <= {agency.id, None}


async def test_the_log_cannot_be_changed_or_deleted(client, app, actors, registry):
    agency = await actors.agency()
    _, record = await bound_worker(client, actors, registry, agency)
    await client.get(reveal_url(record["id"]), headers=agency.headers, params={"fields": "phone", "purpose": PURPOSE})
    admin = registry.admin
    entry = (await client.get(READS, headers=admin.headers)).json()["items"][0]
    for method in ("PUT", "PATCH", "DELETE"):
        for path in (READS, f"{READS}/{entry['id']}"):
            response = await client.request(method, path, headers=admin.headers, json={})
            assert response.status_code in (404, 405), (method, path)

    async def tamper(sql):
        try:
            await app.state.engine.run_ddl(sql)
        except asyncpg.InsufficientPrivilegeError as exc:
            return str(exc)
        return None

    assert "append-only" in in_app(
        client, tamper, f"UPDATE personal_data_read SET purpose = 'x' WHERE id = {entry['id']}"
    )
    assert "append-only" in in_app(client, tamper, "DELETE FROM personal_data_read")
    assert (await client.get(READS, headers=admin.headers)).json()["items"][0] == entry


async def test_reads_of_checks_and_of_the_contact_after_a_placement_are_logged(client, actors, registry):
    agency = await actors.agency()
    person, record = await bound_worker(client, actors, registry, agency)
    checks = await client.get(
        f"/api/v1/workers/{record['id']}/checks", headers=agency.headers, params={"purpose": "派单前核对体检"}
    )
    assert checks.status_code == 200 and checks.json()
    employer = await actors.employer()
    today = today_local()
    job = await post_request(
        client, employer, start_date=today.isoformat(), end_date=(today + timedelta(days=26)).isoformat()
    )
    made = await offer(client, employer, job["id"], record["id"])
    placement = (await client.post(f"/api/v1/offers/{made['id']}/accept", headers=person.headers)).json()
    seen = (await client.get(f"/api/v1/placements/{placement['id']}", headers=employer.headers)).json()
    assert seen["worker_contact"]["phone"] == person.phone

    log = (await client.get(READS, headers=registry.admin.headers, params={"worker_id": record["id"]})).json()["items"]
    assert {"health_check", "派单前核对体检"} <= {
        x for r in log if r["agency_id"] == agency.id for x in (r["field"], r["purpose"])
    }
    contact = [r for r in log if r["user_id"] == employer.id]
    assert [r["field"] for r in contact] == ["phone"] and contact[0]["actor_role"] == "employer"


async def test_she_downloads_all_her_data_with_who_read_it(client, actors, registry):
    agency = await actors.agency()
    person, record = await bound_worker(client, actors, registry, agency)
    await client.get(
        reveal_url(record["id"]), headers=agency.headers, params={"fields": "id_number", "purpose": PURPOSE}
    )
    response = await client.get(f"/api/v1/workers/{record['id']}/export", headers=person.headers)
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    data = response.json()
    assert data["worker"]["phone"] == person.phone and len(data["worker"]["id_number"]) == 18
    assert "id_number_encrypted" not in data["worker"] and "id_number_index" not in data["worker"]
    assert [c["action"] for c in data["records"]["consent_events"]] == ["granted"]
    assert data["records"]["checks"][0]["kind"] == "health"
    read = next(r for r in data["reads"] if r["purpose"] == PURPOSE)
    assert read["agency_name"] == "清远市好帮手家政服务有限公司" and read["field"] == "id_number"
    # The download itself is logged, and shows in the next one.
    again = (await client.get(f"/api/v1/workers/{record['id']}/export", headers=person.headers)).json()
    assert any(r["actor_role"] == "worker" for r in again["reads"])


async def _report(client, admin):
    period = {"date_from": (today_local() - timedelta(days=300)).isoformat(), "date_to": today_local().isoformat()}
    response = await client.get(
        "/api/v1/reports/training-employment", headers=admin.headers, params=period | {"group_by": "programme,district"}
    )
    assert response.status_code == 200, response.text
    return response.json()["rows"]


async def test_erasure_hides_her_at_once_and_erases_her_fields_later_while_figures_still_add_up(
    client, app, actors, registry
):
    trained = today_local() - timedelta(days=40)
    person, record = await registry.worker(certificate_level=4, trained_on=trained, available_from=None)
    await registry.worker(certificate_level=5, trained_on=trained, available_from=None)
    worker_id = record["id"]
    employer = await actors.employer()
    job = await post_request(client, employer)
    seen = (await client.get(f"/api/v1/job-requests/{job['id']}/matches", headers=employer.headers)).json()
    assert worker_id in [m["worker_id"] for m in seen["items"]]
    before = await _report(client, registry.admin)
    assert next(r for r in before if r["group"] == [])["trained"] == 2

    asked = await client.post(f"/api/v1/workers/{worker_id}/erasure", headers=person.headers)
    assert asked.status_code == 200, asked.text
    status = asked.json()
    assert status["erased_at"] is None and status["erase_after"] > status["requested_at"]
    # Hidden at once: consent withdrawn, out of matching and out of employers' sight.
    assert (await client.get(f"/api/v1/workers/{worker_id}", headers=employer.headers)).status_code == 404
    seen = (await client.get(f"/api/v1/job-requests/{job['id']}/matches", headers=employer.headers)).json()
    assert worker_id not in [m["worker_id"] for m in seen["items"]]
    mine = (await client.get(f"/api/v1/workers/{worker_id}", headers=person.headers)).json()
    assert mine["consent"]["given"] is False

    days = app.state.settings.erasure_retention_days
    # Not yet: the retention period has not passed.
    assert in_app(client, lambda: privacy.erase_due(retention_days=days)) == []
    later = datetime.now(timezone.utc) + timedelta(days=days, minutes=1)
    assert in_app(client, lambda: privacy.erase_due(retention_days=days, now=later)) == [worker_id]

    async def row():
        from service.accounts.tables import User
        from service.registry.tables import Worker

        worker = await Worker.select().where(Worker.id == worker_id).first()
        account = await User.select().where(User.id == person.id).first()
        return worker, account

    worker, account = in_app(client, row)
    assert worker["real_name"] == "" and worker["phone"] == "" and worker["id_number_encrypted"] == b""
    assert worker["id_number_masked"] == "" and worker["user"] is None and worker["erased_at"] is not None
    assert worker["birth_date"].month == 1 and worker["birth_date"].day == 1
    assert account["is_active"] is False and person.phone not in account["phone"]
    # She can no longer sign in; the bureau's figures are unchanged.
    assert (await client.get("/api/v1/accounts/me", headers=person.headers)).status_code == 401
    assert await _report(client, registry.admin) == before
    # The same registration is possible again (her ID number is no longer known).
    assert (await client.get(f"/api/v1/workers/{worker_id}", headers=registry.admin.headers)).json()["real_name"] == ""


async def test_a_worker_sees_why_she_ranked_where_she_did_for_an_offer(client, actors, registry):
    person, record = await registry.worker(certificate_level=4, available_from=None)
    other, _ = await registry.worker(certificate_level=3, available_from=None)
    employer = await actors.employer()
    job = await post_request(client, employer)
    ranked = (await client.get(f"/api/v1/job-requests/{job['id']}/matches", headers=employer.headers)).json()
    made = await offer(client, employer, job["id"], record["id"])

    response = await client.get(f"/api/v1/offers/{made['id']}/explanation", headers=person.headers)
    assert response.status_code == 200, response.text
    explained = response.json()
    place = [m["worker_id"] for m in ranked["items"]].index(record["id"]) + 1
    assert explained["shown"] is True and explained["rank"] == place and explained["total"] == ranked["total"]
    listed = next(m for m in ranked["items"] if m["worker_id"] == record["id"])
    assert explained["match"]["score"] == listed["score"]
    assert explained["match"]["components"] == listed["components"]

    # Only she: the other worker, the employer and a stranger offer id answer 404 / 403.
    assert (await client.get(f"/api/v1/offers/{made['id']}/explanation", headers=other.headers)).status_code == 404
    assert (await client.get(f"/api/v1/offers/{made['id']}/explanation", headers=employer.headers)).status_code == 403
    assert (await client.get("/api/v1/offers/999999/explanation", headers=person.headers)).status_code == 404


async def test_the_household_sees_which_hard_conditions_a_worker_does_not_meet(client, actors, registry):
    _, shown = await registry.worker(certificate_level=4, available_from=None, live_in=True)
    _, not_live_in = await registry.worker(certificate_level=4, available_from=None, live_in=False)
    _, hidden = await registry.worker(certificate_level=4, available_from=None, consent=False)
    employer = await actors.employer()
    job = await post_request(client, employer, live_in=True)

    def url(worker_id):
        return f"/api/v1/job-requests/{job['id']}/explanations/{worker_id}"

    why = (await client.get(url(not_live_in["id"]), headers=employer.headers)).json()
    assert why["shown"] is False and [f["filter"] for f in why["failed"]] == ["live_in"]
    assert why["display_name"].endswith("阿姨") and why["match"] is None
    assert set(why) == {
        "request_id",
        "worker_id",
        "algorithm_version",
        "shown",
        "rank",
        "total",
        "failed",
        "match",
        "display_name",
        "offer_id",
        "complaint_note",
    }
    assert why["complaint_note"] is None  # for the worker only
    ok = (await client.get(url(shown["id"]), headers=employer.headers)).json()
    assert ok["shown"] is True and ok["rank"] == 1 and ok["failed"] == []
    # A worker employers may not see is no worker to them; another household's request neither.
    assert (await client.get(url(hidden["id"]), headers=employer.headers)).status_code == 404
    stranger = await actors.employer()
    assert (await client.get(url(shown["id"]), headers=stranger.headers)).status_code == 404
    worker_person, _ = await actors.registered_worker()
    assert (await client.get(url(shown["id"]), headers=worker_person.headers)).status_code == 403


@pytest.mark.parametrize("path", ["/api/v1/workers/1/personal-data", READS])
async def test_anonymous_callers_are_refused(client, path):
    assert (await client.get(path, params={"fields": "phone", "purpose": PURPOSE})).status_code == 401
