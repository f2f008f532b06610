"""Training records, skill certificates and checks: who pushes, who verifies, who reads."""

from datetime import timedelta

from service.registry.domain import today_local
from service.registry.tables import Certificate, Check
from tests.conftest import in_app
from tests.factories import training_body, worker_body


def certificate_body(**overrides):
    return {
        "occupation_code": "4-10-01-06",
        "work_type": "母婴护理员",
        "level": 4,
        "certificate_no": "S000044180001234",
        "issued_on": "2026-04-01",
    } | overrides


async def test_a_training_institution_pushes_and_reads_only_its_own_trainings(client, actors):
    person, record = await actors.registered_worker()
    trainer = await actors.agency("training")
    other_trainer = await actors.agency("training", name="另一所培训学校")
    url = f"/api/v1/workers/{record['id']}/trainings"

    created = await client.post(
        url, headers=trainer.headers, json=training_body(id_number=actors.last_body["id_number"])
    )
    assert created.status_code == 201
    assert created.json()["status"] == "pending" and created.json()["institution_id"] == trainer.id
    assert created.json()["programme_name"] == "南粤家政" and created.json()["training_type_name"] == "就业技能培训"
    await client.post(
        url,
        headers=other_trainer.headers,
        json=training_body(id_number=actors.last_body["id_number"], course="养老护理员培训"),
    )

    mine = await client.get(url, headers=trainer.headers)
    assert [t["course"] for t in mine.json()] == ["母婴护理员（五级）培训"]
    hers = await client.get(url, headers=person.headers)
    assert len(hers.json()) == 2


async def test_training_dates_and_roles_are_checked(client, actors):
    person, record = await actors.registered_worker()
    trainer = await actors.agency("training")
    housekeeping = await actors.agency("housekeeping")
    url = f"/api/v1/workers/{record['id']}/trainings"
    backwards = await client.post(
        url,
        headers=trainer.headers,
        json=training_body(id_number=actors.last_body["id_number"], finished_on="2026-02-01"),
    )
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "finished_on"
    assert (
        await client.post(
            url, headers=housekeeping.headers, json=training_body(id_number=actors.last_body["id_number"])
        )
    ).status_code == 403
    assert (
        await client.post(url, headers=person.headers, json=training_body(id_number=actors.last_body["id_number"]))
    ).status_code == 403
    assert (
        await client.post(
            "/api/v1/workers/999999/trainings",
            headers=trainer.headers,
            json=training_body(id_number=actors.last_body["id_number"]),
        )
    ).status_code == 404


async def test_an_evaluation_institution_issues_and_revokes_a_certificate(client, actors):
    person, record = await actors.registered_worker()
    evaluator = await actors.agency("evaluation")
    url = f"/api/v1/workers/{record['id']}/certificates"
    created = await client.post(
        url, headers=evaluator.headers, json=certificate_body(id_number=actors.last_body["id_number"])
    )
    assert created.status_code == 201
    cert = created.json()
    assert (
        cert["occupation_name"] == "家政服务员" and cert["status"] == "verified" and cert["issuer_id"] == evaluator.id
    )

    duplicate = await client.post(
        url, headers=evaluator.headers, json=certificate_body(id_number=actors.last_body["id_number"])
    )
    assert duplicate.status_code == 409

    other = await actors.agency("evaluation", name="别的评价机构")
    assert (await client.delete(f"{url}/{cert['id']}", headers=other.headers)).status_code == 404
    revoked = await client.delete(f"{url}/{cert['id']}", headers=evaluator.headers, params={"reason": "考核舞弊"})
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked" and revoked.json()["revoked_at"]
    kept = await client.get(url, headers=person.headers)
    assert [c["status"] for c in kept.json()] == ["revoked"]


async def test_certificate_levels_follow_the_occupation(client, actors):
    _, record = await actors.registered_worker()
    evaluator = await actors.agency("evaluation")
    url = f"/api/v1/workers/{record['id']}/certificates"
    # 母婴护理员 stops at 三级; 家政服务员 has no 一级; 养老护理员 has 一级.
    number = actors.last_body["id_number"]
    too_high_for_work_type = certificate_body(id_number=number, level=2, certificate_no="A1")
    no_level_one = certificate_body(id_number=number, work_type=None, level=1, certificate_no="A2000")
    unknown = certificate_body(id_number=number, occupation_code="9-99-99-99", certificate_no="A3000")
    for body, field in (
        (too_high_for_work_type, "certificate_no"),
        (no_level_one, "level"),
        (unknown, "occupation_code"),
    ):
        response = await client.post(url, headers=evaluator.headers, json=body)
        assert response.status_code in (400, 422)
        assert response.json()["errors"][0]["field"] == field
    elderly_top = certificate_body(
        id_number=number, occupation_code="4-10-01-05", work_type=None, level=1, certificate_no="A4000"
    )
    assert (await client.post(url, headers=evaluator.headers, json=elderly_top)).status_code == 201
    work_type_cap = certificate_body(id_number=number, level=2, certificate_no="A5000")
    capped = await client.post(url, headers=evaluator.headers, json=work_type_cap)
    assert capped.status_code == 422 and capped.json()["errors"][0]["field"] == "level"


