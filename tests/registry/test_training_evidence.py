"""Coded trainings wait for their evidence and the bureau; certificates have kinds and need a 备案."""

from importlib import import_module

from service.registry.tables import Training
from tests.factories import training_body

MIGRATION = import_module("service.registry.piccolo_migrations.registry_2026_11_27t14_00_00_000000")


async def test_a_pushed_training_waits_for_evidence_and_the_bureau(client, actors):
    person, record = await actors.registered_worker()
    number = actors.last_body["id_number"]
    trainer, admin = await actors.agency("training"), await actors.admin()
    url = f"/api/v1/workers/{record['id']}/trainings"
    training = (await client.post(url, headers=trainer.headers, json=training_body(id_number=number))).json()
    assert training["status"] == "pending" and training["attended_hours"] == 0 and training["on_roster"] is False

    decide = f"{url}/{training['id']}/decision"
    early = await client.post(decide, headers=admin.headers, json={"decision": "verified"})
    assert early.status_code == 409 and "出勤" in early.json()["detail"]
    # Not counted while pending.
    assert (await client.get(f"/api/v1/workers/{record['id']}/integrity", headers=person.headers)).json()[
        "score"
    ] is not None
    queue = (await client.get("/api/v1/bureau/trainings/pending", headers=admin.headers)).json()
    assert [t["id"] for t in queue["items"]] == [training["id"]] and queue["total"] == 1

    await actors.training_evidence(trainer, record["id"], number, training)
    evidence = (await client.get(url, headers=trainer.headers)).json()[0]
    assert evidence["attended_hours"] == 80.0 and evidence["sessions"] == 8 and evidence["on_roster"] is True
    assert evidence["status"] == "pending"  # no rule set: a person decides

    verified = await client.post(decide, headers=admin.headers, json={"decision": "verified"})
    assert verified.status_code == 200 and verified.json()["status"] == "verified"
    assert verified.json()["verified_at"] is not None
    assert (await client.get("/api/v1/bureau/trainings/pending", headers=admin.headers)).json()["total"] == 0


async def test_the_bureaus_rule_verifies_when_hours_and_roster_are_in(client, actors):
    _, record = await actors.registered_worker()
    number = actors.last_body["id_number"]
    trainer, admin = await actors.agency("training"), await actors.admin()
    rule = await client.put(
        "/api/v1/bureau/training-verification-rule",
        headers=admin.headers,
        json={"auto_verify": True, "min_attendance_ratio": 1.0, "require_roster": True},
    )
    assert rule.status_code == 200 and rule.json()["auto_verify"] is True
    url = f"/api/v1/workers/{record['id']}/trainings"
    # The roster comes first this time.
    roster = await client.post(
        "/api/v1/bureau/training-rosters",
        headers=trainer.headers,
        json={"course": "母婴护理员（五级）培训", "started_on": "2026-03-01", "id_numbers": [number]},
    )
    assert roster.status_code == 201 and roster.json()["registered_trainees"] == 0
    training = (await client.post(url, headers=trainer.headers, json=training_body(id_number=number, hours=20))).json()
    assert training["status"] == "pending" and training["on_roster"] is True
    sessions = f"{url}/{training['id']}/sessions"
    short = await client.post(
        sessions,
        headers=trainer.headers,
        json={"id_number": number, "sessions": [{"on_date": "2026-03-02", "starts_at": "09:00", "ends_at": "17:00"}]},
    )
    assert short.status_code == 201 and short.json()[0]["hours"] == 8.0
    assert (await client.get(url, headers=trainer.headers)).json()[0]["status"] == "pending"  # 8 of 20 hours
    more = await client.post(
        sessions,
        headers=trainer.headers,
        json={
            "id_number": number,
            "sessions": [
                {"on_date": "2026-03-03", "starts_at": "08:00", "ends_at": "14:00"},
                {"on_date": "2026-03-04", "starts_at": "08:00", "ends_at": "14:00"},
            ],
        },
    )
    assert more.status_code == 201 and len(more.json()) == 3
    after = (await client.get(url, headers=trainer.headers)).json()[0]
    assert after["status"] == "verified" and after["attended_hours"] == 20.0 and "自动核验" in after["status_reason"]
    # A decided record takes no more sessions; a duplicate or backwards session is refused.
    late = await client.post(
        sessions,
        headers=trainer.headers,
        json={"id_number": number, "sessions": [{"on_date": "2026-03-05", "starts_at": "08:00", "ends_at": "10:00"}]},
    )
    assert late.status_code == 409


