"""Lists apply the binding rule of single reads; a phone search matches whole numbers only."""

from __future__ import annotations

from tests.factories import worker_body


async def listed_ids(client, agency, **params):
    response = await client.get("/api/v1/workers", headers=agency.headers, params=params)
    assert response.status_code == 200, response.text
    return [w["id"] for w in response.json()["items"]], response.json()["total"]


async def test_an_agency_that_lost_sight_of_a_worker_does_not_find_her_in_its_list(client, actors):
    agency = await actors.agency("housekeeping")
    person = await actors.worker_account()
    body = worker_body(phone=person.phone, real_name="欧阳丽华")
    record = (await client.post("/api/v1/workers", headers=agency.headers, json=body)).json()
    assert await listed_ids(client, agency, q="欧阳丽华") == ([record["id"]], 1)

    # She claims her record and has not confirmed the binding: the agency no longer sees her ...
    claimed = await client.post(
        "/api/v1/workers/claim",
        headers=person.headers,
        json={"id_number": body["id_number"], "phone_code": await actors.phone_code(person.phone, "claim")},
    )
    assert claimed.status_code == 200
    assert (await client.get(f"/api/v1/workers/{record['id']}", headers=agency.headers)).status_code == 404
    # ... nor through its list, by name, by district, or unfiltered.
    assert await listed_ids(client, agency, q="欧阳丽华") == ([], 0)
    assert await listed_ids(client, agency, district_code="441802") == ([], 0)
    assert await listed_ids(client, agency) == ([], 0)

    # Her new phone number: a digit prefix used to reveal it; now only the whole number matches, and
    # only among the workers the agency may see.
    tag = claimed.headers["etag"]
    new_phone = "13766554433"
    changed = await client.patch(
        f"/api/v1/workers/{record['id']}", headers=person.headers | {"If-Match": tag}, json={"phone": new_phone}
    )
    assert changed.status_code == 200, changed.text
    for q in ("137", "1376655", new_phone):
        assert await listed_ids(client, agency, q=q) == ([], 0), q

    # Once she confirms, list and single read agree again.
    confirmed = await client.post(f"/api/v1/workers/{record['id']}/agency-binding/confirm", headers=person.headers)
    assert confirmed.status_code == 200
    assert await listed_ids(client, agency, q=new_phone) == ([record["id"]], 1)
    assert (await client.get(f"/api/v1/workers/{record['id']}", headers=agency.headers)).status_code == 200


async def test_phone_search_is_an_exact_match_on_the_whole_number(client, actors):
    agency = await actors.agency("housekeeping")
    record = (
        await client.post("/api/v1/workers", headers=agency.headers, json=worker_body(phone="13812345678"))
    ).json()
    assert await listed_ids(client, agency, q="13812345678") == ([record["id"]], 1)
    for part in ("138", "1381234567", "12345678", "5678"):
        assert await listed_ids(client, agency, q=part) == ([], 0), part


async def test_list_and_single_read_agree_in_every_binding_state(client, actors):
    """The one rule, checked both ways: each worker is in the agency's list exactly when the
    agency can read her record."""
    agency = await actors.agency("housekeeping")
    other = await actors.agency("housekeeping", name="另一家家政服务有限公司")
    ids = []
    # unclaimed; claimed and pending; claimed and confirmed; claimed and declined; another agency's.
    for step in ("unclaimed", "pending", "confirmed", "declined", "foreign"):
        person = await actors.worker_account()
        body = worker_body(phone=person.phone)
        owner = other if step == "foreign" else agency
        record = (await client.post("/api/v1/workers", headers=owner.headers, json=body)).json()
        ids.append(record["id"])
        if step in ("pending", "confirmed", "declined"):
            await client.post(
                "/api/v1/workers/claim",
                headers=person.headers,
                json={"id_number": body["id_number"], "phone_code": await actors.phone_code(person.phone, "claim")},
            )
        if step == "confirmed":
            await client.post(f"/api/v1/workers/{record['id']}/agency-binding/confirm", headers=person.headers)
        if step == "declined":
            await client.post(f"/api/v1/workers/{record['id']}/agency-binding/decline", headers=person.headers)
    listed, _ = await listed_ids(client, agency, limit=100)
    readable = [i for i in ids if (await client.get(f"/api/v1/workers/{i}", headers=agency.headers)).status_code == 200]
    assert listed == readable == [ids[0], ids[2]]