async def test_only_evaluation_institutions_push_certificates(client, actors):
    person, record = await actors.registered_worker()
    trainer = await actors.agency("training")
    admin = await actors.admin()
    url = f"/api/v1/workers/{record['id']}/certificates"
    for headers in (trainer.headers, person.headers, admin.headers):
        assert (
            await client.post(url, headers=headers, json=certificate_body(id_number=actors.last_body["id_number"]))
        ).status_code == 403


async def test_agency_checks_wait_for_the_bureau_and_expire_after_a_year(client, actors):
    agency = await actors.agency("housekeeping")
    created = await client.post("/api/v1/workers", headers=agency.headers, json=worker_body())
    worker_id = created.json()["id"]
    url = f"/api/v1/workers/{worker_id}/checks"
    today = today_local()
    recent = await client.post(
        url,
        headers=agency.headers,
        json={
            "kind": "health",
            "tier": "maternity",
            "result": "passed",
            "checked_on": (today - timedelta(days=30)).isoformat(),
        },
    )
    assert recent.status_code == 201
    assert recent.json()["status"] == "pending" and recent.json()["decided_at"] is None
    assert recent.json()["valid_until"] == (today - timedelta(days=30) + timedelta(days=365)).isoformat()

    admin = await actors.admin()
    old = await client.post(
        url,
        headers=admin.headers,
        json={
            "kind": "health",
            "tier": "home",
            "result": "passed",
            "checked_on": (today - timedelta(days=400)).isoformat(),
        },
    )
    assert old.json()["status"] == "expired"  # verified, but its year is over
    assert old.json()["decided_at"] is not None  # recorded by the bureau: decided then

    verified = await client.post(
        f"{url}/{recent.json()['id']}/decision",
        headers=admin.headers,
        json={"decision": "verified", "reason": "核对原件"},
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verified" and verified.json()["decided_at"] is not None
    stored = in_app(client, Check.select(Check.decided_by).where(Check.id == recent.json()["id"]).first().run)
    assert stored["decided_by"] == admin.id
    assert (
        await client.post(
            f"{url}/{recent.json()['id']}/decision", headers=agency.headers, json={"decision": "rejected"}
        )
    ).status_code == 403

    too_long = await client.post(
        url,
        headers=agency.headers,
        json={
            "kind": "health",
            "tier": "home",
            "result": "passed",
            "checked_on": today.isoformat(),
            "valid_until": (today + timedelta(days=800)).isoformat(),
        },
    )
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "valid_until"
    no_tier = await client.post(
        url, headers=agency.headers, json={"kind": "health", "result": "passed", "checked_on": today.isoformat()}
    )
    assert no_tier.status_code == 422 and no_tier.json()["errors"][0]["field"] == "tier"


async def test_a_verified_failed_background_check_blacklists_for_three_years(client, actors):
    person, record = await actors.registered_worker()
    await client.post(f"/api/v1/workers/{record['id']}/consent", headers=person.headers)
    admin = await actors.admin()
    checked_on = today_local() - timedelta(days=10)
    failed = await client.post(
        f"/api/v1/workers/{record['id']}/checks",
        headers=admin.headers,
        json={
            "kind": "background",
            "result": "failed",
            "scope": "公安违法犯罪记录",
            "checked_on": checked_on.isoformat(),
        },
    )
    assert failed.status_code == 201
    mine = (await client.get("/api/v1/workers/me", headers=person.headers)).json()
    assert mine["blacklisted_until"] == checked_on.replace(year=checked_on.year + 3).isoformat()
    employer = await actors.employer()
    assert (await client.get(f"/api/v1/workers/{record['id']}", headers=employer.headers)).status_code == 404


async def test_employers_see_a_summary_of_verified_credentials(client, actors):
    person, record = await actors.registered_worker()
    await client.post(f"/api/v1/workers/{record['id']}/consent", headers=person.headers)
    evaluator, trainer, admin = await actors.agency("evaluation"), await actors.agency("training"), await actors.admin()
    await client.post(
        f"/api/v1/workers/{record['id']}/certificates",
        headers=evaluator.headers,
        json=certificate_body(id_number=actors.last_body["id_number"]),
    )
    await actors.verified_training(trainer, record["id"], actors.last_body["id_number"])
    await client.post(
        f"/api/v1/workers/{record['id']}/checks",
        headers=admin.headers,
        json={"kind": "health", "tier": "maternity", "result": "passed", "checked_on": today_local().isoformat()},
    )
    employer = await actors.employer()
    public = (await client.get(f"/api/v1/workers/{record['id']}", headers=employer.headers)).json()
    assert public["certificates"] == [
        {
            "kind": "skill_level",
            "occupation_code": "4-10-01-06",
            "occupation_name": "家政服务员",
            "work_type": "母婴护理员",
            "level": 4,
        }
    ]
    assert public["health_check"]["tier"] == "maternity" and public["health_check"]["tier_name"] == "母婴照护服务员"
    assert public["trainings_completed"] == 1 and public["background_check_passed"] is False
    # Employers cannot read the underlying records.
    assert (await client.get(f"/api/v1/workers/{record['id']}/checks", headers=employer.headers)).status_code == 404


async def test_an_institution_must_name_the_person_by_her_id_number(client, actors):
    _, record = await actors.registered_worker()
    number = actors.last_body["id_number"]
    trainer = await actors.agency("training")
    url = f"/api/v1/workers/{record['id']}/trainings"
    missing = await client.post(url, headers=trainer.headers, json=training_body())
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "id_number"
    other_person = worker_body()["id_number"]
    assert (
        await client.post(url, headers=trainer.headers, json=training_body(id_number=other_person))
    ).status_code == 404
    future = (today_local() + timedelta(days=30)).isoformat()
    ahead = await client.post(url, headers=trainer.headers, json=training_body(id_number=number, finished_on=future))
    assert ahead.status_code == 422 and ahead.json()["errors"][0]["field"] == "finished_on"
    # Pushing a record gives no view of her profile.
    assert (await client.post(url, headers=trainer.headers, json=training_body(id_number=number))).status_code == 201
    assert (await client.get(f"/api/v1/workers/{record['id']}", headers=trainer.headers)).status_code == 404


async def test_a_revoked_certificate_cannot_be_verified_again(client, actors):
    _, record = await actors.registered_worker()
    evaluator, admin = await actors.agency("evaluation"), await actors.admin()
    url = f"/api/v1/workers/{record['id']}/certificates"
    cert = (
        await client.post(
            url, headers=evaluator.headers, json=certificate_body(id_number=actors.last_body["id_number"])
        )
    ).json()
    await client.delete(f"{url}/{cert['id']}", headers=evaluator.headers)
    again = await client.post(f"{url}/{cert['id']}/decision", headers=admin.headers, json={"decision": "verified"})
    assert again.status_code == 409
    assert (await client.get(url, headers=admin.headers)).json()[0]["status"] == "revoked"


async def test_rejecting_the_failed_background_check_lifts_the_blacklist(client, actors):
    person, record = await actors.registered_worker()
    admin = await actors.admin()
    failed = (
        await client.post(
            f"/api/v1/workers/{record['id']}/checks",
            headers=admin.headers,
            json={"kind": "background", "result": "failed", "checked_on": today_local().isoformat()},
        )
    ).json()
    assert (await client.get("/api/v1/workers/me", headers=person.headers)).json()["blacklisted_until"]
    overturned = await client.post(
        f"/api/v1/workers/{record['id']}/checks/{failed['id']}/decision",
        headers=admin.headers,
        json={"decision": "rejected", "reason": "查询对象有误"},
    )
    assert overturned.status_code == 200
    assert (await client.get("/api/v1/workers/me", headers=person.headers)).json()["blacklisted_until"] is None


async def test_a_certificate_decision_records_who_and_when(client, actors):
    _, record = await actors.registered_worker()
    evaluator, admin = await actors.agency("evaluation"), await actors.admin()
    url = f"/api/v1/workers/{record['id']}/certificates"
    cert = (
        await client.post(
            url, headers=evaluator.headers, json=certificate_body(id_number=actors.last_body["id_number"])
        )
    ).json()
    assert cert["decided_at"] is None  # taken as pushed: nobody decided
    rejected = await client.post(
        f"{url}/{cert['id']}/decision", headers=admin.headers, json={"decision": "rejected", "reason": "编号不符"}
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected" and rejected.json()["decided_at"] is not None
    stored = in_app(client, Certificate.select(Certificate.decided_by).where(Certificate.id == cert["id"]).first().run)
    assert stored["decided_by"] == admin.id
