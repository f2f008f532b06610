"""Subsidy claims priced by the bureau's rules, decided with who and when; targets and budgets."""

from tests.factories import training_body

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-12-31"}


async def rules(client, admin):
    general = await client.post(
        "/api/v1/bureau/subsidy-rules",
        headers=admin.headers,
        json={"name": "通用标准", "base_amount": 500, "valid_from": "2026-01-01"},
    )
    assert general.status_code == 201, general.text
    specific = await client.post(
        "/api/v1/bureau/subsidy-rules",
        headers=admin.headers,
        json={
            "name": "南粤家政 就业技能培训",
            "programme_code": "nanyue_jiazheng",
            "training_type": "employment_skills",
            "base_amount": 1000,
            "bonus_pct": 30,
            "valid_from": "2026-01-01",
        },
    )
    assert specific.status_code == 201
    assert "4-10-01-06" in specific.json()["bonus_occupations"]  # the taxonomy's shortage occupations by default
    return general.json(), specific.json()


async def trained_worker(client, actors, trainer, **training):
    _, record = await actors.registered_worker()
    number = actors.last_body["id_number"]
    verified = await actors.verified_training(trainer, record["id"], number, **training)
    return record, number, verified


async def test_a_claim_is_priced_by_the_most_specific_rule_with_the_shortage_bonus(client, actors):
    admin, trainer = await actors.admin(), await actors.agency("training")
    general, specific = await rules(client, admin)
    record, number, training = await trained_worker(client, actors, trainer, level=3, course="家政服务员（三级）培训")
    claim = await client.post(
        "/api/v1/bureau/subsidy-claims", headers=trainer.headers, json={"training_id": training["id"]}
    )
    assert claim.status_code == 201, claim.text
    body = claim.json()
    assert body["amount"] == 1300 and body["rule_id"] == specific["id"] and body["status"] == "claimed"
    assert body["pricing"]["bonus_pct"] == 30 and body["pricing"]["base_amount"] == 1000
    assert body["history"][0]["to_status"] == "claimed" and body["history"][0]["by_agency"] == trainer.id

    again = await client.post(
        "/api/v1/bureau/subsidy-claims", headers=trainer.headers, json={"training_id": training["id"]}
    )
    assert again.status_code == 409
    # Another programme falls back to the general rule; a course without a level gets no bonus.
    _, _, other = await trained_worker(
        client, actors, trainer, programme="yuecai_shifu", level=None, course="粤菜烹饪培训", occupation_code=None
    )
    fallback = (
        await client.post("/api/v1/bureau/subsidy-claims", headers=trainer.headers, json={"training_id": other["id"]})
    ).json()
    assert fallback["amount"] == 500 and fallback["rule_id"] == general["id"]


async def test_only_the_institution_claims_only_verified_trainings(client, actors):
    admin, trainer = await actors.admin(), await actors.agency("training")
    other = await actors.agency("training", name="另一所学校")
    await rules(client, admin)
    _, record = await actors.registered_worker()
    number = actors.last_body["id_number"]
    pending = (
        await client.post(
            f"/api/v1/workers/{record['id']}/trainings", headers=trainer.headers, json=training_body(id_number=number)
        )
    ).json()
    refused = await client.post(
        "/api/v1/bureau/subsidy-claims", headers=trainer.headers, json={"training_id": pending["id"]}
    )
    assert refused.status_code == 409
    assert (
        await client.post("/api/v1/bureau/subsidy-claims", headers=other.headers, json={"training_id": pending["id"]})
    ).status_code == 404
    assert (
        await client.post("/api/v1/bureau/subsidy-claims", headers=admin.headers, json={"training_id": pending["id"]})
    ).status_code == 403


