"""A worker's record: who may create, read and change it, and what each caller sees."""

from datetime import date

from piccolo.querystring import QueryString

from tests.conftest import in_app
from tests.factories import id_number, worker_body


async def test_a_worker_registers_herself_and_reads_her_record(client, actors):
    person, record = await actors.registered_worker(real_name="陈秀英")
    assert record["real_name"] == "陈秀英"
    assert record["id_number_masked"].startswith("4418") and "*" * 10 in record["id_number_masked"]
    assert "id_number" not in record
    assert record["districts"][0] == {"code": "441802", "name_zh": "清城区"}
    assert record["consent"] == {"given": False, "given_at": None}

    me = await client.get("/api/v1/workers/me", headers=person.headers)
    assert me.status_code == 200
    assert me.json()["id"] == record["id"]
    assert me.headers["etag"] == f'"{record["id"]}-1"'


async def test_the_id_number_is_encrypted_at_rest_and_never_answered(client, actors, app):
    body = worker_body()
    person = await actors.worker_account()
    created = await client.post("/api/v1/workers", headers=person.headers, json=body | {"phone": person.phone})
    assert created.status_code == 201
    assert body["id_number"] not in created.text

    async def stored():
        return await app.state.engine.run_querystring(
            QueryString(
                "SELECT id_number_encrypted, id_number_index, id_number_masked, "
                "position(convert_to({}, 'UTF8') in id_number_encrypted) AS found FROM worker",
                body["id_number"],
            )
        )

    row = in_app(client, stored)[0]
    assert row["found"] == 0  # no plaintext inside the ciphertext column
    assert body["id_number"] not in row["id_number_index"]
    assert app.state.cipher.decrypt(row["id_number_encrypted"]) == body["id_number"]
    assert row["id_number_masked"] == body["id_number"][:4] + "*" * 10 + body["id_number"][-4:]


async def test_the_same_person_cannot_be_registered_twice(client, actors):
    agency = await actors.agency("housekeeping")
    body = worker_body()
    assert (await client.post("/api/v1/workers", headers=agency.headers, json=body)).status_code == 201
    person = await actors.worker_account()
    # Same ID number, lower-case check letter or not, another phone: still the same person.
    again = await client.post("/api/v1/workers", headers=person.headers, json=body | {"phone": person.phone})
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "id_number"


async def test_invalid_id_numbers_are_refused_naming_the_field(client, actors):
    person = await actors.worker_account()
    good = id_number(date(1985, 3, 7))
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    for bad in (wrong_check, "44180219850307123", "4418021985030712AX", "441802198502301234"):
        response = await client.post(
            "/api/v1/workers", headers=person.headers, json=worker_body(id_number=bad, phone=person.phone)
        )
        assert response.status_code in (400, 422), bad
        assert any(e["field"] == "id_number" for e in response.json()["errors"]), response.json()


async def test_birth_date_and_gender_must_agree_with_the_id_number(client, actors):
    person = await actors.worker_account()
    body = worker_body(phone=person.phone)
    wrong_birth = await client.post("/api/v1/workers", headers=person.headers, json=body | {"birth_date": "1986-03-07"})
    assert wrong_birth.status_code == 422 and wrong_birth.json()["errors"][0]["field"] == "birth_date"
    wrong_gender = await client.post("/api/v1/workers", headers=person.headers, json=body | {"gender": "male"})
    assert wrong_gender.status_code == 422 and wrong_gender.json()["errors"][0]["field"] == "gender"


async def test_unknown_codes_and_inverted_wages_are_refused(client, actors):
    person = await actors.worker_account()
    body = worker_body(phone=person.phone)
    cases = {
        "district_codes": body | {"district_codes": ["449999"]},
        "skills": body | {"skills": ["juggling"]},
        "wage_min": body | {"wage_min": 9000, "wage_max": 7000},
    }
    for field, bad in cases.items():
        response = await client.post("/api/v1/workers", headers=person.headers, json=bad)
        assert response.status_code == 422, field
        assert response.json()["errors"][0]["field"] == field