async def test_sessions_are_checked_and_only_the_institution_adds_them(client, actors):
    _, record = await actors.registered_worker()
    number = actors.last_body["id_number"]
    trainer, other = await actors.agency("training"), await actors.agency("training", name="另一所学校")
    url = f"/api/v1/workers/{record['id']}/trainings"
    training = (await client.post(url, headers=trainer.headers, json=training_body(id_number=number))).json()
    sessions = f"{url}/{training['id']}/sessions"
    backwards = await client.post(
        sessions,
        headers=trainer.headers,
        json={"id_number": number, "sessions": [{"on_date": "2026-03-02", "starts_at": "09:00", "ends_at": "08:00"}]},
    )
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "sessions[0].ends_at"
    future = await client.post(
        sessions,
        headers=trainer.headers,
        json={"id_number": number, "sessions": [{"on_date": "2099-03-02", "starts_at": "09:00", "ends_at": "10:00"}]},
    )
    assert future.status_code == 422
    twice = [{"on_date": "2026-03-02", "starts_at": "09:00", "ends_at": "10:00"}] * 2
    assert (
        await client.post(sessions, headers=trainer.headers, json={"id_number": number, "sessions": twice})
    ).status_code == 409
    assert (await client.get(sessions, headers=trainer.headers)).json() == []  # all or nothing
    assert (
        await client.post(sessions, headers=other.headers, json={"id_number": number, "sessions": twice[:1]})
    ).status_code == 404
    assert (await client.get(sessions, headers=other.headers)).status_code == 404


