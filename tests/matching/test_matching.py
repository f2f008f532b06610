"""An employer posts a request and reads ranked, explained matches."""

from datetime import timedelta

import pytest

from service.registry.domain import today_local
from tests.factories import START, matches, post_request


async def test_the_order_and_scores_are_the_hand_computed_ones(client, actors, registry):
    # A: both skills, 四级 certificate, 6 years, asks 8000, speaks 粤语.
    pa, a = await registry.worker(
        real_name="陈秀英",
        certificate_level=4,
        experience_years=6,
        wage_min=8000,
        wage_max=9000,
        skills=["maternity_postpartum_care", "lactation_support"],
        languages=["粤语"],
    )
    # B: one skill of two, no certificate, 10 years, asks 10000, only 普通话, trained last month, never placed.
    pb, b = await registry.worker(
        real_name="李美玲",
        experience_years=10,
        wage_min=10000,
        wage_max=11000,
        skills=["maternity_postpartum_care"],
        languages=["普通话"],
        trained_on=today_local() - timedelta(days=30),
    )
    # C: both skills, 三级 certificate, 2 years, asks 7000, speaks 粤语.
    pc, c = await registry.worker(
        real_name="黄丽",
        certificate_level=3,
        experience_years=2,
        wage_min=7000,
        wage_max=8000,
        skills=["maternity_postpartum_care", "lactation_support"],
        languages=["粤语", "普通话"],
    )
    employer = await actors.employer()
    job = await post_request(client, employer)
    page = await matches(client, employer, job["id"])

    # Their integrity ratings: 10 identity + 10 health + 26.25 (review prior 4.0) + certificate/training points.
    integrity = {}
    for person, record, points in ((pa, a, 8), (pb, b, 5), (pc, c, 11)):
        rating = (await client.get(f"/api/v1/workers/{record['id']}/integrity", headers=person.headers)).json()
        assert rating["score"] == round(10 + 10 + 26.25 + points)
        integrity[record["id"]] = rating["score"] / 100
    # skills .30, certificate .15, integrity .15, wage .15, experience .10, distance .10, language .05
    # Certificates are worth their place in 家政服务员's own levels (五级 … 二级): 四级 2/4, 三级 3/4.
    expected = {
        a["id"]: 0.30 * 1 + 0.15 * 0.5 + 0.15 * integrity[a["id"]] + 0.15 * 1 + 0.10 * 0.6 + 0.10 * 1 + 0.05 * 1,
        c["id"]: 0.30 * 1 + 0.15 * 0.75 + 0.15 * integrity[c["id"]] + 0.15 * 1 + 0.10 * 0.2 + 0.10 * 1 + 0.05 * 1,
        b["id"]: 0.30 * 0.5 + 0 + 0.15 * integrity[b["id"]] + 0.15 * (1 - 1000 / 4500) + 0.10 * 1 + 0.10 * 1 + 0 + 0.05,
    }
    assert [m["worker_id"] for m in page["items"]] == [c["id"], a["id"], b["id"]]
    for item in page["items"]:
        assert item["score"] == pytest.approx(expected[item["worker_id"]], abs=1e-4)
        assert sum(comp["contribution"] for comp in item["components"]) + sum(
            x["value"] for x in item["bonuses"]
        ) == pytest.approx(item["score"], abs=1e-3)
        assert item["algorithm_version"] == page["algorithm_version"]
    first, second, last = page["items"]
    assert second["display_name"] == "陈阿姨" and second["unmet"] == [] and second["bonuses"] == []
    certificate = {
        item["worker_id"]: next(c for c in item["components"] if c["name"] == "certificate") for item in page["items"]
    }
    assert "家政服务员（母婴护理员） 三级/高级工" in certificate[c["id"]]["detail"]
    assert "家政服务员（母婴护理员） 四级/中级工" in certificate[a["id"]]["detail"]
    assert [x["name"] for x in last["bonuses"]] == ["recently_trained"]
    assert len(last["unmet"]) == 4  # no counted certificate, 催乳 missing, no 粤语, wage above budget
    assert "家政服务员（母婴护理员）、育婴员" in last["unmet"][0]
    assert page["total"] == 3
    assert "陈秀英" not in str(page) and "李美玲" not in str(page)


