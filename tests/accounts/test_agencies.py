"""Agencies and their API keys."""

from tests.factories import credit_code, worker_body


async def test_an_admin_registers_an_agency_and_issues_a_key_shown_once(client, actors):
    admin = await actors.admin()
    created = await client.post(
        "/api/v1/agencies",
        headers=admin.headers,
        json={
            "name": "清远市好帮手家政服务有限公司",
            "kind": "housekeeping",
            "district_code": "441802",
            "credit_code": credit_code(),
        },
    )
    assert created.status_code == 201
    agency_id = created.json()["id"]
    issued = await client.post(f"/api/v1/agencies/{agency_id}/api-keys", headers=admin.headers, json={"label": "ERP"})
    assert issued.status_code == 201
    key = issued.json()["key"]
    assert key.startswith(f"nyk_{issued.json()['prefix']}_")
    listed = await client.get(f"/api/v1/agencies/{agency_id}/api-keys", headers=admin.headers)
    assert key not in listed.text and listed.json()[0]["prefix"] == issued.json()["prefix"]

    agency = {"X-API-Key": key}
    assert (await client.get(f"/api/v1/agencies/{agency_id}", headers=agency)).status_code == 200
    assert (await client.post("/api/v1/workers", headers=agency, json=worker_body())).status_code == 201


async def test_a_revoked_key_stops_working_at_once(client, actors):
    agency = await actors.agency("housekeeping")
    second = await client.post(f"/api/v1/agencies/{agency.id}/api-keys", headers=agency.headers, json={})
    assert second.status_code == 201
    revoked = await client.delete(
        f"/api/v1/agencies/{agency.id}/api-keys/{second.json()['id']}", headers=agency.headers
    )
    assert revoked.status_code == 204
    response = await client.get(f"/api/v1/agencies/{agency.id}", headers={"X-API-Key": second.json()["key"]})
    assert response.status_code == 401
    assert (await client.get(f"/api/v1/agencies/{agency.id}", headers=agency.headers)).status_code == 200


async def test_keys_are_scoped_to_their_agency(client, actors):
    mine = await actors.agency("housekeeping")
    other = await actors.agency("training")
    assert (await client.get(f"/api/v1/agencies/{other.id}", headers=mine.headers)).status_code == 404
    assert (
        await client.post(f"/api/v1/agencies/{other.id}/api-keys", headers=mine.headers, json={})
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/agencies/{mine.id}/api-keys", headers={"X-API-Key": mine.key[:-2] + "xx"})
    ).status_code == 401


async def test_a_key_with_fewer_scopes_can_do_less(client, actors):
    agency = await actors.agency("housekeeping")
    narrow = await client.post(
        f"/api/v1/agencies/{agency.id}/api-keys", headers=agency.headers, json={"scopes": ["workers:read"]}
    )
    headers = {"X-API-Key": narrow.json()["key"]}
    assert (await client.get("/api/v1/workers", headers=headers)).status_code == 200
    assert (await client.post("/api/v1/workers", headers=headers, json=worker_body())).status_code == 403
    wider = await client.post(f"/api/v1/agencies/{agency.id}/api-keys", headers=headers, json={})
    assert wider.status_code == 403
    wrong_kind = await client.post(
        f"/api/v1/agencies/{agency.id}/api-keys", headers=agency.headers, json={"scopes": ["certificates:write"]}
    )
    assert wrong_kind.status_code == 422 and wrong_kind.json()["errors"][0]["field"] == "scopes"


async def test_agency_registration_is_admin_only_and_credit_codes_unique(client, actors):
    admin = await actors.admin()
    body = {"name": "某培训学校", "kind": "training", "district_code": "441881", "credit_code": credit_code()}
    assert (await client.post("/api/v1/agencies", headers=admin.headers, json=body)).status_code == 201
    assert (await client.post("/api/v1/agencies", headers=admin.headers, json=body)).status_code == 409
    agency = await actors.agency("housekeeping")
    assert (await client.post("/api/v1/agencies", headers=agency.headers, json=body)).status_code == 403
