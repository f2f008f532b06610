"""Answers that used to tell "not yours" from "not there"."""

from __future__ import annotations

from service.accounts.guards import Role
from tests.conftest import in_app
from tests.factories import id_number, worker_body
from tests.security.world import MISSING, api_routes, bodies, build_world, ids_for


def shape(response):
    """What a caller learns from an answer: its status and body, less the echoed path."""
    try:
        body = response.json()
    except ValueError:
        return response.status_code, response.text
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "instance"}
    return response.status_code, body


# Claims and self-registration ---------------------------------------------------------------


async def test_claim_answers_alike_for_an_unknown_and_a_not_claimable_id_number(client, actors):
    agency = await actors.agency("housekeeping")
    victim = worker_body(phone="13912345678")
    assert (await client.post("/api/v1/workers", headers=agency.headers, json=victim)).status_code == 201
    prober = await actors.worker_account()
    taken = await client.post(
        "/api/v1/workers/claim",
        headers=prober.headers,
        json={"id_number": victim["id_number"], "phone_code": await actors.phone_code(prober.phone, "claim")},
    )
    unknown = await client.post(
        "/api/v1/workers/claim",
        headers=prober.headers,
        json={"id_number": id_number(), "phone_code": await actors.phone_code(prober.phone, "claim")},
    )
    assert shape(taken) == shape(unknown)
    assert taken.status_code == 409 and taken.json()["type"].endswith("/identity-unavailable")


async def test_self_registration_on_a_taken_id_number_says_no_more_than_a_failed_claim(client, actors):
    agency = await actors.agency("housekeeping")
    victim = worker_body(phone="13912345678")
    assert (await client.post("/api/v1/workers", headers=agency.headers, json=victim)).status_code == 201
    prober = await actors.worker_account()
    created = await client.post("/api/v1/workers", headers=prober.headers, json=victim | {"phone": prober.phone})
    failed_claim = await client.post(
        "/api/v1/workers/claim",
        headers=prober.headers,
        json={"id_number": id_number(), "phone_code": await actors.phone_code(prober.phone, "claim")},
    )
    assert shape(created) == shape(failed_claim)
    assert "already registered" not in created.text and "已登记" not in created.text


async def test_a_worker_account_cannot_scan_id_numbers(app, client, actors):
    limit = app.state.settings.identity_attempts_per_day
    prober = await actors.worker_account()
    for _ in range(limit):
        response = await client.post(
            "/api/v1/workers/claim",
            headers=prober.headers,
            json={"id_number": id_number(), "phone_code": await actors.phone_code(prober.phone, "claim")},
        )
        assert response.status_code == 409
    blocked = await client.post(
        "/api/v1/workers/claim",
        headers=prober.headers,
        json={"id_number": id_number(), "phone_code": await actors.phone_code(prober.phone, "claim")},
    )
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    # Also through self-registration, and for her own real number too, until the day is over.
    own = worker_body(phone=prober.phone)
    assert (await client.post("/api/v1/workers", headers=prober.headers, json=own)).status_code == 429
    # Another account is not affected.
    other = await actors.worker_account()
    mine = worker_body(phone=other.phone)
    assert (await client.post("/api/v1/workers", headers=other.headers, json=mine)).status_code == 201


# Lookup by ID number ---------------------------------------------------------------------------


async def lookup(client, who, number):
    return await client.post("/api/v1/workers/lookup", headers=who.headers, json={"id_number": number})


def lookups_in_db(client):
    from service.registry.tables import WorkerLookup

    return in_app(client, lambda: WorkerLookup.select().order_by(WorkerLookup.id))


async def test_lookup_finds_only_the_callers_own_or_bound_workers_and_is_recorded(client, actors):
    home = await actors.agency("housekeeping")
    rival = await actors.agency("housekeeping", name="另一家家政服务有限公司")
    trainer = await actors.agency("training")
    admin = await actors.admin()
    body = worker_body()
    record = (await client.post("/api/v1/workers", headers=home.headers, json=body)).json()
    number = body["id_number"]

    found = await lookup(client, home, number)
    assert found.status_code == 200 and found.json()["id"] == record["id"]
    assert found.json()["id_number_masked"] == record["id_number_masked"]
    assert (await lookup(client, admin, number)).status_code == 200

    # Another agency and an institution that never trained her: the same answer as for nobody.
    absent = await lookup(client, rival, id_number())
    for stranger in (rival, trainer):
        refused = await lookup(client, stranger, number)
        assert shape(refused) == shape(absent)
        assert refused.status_code == 404 and body["real_name"] not in refused.text

    # Once the institution holds a record of her, it may look her up.
    trained = await client.post(
        f"/api/v1/workers/{record['id']}/trainings",
        headers=trainer.headers,
        json={
            "id_number": number,
            "programme": "nanyue_jiazheng",
            "training_type": "employment_skills",
            "course": "育婴员培训",
            "hours": 40,
            "started_on": "2026-09-01",
            "finished_on": "2026-09-20",
            "result": "passed",
        },
    )
    assert trained.status_code == 201, trained.text
    assert (await lookup(client, trainer, number)).json()["id"] == record["id"]

    rows = lookups_in_db(client)
    assert [(r["agency"], r["worker"]) for r in rows] == [
        (home.id, record["id"]),
        (None, record["id"]),
        (rival.id, None),
        (rival.id, None),
        (trainer.id, None),
        (trainer.id, record["id"]),
    ]
    assert rows[1]["user"] == admin.id and all(r["at"] is not None for r in rows)
    assert all(r["api_key_id"] is not None for r in rows if r["agency"] is not None)
    # The raw ID number is not stored anywhere in the log.
    assert number not in repr(rows) and number[-8:] not in repr(rows)

    # The bureau reads the log; agencies do not.
    log = await client.get("/api/v1/workers/lookups", headers=admin.headers)
    assert log.status_code == 200 and len(log.json()) == 6
    assert log.json()[0]["agency_id"] == trainer.id and log.json()[0]["worker_id"] == record["id"]
    assert (await client.get("/api/v1/workers/lookups", headers=home.headers)).status_code == 403