async def test_each_hard_filter_removes_and_is_counted(client, actors, registry):
    await registry.worker()  # eligible
    await registry.worker(consent=False)
    await registry.worker(categories=["elderly"])
    await registry.worker(district_codes=["441881"])
    await registry.worker(health="home")  # 居家 tier is below the 母婴 tier
    await registry.worker(available_from=(START + timedelta(days=5)).isoformat())
    employer = await actors.employer()
    job = await post_request(client, employer)
    page = await matches(client, employer, job["id"])
    assert page["total"] == 1
    removed = {e["filter"]: e["removed"] for e in page["excluded"]}
    assert removed == {"area": 1, "status": 1, "category": 1, "health_check": 1, "schedule": 1}
    assert all(e["label"] for e in page["excluded"])


async def test_no_candidates_is_an_empty_list_with_reasons(client, actors, registry):
    await registry.worker(live_in=False)
    employer = await actors.employer()
    job = await post_request(
        client,
        employer,
        live_in=True,
        background_check_required=True,
        required_certificate={"occupation_code": "4-10-01-06", "min_level": 3},
    )
    page = await matches(client, employer, job["id"])
    assert page["items"] == [] and page["total"] == 0
    assert {e["filter"]: e["removed"] for e in page["excluded"]}["live_in"] == 1


async def test_required_certificate_and_background_check_filter(client, actors, registry):
    _, low = await registry.worker(certificate_level=5)
    _, high = await registry.worker(certificate_level=3)
    employer = await actors.employer()
    job = await post_request(client, employer, required_certificate={"occupation_code": "4-10-01-06", "min_level": 4})
    assert [m["worker_id"] for m in (await matches(client, employer, job["id"]))["items"]] == [high["id"]]

    strict = await post_request(client, employer, background_check_required=True)
    assert (await matches(client, employer, strict["id"]))["items"] == []
    await client.post(
        f"/api/v1/workers/{low['id']}/checks",
        headers=registry.admin.headers,
        json={
            "kind": "background",
            "result": "passed",
            "scope": "公安违法犯罪记录",
            "checked_on": today_local().isoformat(),
        },
    )
    assert [m["worker_id"] for m in (await matches(client, employer, strict["id"]))["items"]] == [low["id"]]


async def test_a_change_to_a_candidate_is_never_answered_stale(client, actors, registry):
    person, first = await registry.worker(experience_years=1, skills=["maternity_postpartum_care"])
    second_person, second = await registry.worker(experience_years=5, skills=["maternity_postpartum_care"])
    employer = await actors.employer()
    job = await post_request(client, employer)
    order = lambda page: [m["worker_id"] for m in page["items"]]  # noqa: E731
    assert order(await matches(client, employer, job["id"])) == [second["id"], first["id"]]
    assert order(await matches(client, employer, job["id"])) == [second["id"], first["id"]]  # cached

    # Her profile changes: she adds 催乳 and now ranks first.
    url = f"/api/v1/workers/{first['id']}"
    tag = (await client.get(url, headers=person.headers)).headers["etag"]
    changed = await client.patch(
        url,
        headers=person.headers | {"If-Match": tag},
        json={"skills": ["maternity_postpartum_care", "lactation_support"]},
    )
    assert changed.status_code == 200
    assert order(await matches(client, employer, job["id"])) == [first["id"], second["id"]]

    # A credential changes: the second worker gets a 二级 certificate... of 家政服务员 (no work type).
    await client.post(
        f"/api/v1/workers/{second['id']}/certificates",
        headers=registry.evaluator.headers,
        json={
            "id_number": registry.id_numbers[second["id"]],
            "occupation_code": "4-10-01-06",
            "level": 2,
            "certificate_no": "S99999999",
            "issued_on": today_local().isoformat(),
        },
    )
    assert order(await matches(client, employer, job["id"])) == [second["id"], first["id"]]

    # Consent withdrawn: she leaves matching at once.
    await client.delete(f"/api/v1/workers/{second['id']}/consent", headers=second_person.headers)
    assert order(await matches(client, employer, job["id"])) == [first["id"]]