async def test_the_bureau_approves_pays_and_recovers_and_every_step_is_recorded(client, actors):
    admin, trainer = await actors.admin(), await actors.agency("training")
    other = await actors.agency("training", name="另一所学校")
    await rules(client, admin)
    _, _, training = await trained_worker(client, actors, trainer)
    claim = (
        await client.post(
            "/api/v1/bureau/subsidy-claims", headers=trainer.headers, json={"training_id": training["id"]}
        )
    ).json()
    url = f"/api/v1/bureau/subsidy-claims/{claim['id']}"
    assert (await client.post(f"{url}/decision", headers=admin.headers, json={"status": "paid"})).status_code == 409
    for step in ("approved", "paid", "recovered"):
        moved = await client.post(f"{url}/decision", headers=admin.headers, json={"status": step, "reason": step})
        assert moved.status_code == 200 and moved.json()["status"] == step
    history = (await client.get(url, headers=trainer.headers)).json()["history"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "claimed"),
        ("claimed", "approved"),
        ("approved", "paid"),
        ("paid", "recovered"),
    ]
    assert all(h["by_user"] == admin.id for h in history[1:])
    assert (
        await client.post(f"{url}/decision", headers=trainer.headers, json={"status": "approved"})
    ).status_code == 403
    assert (await client.get(url, headers=other.headers)).status_code == 404
    assert (await client.get("/api/v1/bureau/subsidy-claims", headers=other.headers)).json()["total"] == 0
    assert (await client.get("/api/v1/bureau/subsidy-claims", headers=trainer.headers)).json()["total"] == 1


async def test_money_against_budget_by_month_and_quarter(client, actors):
    admin, trainer = await actors.admin(), await actors.agency("training")
    await rules(client, admin)
    budget = await client.put(
        "/api/v1/bureau/budgets",
        headers=admin.headers,
        json={"year": 2026, "programme_code": "nanyue_jiazheng", "amount": 4000},
    )
    assert budget.status_code == 200
    again = await client.put(
        "/api/v1/bureau/budgets",
        headers=admin.headers,
        json={"year": 2026, "programme_code": "nanyue_jiazheng", "amount": 5000},
    )
    assert again.json()["id"] == budget.json()["id"] and again.json()["amount"] == 5000
    amounts = []
    for decision in ("approved", "refused", None):
        _, _, training = await trained_worker(client, actors, trainer)
        claim = (
            await client.post(
                "/api/v1/bureau/subsidy-claims", headers=trainer.headers, json={"training_id": training["id"]}
            )
        ).json()
        amounts.append(claim["amount"])
        if decision:
            await client.post(
                f"/api/v1/bureau/subsidy-claims/{claim['id']}/decision",
                headers=admin.headers,
                json={"status": decision},
            )
    report = (
        await client.get(
            "/api/v1/reports/subsidies", headers=admin.headers, params=PERIOD | {"group_by": "programme,quarter"}
        )
    ).json()
    total = next(r for r in report["rows"] if r["group"] == [])
    assert total["claims"] == 3 and total["claimed"] == sum(amounts) and total["approved"] == amounts[0]
    assert total["refused"] == amounts[1] and total["paid"] == 0
    nanyue = next(r for r in report["rows"] if r["group"] == ["programme"])
    assert nanyue["budget"] == 5000 and nanyue["budget_used_pct"] == round(amounts[0] * 100 / 5000, 2)
    quarters = [r for r in report["rows"] if r["group"] == ["quarter"]]
    assert sum(r["claimed"] for r in quarters) == total["claimed"] and quarters[0]["quarter"].startswith("2026-Q")
    own = (await client.get("/api/v1/reports/subsidies", headers=trainer.headers, params=PERIOD)).json()
    assert own["rows"][0]["claimed"] == sum(amounts) and own["rows"][0]["budget"] is None


async def test_targets_are_set_once_per_key(client, actors):
    admin = await actors.admin()
    first = await client.put(
        "/api/v1/bureau/targets", headers=admin.headers, json={"year": 2026, "metric": "certified", "target": 15000}
    )
    second = await client.put(
        "/api/v1/bureau/targets", headers=admin.headers, json={"year": 2026, "metric": "certified", "target": 16000}
    )
    assert first.json()["id"] == second.json()["id"] and second.json()["target"] == 16000
    bad = await client.put(
        "/api/v1/bureau/targets",
        headers=admin.headers,
        json={"year": 2026, "metric": "certified", "district_code": "449999", "target": 1},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "district_code"
    listed = (await client.get("/api/v1/bureau/targets", headers=admin.headers, params={"year": 2026})).json()
    assert [(t["metric"], t["target"]) for t in listed] == [("certified", 16000)]