async def test_an_employer_sees_only_the_public_shape_and_only_after_consent(client, actors):
    person, record = await actors.registered_worker(real_name="欧阳丽华")
    employer = await actors.employer()
    hidden = await client.get(f"/api/v1/workers/{record['id']}", headers=employer.headers)
    assert hidden.status_code == 404

    assert (await client.post(f"/api/v1/workers/{record['id']}/consent", headers=person.headers)).status_code == 200
    shown = await client.get(f"/api/v1/workers/{record['id']}", headers=employer.headers)
    assert shown.status_code == 200
    public = shown.json()
    assert public["display_name"] == "欧阳阿姨"
    for private in ("real_name", "id_number_masked", "phone", "birth_date", "ethnicity", "native_place"):
        assert private not in public
    assert person.phone not in shown.text and "欧阳丽华" not in shown.text
    assert "etag" not in shown.headers

    withdrawn = await client.delete(f"/api/v1/workers/{record['id']}/consent", headers=person.headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["consent"]["given"] is False
    assert (await client.get(f"/api/v1/workers/{record['id']}", headers=employer.headers)).status_code == 404


async def test_consent_history_is_kept(client, actors):
    person, record = await actors.registered_worker()
    url = f"/api/v1/workers/{record['id']}/consent"
    await client.post(url, headers=person.headers)
    await client.post(url, headers=person.headers)  # a retry changes nothing
    await client.delete(url, headers=person.headers)
    history = await client.get(f"{url}/history", headers=person.headers)
    assert [e["action"] for e in history.json()] == ["granted", "withdrawn"]


async def test_only_she_can_consent_not_her_agency_nor_the_bureau(client, actors):
    agency = await actors.agency("housekeeping")
    created = await client.post("/api/v1/workers", headers=agency.headers, json=worker_body())
    worker_id = created.json()["id"]
    admin = await actors.admin()
    assert (await client.post(f"/api/v1/workers/{worker_id}/consent", headers=agency.headers)).status_code == 403
    assert (await client.post(f"/api/v1/workers/{worker_id}/consent", headers=admin.headers)).status_code == 403


async def test_other_workers_and_other_agencies_cannot_see_a_record(client, actors):
    _, record = await actors.registered_worker()
    other, _ = await actors.registered_worker()
    stranger_agency = await actors.agency("housekeeping", name="另一家家政公司")
    for headers in (other.headers, stranger_agency.headers):
        response = await client.get(f"/api/v1/workers/{record['id']}", headers=headers)
        assert response.status_code == 404
        patched = await client.patch(
            f"/api/v1/workers/{record['id']}", headers=headers | {"If-Match": '"1-1"'}, json={"experience_years": 9}
        )
        assert patched.status_code in (403, 404)


async def test_an_agency_registers_a_worker_who_then_claims_and_confirms_the_binding(client, actors):
    agency = await actors.agency("housekeeping")
    person = await actors.worker_account()
    actors_body = worker_body(phone=person.phone)
    created = await client.post("/api/v1/workers", headers=agency.headers, json=actors_body)
    assert created.status_code == 201
    record = created.json()
    assert record["agency_id"] == agency.id and record["agency_binding"] == "pending"

    assert (await client.get("/api/v1/workers/me", headers=person.headers)).status_code == 404
    claimed = await client.post(
        "/api/v1/workers/claim",
        headers=person.headers,
        json={"id_number": actors_body["id_number"], "phone_code": await actors.phone_code(person.phone, "claim")},
    )
    assert claimed.status_code == 200 and claimed.json()["id"] == record["id"]
    mine = await client.get("/api/v1/workers/me", headers=person.headers)
    assert mine.status_code == 200 and mine.json()["id"] == record["id"]
    confirmed = await client.post(f"/api/v1/workers/{record['id']}/agency-binding/confirm", headers=person.headers)
    assert confirmed.json()["agency_binding"] == "confirmed"

    listed = await client.get("/api/v1/workers", headers=agency.headers)
    assert [w["id"] for w in listed.json()["items"]] == [record["id"]]
    assert listed.json()["items"][0]["agency_binding"] == "confirmed"


async def test_declining_the_binding_ends_the_agencys_access(client, actors):
    agency = await actors.agency("housekeeping")
    person = await actors.worker_account()
    body = worker_body(phone=person.phone)
    record = (await client.post("/api/v1/workers", headers=agency.headers, json=body)).json()
    await client.post(
        "/api/v1/workers/claim",
        headers=person.headers,
        json={"id_number": body["id_number"], "phone_code": await actors.phone_code(person.phone, "claim")},
    )
    declined = await client.post(f"/api/v1/workers/{record['id']}/agency-binding/decline", headers=person.headers)
    assert declined.json()["agency_id"] is None
    assert (await client.get(f"/api/v1/workers/{record['id']}", headers=agency.headers)).status_code == 404


async def test_etag_flow_if_match_required_and_stale_refused(client, actors):
    person, record = await actors.registered_worker()
    url = f"/api/v1/workers/{record['id']}"
    current = await client.get(url, headers=person.headers)
    tag = current.headers["etag"]

    missing = await client.patch(url, headers=person.headers, json={"experience_years": 7})
    assert missing.status_code == 428
    changed = await client.patch(url, headers=person.headers | {"If-Match": tag}, json={"experience_years": 7})
    assert changed.status_code == 200
    assert changed.json()["experience_years"] == 7
    assert changed.headers["etag"] != tag
    stale = await client.patch(url, headers=person.headers | {"If-Match": tag}, json={"experience_years": 8})
    assert stale.status_code == 412
    assert (await client.get(url, headers=person.headers)).json()["experience_years"] == 7


async def test_only_the_bureau_suspends_a_worker(client, actors):
    person, record = await actors.registered_worker()
    url = f"/api/v1/workers/{record['id']}"
    tag = (await client.get(url, headers=person.headers)).headers["etag"]
    refused = await client.patch(url, headers=person.headers | {"If-Match": tag}, json={"status": "suspended"})
    assert refused.status_code == 403
    admin = await actors.admin()
    done = await client.patch(url, headers=admin.headers | {"If-Match": tag}, json={"status": "suspended"})
    assert done.status_code == 200 and done.json()["status"] == "suspended"


async def test_agencies_search_their_own_workers_by_fuzzy_name(client, actors):
    agency = await actors.agency("housekeeping")
    other = await actors.agency("housekeeping", name="别家家政")
    for name in ("陈秀英", "陈秀兰", "李美玲", "黄丽"):
        await client.post("/api/v1/workers", headers=agency.headers, json=worker_body(real_name=name))
    await client.post("/api/v1/workers", headers=other.headers, json=worker_body(real_name="陈秀英"))

    found = await client.get("/api/v1/workers", headers=agency.headers, params={"q": "陈秀英"})
    assert found.status_code == 200
    names = [w["real_name"] for w in found.json()["items"]]
    assert names[0] == "陈秀英" and "陈秀兰" in names and "李美玲" not in names
    assert found.json()["total"] == len(names) == 2  # the other agency's 陈秀英 is not hers

    admin = await actors.admin()
    everyone = await client.get("/api/v1/workers", headers=admin.headers, params={"q": "陈秀英"})
    assert [w["real_name"] for w in everyone.json()["items"]].count("陈秀英") == 2

    paged = await client.get("/api/v1/workers", headers=agency.headers, params={"limit": 2, "offset": 2})
    assert paged.json()["total"] == 4 and len(paged.json()["items"]) == 2
    assert (await client.get("/api/v1/workers", headers=agency.headers, params={"limit": 1000})).status_code == 400


async def test_employers_and_workers_cannot_list_workers(client, actors):
    employer = await actors.employer()
    person, _ = await actors.registered_worker()
    assert (await client.get("/api/v1/workers", headers=employer.headers)).status_code == 403
    assert (await client.get("/api/v1/workers", headers=person.headers)).status_code == 403


async def test_agencies_find_a_worker_by_id_number(client, actors):
    agency = await actors.agency("housekeeping")
    body = worker_body(real_name="陈秀英")
    record = (await client.post("/api/v1/workers", headers=agency.headers, json=body)).json()
    number = body["id_number"]
    found = await client.post("/api/v1/workers/lookup", headers=agency.headers, json={"id_number": number.lower()})
    assert found.status_code == 200
    assert found.json() == {
        "id": record["id"],
        "display_name": "陈阿姨",
        "id_number_masked": record["id_number_masked"],
    }
    missing = await client.post(
        "/api/v1/workers/lookup", headers=agency.headers, json={"id_number": id_number(date(1990, 1, 1))}
    )
    assert missing.status_code == 404
    # An institution with no record of her does not find her (tests/security covers the rest).
    trainer = await actors.agency("training")
    assert (
        await client.post("/api/v1/workers/lookup", headers=trainer.headers, json={"id_number": number})
    ).status_code == 404
    employer = await actors.employer()
    refused = await client.post("/api/v1/workers/lookup", headers=employer.headers, json={"id_number": number})
    assert refused.status_code == 403


async def test_a_stranger_with_her_phone_but_not_her_id_number_cannot_claim(client, actors):
    agency = await actors.agency("housekeeping")
    victim_phone = "13912345678"
    body = worker_body(phone=victim_phone, ethnicity="瑶族")
    record = (await client.post("/api/v1/workers", headers=agency.headers, json=body)).json()
    # Someone registers an account on another phone and knows her ID number: not enough.
    stranger = await actors.worker_account()
    wrong_phone = await client.post(
        "/api/v1/workers/claim",
        headers=stranger.headers,
        json={"id_number": body["id_number"], "phone_code": await actors.phone_code(stranger.phone, "claim")},
    )
    assert wrong_phone.status_code == 409 and wrong_phone.json()["type"].endswith("/identity-unavailable")
    assert (await client.get(f"/api/v1/workers/{record['id']}", headers=stranger.headers)).status_code == 404


async def test_before_she_confirms_the_agency_only_keeps_an_unclaimed_record(client, actors):
    agency = await actors.agency("housekeeping")
    person = await actors.worker_account()
    body = worker_body(phone=person.phone)
    record = (await client.post("/api/v1/workers", headers=agency.headers, json=body)).json()
    url = f"/api/v1/workers/{record['id']}"
    assert (await client.get(url, headers=agency.headers)).status_code == 200  # unclaimed: the agency's own entry
    await client.post(
        "/api/v1/workers/claim",
        headers=person.headers,
        json={"id_number": body["id_number"], "phone_code": await actors.phone_code(person.phone, "claim")},
    )
    tag = (await client.get(url, headers=person.headers)).headers["etag"]
    assert (await client.get(url, headers=agency.headers)).status_code == 404
    assert (
        await client.patch(url, headers=agency.headers | {"If-Match": tag}, json={"experience_years": 1})
    ).status_code == 404
    await client.post(f"{url}/agency-binding/confirm", headers=person.headers)
    assert (await client.get(url, headers=agency.headers)).status_code == 200


async def test_ids_beyond_the_database_range_and_nul_characters_are_400s(client, actors):
    admin = await actors.admin()
    for url in ("/api/v1/workers/3000000000", "/api/v1/agencies/3000000000", "/api/v1/job-requests/3000000000"):
        response = await client.get(url, headers=admin.headers)
        assert response.status_code == 400, (url, response.text)
    token = await client.post("/api/v1/auth/token", json={"phone": "1\u00003", "password": "x"})
    assert token.status_code == 400 and token.json()["errors"][0]["field"] == "phone"
    person = await actors.worker_account()
    nul_name = await client.post(
        "/api/v1/workers", headers=person.headers, json=worker_body(phone=person.phone, real_name="陈\u0000")
    )
    assert nul_name.status_code == 400 and nul_name.json()["errors"][0]["field"] == "real_name"
    _, record = await actors.registered_worker()
    huge_etag = await client.patch(
        f"/api/v1/workers/{record['id']}",
        headers=admin.headers | {"If-Match": f'"{record["id"]}-99999999999"'},
        json={"experience_years": 2},
    )
    assert huge_etag.status_code == 412