async def test_programmes_are_coded_and_the_bureau_adds_them(client, actors):
    _, record = await actors.registered_worker()
    number = actors.last_body["id_number"]
    trainer, admin = await actors.agency("training"), await actors.admin()
    codes = [p["code"] for p in (await client.get("/api/v1/bureau/programmes", headers=trainer.headers)).json()]
    assert codes == ["nanyue_jiazheng", "yuecai_shifu", "guangdong_jigong", "other"]
    url = f"/api/v1/workers/{record['id']}/trainings"
    unknown = await client.post(
        url, headers=trainer.headers, json=training_body(id_number=number, programme="rural_ecommerce")
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "programme"
    free_text = await client.post(
        url, headers=trainer.headers, json=training_body(id_number=number, programme="南粤家政")
    )
    assert free_text.status_code == 400 or free_text.status_code == 422
    assert (
        await client.post(
            "/api/v1/bureau/programmes",
            headers=trainer.headers,
            json={"code": "rural_ecommerce", "name_zh": "农村电商"},
        )
    ).status_code == 403
    added = await client.post(
        "/api/v1/bureau/programmes", headers=admin.headers, json={"code": "rural_ecommerce", "name_zh": "农村电商"}
    )
    assert added.status_code == 201
    again = await client.post(
        "/api/v1/bureau/programmes", headers=admin.headers, json={"code": "rural_ecommerce", "name_zh": "农村电商2"}
    )
    assert again.status_code == 409
    used = await client.post(
        url,
        headers=trainer.headers,
        json=training_body(
            id_number=number,
            programme="rural_ecommerce",
            training_type="skill_upgrade",
            level=None,
            occupation_code=None,
        ),
    )
    assert used.status_code == 201 and used.json()["programme_name"] == "农村电商"
    assert used.json()["training_type_name"] == "岗位技能提升培训"
    bad_level = await client.post(url, headers=trainer.headers, json=training_body(id_number=number, level=1))
    assert bad_level.status_code == 422 and bad_level.json()["errors"][0]["field"] == "level"


async def test_free_text_programmes_are_migrated_to_codes(client, app):
    """The migration's own statements, run over rows as they were before programmes were coded."""
    from tests.conftest import in_app

    statements = [s for s in MIGRATION.STATEMENTS if "UPDATE training" in s]
    assert len(statements) == 2

    async def migrate_sample() -> list[dict]:
        db = app.state.engine
        await db.run_ddl("CREATE TABLE legacy_sample (id int, programme_text varchar(64), programme_code varchar(32))")
        try:
            await db.run_ddl(
                "INSERT INTO legacy_sample VALUES (1, '南粤家政', NULL), (2, ' 粤菜师傅培训 ', NULL), "
                "(3, '农村电商', NULL), (4, '广东技工', NULL)"
            )
            for statement in statements:
                await db.run_ddl(statement.replace("UPDATE training", "UPDATE legacy_sample"))
            return await Training.raw("SELECT id, programme_code, programme_text FROM legacy_sample ORDER BY id")
        finally:
            await db.run_ddl("DROP TABLE legacy_sample")

    rows = in_app(client, migrate_sample)
    assert [(r["programme_code"], r["programme_text"]) for r in rows] == [
        ("nanyue_jiazheng", ""),
        ("yuecai_shifu", ""),
        ("other", "农村电商"),
        ("guangdong_jigong", ""),
    ]


def certificate(**overrides):
    return {
        "kind": "skill_level",
        "occupation_code": "4-10-01-06",
        "work_type": "母婴护理员",
        "level": 4,
        "certificate_no": "S000044180001234",
        "issued_on": "2026-04-01",
    } | overrides


async def test_certificates_have_kinds_and_levels_only_where_they_exist(client, actors):
    _, record = await actors.registered_worker()
    number = actors.last_body["id_number"]
    evaluator = await actors.agency("evaluation")
    url = f"/api/v1/workers/{record['id']}/certificates"
    no_level = await client.post(url, headers=evaluator.headers, json=certificate(id_number=number, level=None))
    assert no_level.status_code == 422 and no_level.json()["errors"][0]["field"] == "level"
    levelled_special = await client.post(
        url,
        headers=evaluator.headers,
        json=certificate(id_number=number, kind="special_ability", work_type=None, certificate_no="ZX0001"),
    )
    assert levelled_special.status_code == 422
    special = await client.post(
        url,
        headers=evaluator.headers,
        json=certificate(id_number=number, kind="special_ability", work_type=None, level=None, certificate_no="ZX0001"),
    )
    assert (
        special.status_code == 201
        and special.json()["kind_name"] == "专项职业能力证书"
        and special.json()["level"] is None
    )
    passed = await client.post(
        url,
        headers=evaluator.headers,
        json=certificate(id_number=number, kind="training_pass", work_type=None, level=None, certificate_no="PX0001"),
    )
    assert passed.status_code == 201 and passed.json()["status"] == "verified"
    # Level-less certificates do not break the rating.
    admin = await actors.admin()
    rating = await client.get(f"/api/v1/workers/{record['id']}/integrity", headers=admin.headers)
    assert rating.status_code == 200, rating.text


async def test_a_certificate_outside_the_institutions_registration_waits_for_the_bureau(client, actors):
    _, record = await actors.registered_worker()
    number = actors.last_body["id_number"]
    admin = await actors.admin()
    unregistered = await actors.agency("evaluation", name="未备案评价机构", registered=False)
    elderly_only = await actors.agency("evaluation", name="养老评价机构", registered=["4-10-01-05"])
    url = f"/api/v1/workers/{record['id']}/certificates"
    outside = await client.post(url, headers=unregistered.headers, json=certificate(id_number=number))
    assert (
        outside.status_code == 201
        and outside.json()["status"] == "pending"
        and "未备案" in outside.json()["status_reason"]
    )
    wrong_occupation = await client.post(
        url, headers=elderly_only.headers, json=certificate(id_number=number, certificate_no="S000044180009999")
    )
    assert wrong_occupation.json()["status"] == "pending"
    inside = await client.post(
        url,
        headers=elderly_only.headers,
        json=certificate(
            id_number=number, occupation_code="4-10-01-05", work_type=None, level=3, certificate_no="S000044180007777"
        ),
    )
    assert inside.json()["status"] == "verified"

    registrations = (await client.get("/api/v1/bureau/evaluator-registrations", headers=elderly_only.headers)).json()
    assert [r["agency_id"] for r in registrations] == [elderly_only.id]
    assert (await client.get("/api/v1/bureau/evaluator-registrations", headers=admin.headers)).json()[0][
        "occupation_codes"
    ]
    suspended = await client.patch(
        f"/api/v1/bureau/evaluator-registrations/{registrations[0]['id']}",
        headers=admin.headers,
        json={"status": "suspended"},
    )
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    after = await client.post(
        url,
        headers=elderly_only.headers,
        json=certificate(
            id_number=number, occupation_code="4-10-01-05", work_type=None, level=3, certificate_no="S000044180006666"
        ),
    )
    assert after.json()["status"] == "pending"
    assert (
        await client.patch(
            f"/api/v1/bureau/evaluator-registrations/{registrations[0]['id']}",
            headers=elderly_only.headers,
            json={"status": "active"},
        )
    ).status_code == 403
    housekeeping = await actors.agency("housekeeping")
    assert (await client.get("/api/v1/bureau/evaluator-registrations", headers=housekeeping.headers)).status_code == 403
    not_evaluator = await client.post(
        "/api/v1/bureau/evaluator-registrations",
        headers=admin.headers,
        json={
            "agency_id": housekeeping.id,
            "registration_no": "Y-BAD-1",
            "valid_from": "2026-01-01",
            "valid_until": "2026-12-31",
            "occupation_codes": ["4-10-01-06"],
        },
    )
    assert not_evaluator.status_code == 422 and not_evaluator.json()["errors"][0]["field"] == "agency_id"