async def test_protected_attributes_never_change_the_ranking(client, actors, registry, app):
    people = []
    for years in (1, 3, 3, 7):
        people.append(
            await registry.worker(
                experience_years=years, ethnicity="汉族", native_place="广东清远", marital_status="已婚", religion="无"
            )
        )
    employer = await actors.employer()
    job = await post_request(client, employer)
    before = await matches(client, employer, job["id"])
    for person, record in people:
        url = f"/api/v1/workers/{record['id']}"
        tag = (await client.get(url, headers=person.headers)).headers["etag"]
        changed = await client.patch(
            url,
            headers=person.headers | {"If-Match": tag},
            json={"ethnicity": "瑶族", "native_place": "湖南衡阳", "marital_status": "离异", "religion": "佛教"},
        )
        assert changed.status_code == 200
    version_before = app.state.matcher.version
    after = await matches(client, employer, job["id"])
    assert app.state.matcher.version != version_before  # the index did re-read them
    assert after["items"] == before["items"]


async def test_equal_scores_are_ordered_by_worker_id(client, actors, registry):
    ids = [(await registry.worker())[1]["id"] for _ in range(4)]
    employer = await actors.employer()
    job = await post_request(client, employer)
    page = await matches(client, employer, job["id"])
    assert len({m["score"] for m in page["items"]}) == 1
    assert [m["worker_id"] for m in page["items"]] == sorted(ids)
    second_page = await matches(client, employer, job["id"], limit=2, offset=2)
    assert [m["worker_id"] for m in second_page["items"]] == sorted(ids)[2:]


async def test_only_the_owner_reads_matches_and_limits_are_bounded(client, actors, registry):
    await registry.worker()
    employer, stranger = await actors.employer(), await actors.employer()
    job = await post_request(client, employer)
    url = f"/api/v1/job-requests/{job['id']}/matches"
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
    worker_person, _ = await registry.worker()
    assert (await client.get(url, headers=worker_person.headers)).status_code == 403
    assert (await client.get(url, headers=employer.headers, params={"limit": 101})).status_code == 400
    assert (await client.get(url, headers=employer.headers, params={"offset": -1})).status_code == 400


async def test_free_text_is_understood_and_reported(client, actors, registry):
    _, record = await registry.worker(skills=["maternity_postpartum_care", "newborn_care", "cantonese_cooking"])
    employer = await actors.employer()
    job = await post_request(client, employer, skills=[], skills_text="月嫂，会做粤菜，修电脑")
    # 月嫂 is an umbrella word: she looks after the mother and the newborn.
    assert job["effective_skills"] == ["maternity_postpartum_care", "newborn_care", "cantonese_cooking"]
    assert job["understood"]["not_understood"] == ["修电脑"]
    page = await matches(client, employer, job["id"])
    assert page["understood"]["not_understood"] == ["修电脑"]
    assert page["items"][0]["components"][0] == {
        "name": "skills",
        "label": "技能匹配",
        "value": 1.0,
        "weight": 0.3,
        "contribution": 0.3,
    }


async def test_a_radius_reaches_workers_who_live_near_but_serve_elsewhere(client, actors, registry):
    _, near = await registry.worker(district_codes=["441803"], location={"lat": 23.71, "lon": 113.04})
    await registry.worker(district_codes=["441881"], location={"lat": 24.19, "lon": 113.41})
    employer = await actors.employer()
    job = await post_request(client, employer, location={"lat": 23.70, "lon": 113.06}, radius_km=10)
    page = await matches(client, employer, job["id"])
    assert [m["worker_id"] for m in page["items"]] == [near["id"]]
    assert page["items"][0]["distance_km"] == 2  # whole kilometres only
    wide = await post_request(client, employer, search_scope="city")
    assert (await matches(client, employer, wide["id"]))["total"] == 2
