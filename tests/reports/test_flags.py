"""Subsidy-integrity flags: planted cases are found, runs are idempotent, decisions hold claims."""

from datetime import date

from tests.conftest import in_app
from tests.factories import id_number, training_body


async def run_check(client, admin):
    response = await client.post("/api/v1/bureau/integrity-checks", headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def flags(client, admin, **params):
    response = await client.get("/api/v1/bureau/integrity-flags", headers=admin.headers, params=params | {"limit": 200})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_age_duplicates_and_over_budget_are_found_once(client, actors, app):
    admin, trainer = await actors.admin(), await actors.agency("training")
    await client.post(
        "/api/v1/bureau/subsidy-rules",
        headers=admin.headers,
        json={"name": "通用", "base_amount": 800, "valid_from": "2026-01-01"},
    )
    await client.put(
        "/api/v1/bureau/budgets",
        headers=admin.headers,
        json={"year": 2026, "programme_code": "nanyue_jiazheng", "amount": 1000},
    )
    # 57 and female when the training started: outside 16-55.
    _, older = await actors.registered_worker(birth_date=date(1968, 5, 1))
    await actors.verified_training(trainer, older["id"], actors.last_body["id_number"])
    # The same woman twice, under two ID numbers, a name one character apart, the same birth date.
    born = date(1990, 6, 6)
    _, first = await actors.registered_worker(birth_date=born, real_name="陈秀英")
    t1 = await actors.verified_training(trainer, first["id"], actors.last_body["id_number"])
    _, second = await actors.registered_worker(birth_date=born, real_name="陈秀瑛", id_number=id_number(born, seq=77))
    t2 = await actors.verified_training(trainer, second["id"], actors.last_body["id_number"])
    # A stranger with the same birth date and surname, but another name, is not a duplicate.
    _, stranger = await actors.registered_worker(birth_date=born, real_name="陈美玲", id_number=id_number(born, seq=78))
    await actors.verified_training(trainer, stranger["id"], actors.last_body["id_number"])
    for training in (t1, t2):  # 800 + 800 > 1000: the second claim is over budget
        claimed = await client.post(
            "/api/v1/bureau/subsidy-claims", headers=trainer.headers, json={"training_id": training["id"]}
        )
        assert claimed.status_code == 201, claimed.text

    in_app(client, app.state.integrity_checks.idle)  # the checks the roster uploads started
    first_run = await run_check(client, admin)
    found = await flags(client, admin)
    by_rule = {}
    for flag in found:
        by_rule.setdefault(flag["rule"], []).append(flag)
    assert [f["worker_id"] for f in by_rule["age_out_of_range"]] == [older["id"]]
    assert by_rule["age_out_of_range"][0]["evidence"]["age"] == 57
    assert len(by_rule["duplicate_person"]) == 1
    assert by_rule["duplicate_person"][0]["evidence"]["workers"] == [first["id"], second["id"]]
    assert [f["claim_id"] for f in by_rule["over_budget"]] == [claimed.json()["id"]]
    assert by_rule["over_budget"][0]["evidence"]["cumulative"] == 1600
    assert all(f["rule_name"] and f["status"] == "open" for f in found)
    assert first_run["flags_seen"] == len(found) == sum(first_run["by_rule"].values())

    second_run = await run_check(client, admin)
    assert second_run["flags_new"] == 0 and second_run["flags_seen"] == first_run["flags_seen"]
    assert [f["id"] for f in await flags(client, admin)] == [f["id"] for f in found]


async def test_overlapping_sessions_are_flagged_after_the_import(client, actors, app):
    admin = await actors.admin()
    school_a, school_b = await actors.agency("training"), await actors.agency("training", name="乙校")
    _, record = await actors.registered_worker()
    number = actors.last_body["id_number"]
    url = f"/api/v1/workers/{record['id']}/trainings"
    a = (await client.post(url, headers=school_a.headers, json=training_body(id_number=number))).json()
    b = (
        await client.post(url, headers=school_b.headers, json=training_body(id_number=number, course="养老护理员培训"))
    ).json()
    await client.post(
        f"{url}/{a['id']}/sessions",
        headers=school_a.headers,
        json={"id_number": number, "sessions": [{"on_date": "2026-03-02", "starts_at": "09:00", "ends_at": "12:00"}]},
    )
    await client.post(
        f"{url}/{b['id']}/sessions",
        headers=school_b.headers,
        json={
            "id_number": number,
            "sessions": [
                {"on_date": "2026-03-02", "starts_at": "11:00", "ends_at": "15:00"},
                {"on_date": "2026-03-03", "starts_at": "12:00", "ends_at": "15:00"},
            ],
        },
    )
    in_app(client, app.state.integrity_checks.idle)  # the check the import started
    overlapping = await flags(client, admin, rule="overlapping_sessions")
    assert len(overlapping) == 1
    evidence = overlapping[0]["evidence"]
    assert evidence["on_date"] == "2026-03-02"
    assert {evidence["first"]["institution_id"], evidence["second"]["institution_id"]} == {school_a.id, school_b.id}


async def test_a_confirmed_flag_holds_the_claim_and_the_institution_sees_it(client, actors):
    admin, trainer = await actors.admin(), await actors.agency("training")
    other = await actors.agency("training", name="另一所学校")
    await client.post(
        "/api/v1/bureau/subsidy-rules",
        headers=admin.headers,
        json={"name": "通用", "base_amount": 800, "valid_from": "2026-01-01"},
    )
    _, older = await actors.registered_worker(birth_date=date(1960, 5, 1))
    training = await actors.verified_training(trainer, older["id"], actors.last_body["id_number"])
    claim = (
        await client.post(
            "/api/v1/bureau/subsidy-claims", headers=trainer.headers, json={"training_id": training["id"]}
        )
    ).json()
    await run_check(client, admin)
    flag = (await flags(client, admin, rule="age_out_of_range"))[0]
    assert flag["claim_id"] == claim["id"] and flag["institution_id"] == trainer.id
    # Open flags are the bureau's business only.
    assert (
        await client.get(f"/api/v1/bureau/integrity-flags/{flag['id']}", headers=trainer.headers)
    ).status_code == 404
    no_reason = await client.post(
        f"/api/v1/bureau/integrity-flags/{flag['id']}/decision",
        headers=admin.headers,
        json={"decision": "confirmed", "reason": ""},
    )
    assert no_reason.status_code == 400 or no_reason.status_code == 422
    confirmed = await client.post(
        f"/api/v1/bureau/integrity-flags/{flag['id']}/decision",
        headers=admin.headers,
        json={"decision": "confirmed", "reason": "身份证显示开训时已满 66 岁"},
    )
    assert confirmed.status_code == 200 and confirmed.json()["decided_at"] is not None
    assert (await client.get(f"/api/v1/bureau/subsidy-claims/{claim['id']}", headers=trainer.headers)).json()[
        "held"
    ] is True
    held = await client.post(
        f"/api/v1/bureau/subsidy-claims/{claim['id']}/decision", headers=admin.headers, json={"status": "approved"}
    )
    assert held.status_code == 409
    seen = (await client.get("/api/v1/bureau/integrity-flags", headers=trainer.headers)).json()
    assert [f["id"] for f in seen["items"]] == [flag["id"]] and seen["items"][0]["decision_reason"]
    assert (await client.get("/api/v1/bureau/integrity-flags", headers=other.headers)).json()["total"] == 0
    assert (await client.get(f"/api/v1/bureau/integrity-flags/{flag['id']}", headers=other.headers)).status_code == 404
    # A later run keeps the decision.
    await run_check(client, admin)
    assert (await flags(client, admin, rule="age_out_of_range"))[0]["status"] == "confirmed"

    await client.post(
        f"/api/v1/bureau/integrity-flags/{flag['id']}/decision",
        headers=admin.headers,
        json={"decision": "dismissed", "reason": "出生日期登记有误，已更正"},
    )
    approved = await client.post(
        f"/api/v1/bureau/subsidy-claims/{claim['id']}/decision", headers=admin.headers, json={"status": "approved"}
    )
    assert approved.status_code == 200
    assert (await client.post("/api/v1/bureau/integrity-checks", headers=trainer.headers)).status_code == 403