async def test_lookups_are_rate_limited_per_credential(app, client, actors):
    limit = app.state.settings.lookups_per_minute
    agency = await actors.agency("housekeeping")
    admin = await actors.admin()
    second_key = await client.post(f"/api/v1/agencies/{agency.id}/api-keys", headers=admin.headers, json={})
    for _ in range(limit):
        assert (await lookup(client, agency, id_number())).status_code == 404
    blocked = await lookup(client, agency, id_number())
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    # Another credential has its own allowance.
    other = await client.post(
        "/api/v1/workers/lookup", headers={"X-API-Key": second_key.json()["key"]}, json={"id_number": id_number()}
    )
    assert other.status_code == 404
    assert len(lookups_in_db(client)) == limit + 1  # refused lookups did not run


async def test_parallel_lookups_cannot_overshoot_the_limit(app, client, actors):
    import asyncio

    limit = app.state.settings.lookups_per_minute
    agency = await actors.agency("housekeeping")
    answers = await asyncio.gather(*(lookup(client, agency, id_number()) for _ in range(limit + 10)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [404] * limit + [429] * 10


# Not yours or not there: one answer on every object route ------------------------------------


async def test_every_object_route_answers_alike_for_a_strangers_object_and_a_missing_one(app, client, actors):
    world = await build_world(client, actors)
    body_of = bodies(world)
    routes = [r for r in api_routes(app) if r.params]
    assert len(routes) >= 35
    compared = 0
    for route in routes:
        own = ids_for(route, world.ids)
        foreign_url = route.url(own)
        missing_url = route.url({name: MISSING for name in route.params})
        kwargs = {"json": body_of[route.operation_id]} if route.operation_id in body_of else {}
        for role, stranger in world.strangers.items():
            foreign = await client.request(route.method, foreign_url, headers=stranger.headers, **kwargs)
            missing = await client.request(route.method, missing_url, headers=stranger.headers, **kwargs)
            assert shape(foreign) == shape(missing), (route.method, route.path, role, foreign.text, missing.text)
            # Whoever may call the route at all learns "404", never the object.
            allowed = route.roles is None or Role(role) in route.roles
            if allowed:
                assert foreign.status_code == 404, (route.method, route.path, role, foreign.text)
            else:
                assert foreign.status_code == 403, (route.method, route.path, role, foreign.text)
            compared += 1
    assert compared == len(routes) * len(world.strangers)


async def test_an_issuer_with_no_record_of_her_gets_404_not_an_empty_list(client, actors):
    world = await build_world(client, actors)
    wid = world.ids["worker_id"]
    for role, kind in ((Role.TRAINING, "trainings"), (Role.EVALUATION, "certificates")):
        stranger = world.strangers[role.value]
        foreign = await client.get(f"/api/v1/workers/{wid}/{kind}", headers=stranger.headers)
        missing = await client.get(f"/api/v1/workers/{MISSING}/{kind}", headers=stranger.headers)
        assert foreign.status_code == missing.status_code == 404, foreign.text
        # The institution that issued hers reads its own.
        owner = world.owners[role.value]
        mine = await client.get(f"/api/v1/workers/{wid}/{kind}", headers=owner.headers)
        assert mine.status_code == 200 and len(mine.json()) == 1


async def test_a_rival_agency_recording_a_check_gets_404_as_for_a_missing_worker(client, actors):
    world = await build_world(client, actors)
    rival = world.strangers["housekeeping"]
    check = bodies(world)["createCheck"]
    foreign = await client.post(f"/api/v1/workers/{world.ids['worker_id']}/checks", headers=rival.headers, json=check)
    missing = await client.post(f"/api/v1/workers/{MISSING}/checks", headers=rival.headers, json=check)
    assert shape(foreign) == shape(missing) and foreign.status_code == 404
