"""What a request's free text is understood as, through the API: skills, implied terms, languages."""

from datetime import date, datetime, timezone

from piccolo.querystring import QueryString

from service.taxonomy.languages import recode_languages
from tests.conftest import in_app
from tests.factories import Registry, matches, request_body, worker_body


async def test_a_request_shows_what_its_text_implies_without_applying_it(client, actors):
    employer = await actors.employer()
    created = await client.post(
        "/api/v1/job-requests",
        headers=employer.headers,
        json=request_body(
            category="household",
            skills=[],
            live_in=False,
            skills_text="找个住家阿姨，主要带一岁半宝宝，顺便煮餸，唔使洗衫",
            household_notes="预产期是明年2月，带睡",
        ),
    )
    assert created.status_code == 201, created.text
    job = created.json()
    understood = job["understood"]
    assert [m["code"] for m in understood["matched"]] == ["infant_care", "home_cooking", "housework_general"]
    assert understood["not_understood"] == []
    implied = understood["implied"]
    assert implied["live_in"] is True and implied["shift"] == "overnight"
    assert implied["evidence"]["live_in"] == "住家"
    assert len(implied["due_date"]) == 7  # a month: YYYY-MM
    assert job["live_in"] is False  # shown for the household to confirm, not applied
    assert job["effective_skills"] == ["infant_care", "home_cooking", "housework_general"]

    # Changing the notes alone reads the terms again.
    url = f"/api/v1/job-requests/{job['id']}"
    changed = await client.patch(url, headers=employer.headers, json={"household_notes": "钟点，每周两次，每次三小时"})
    assert changed.status_code == 200, changed.text
    implied = changed.json()["understood"]["implied"]
    assert implied["wage_unit"] == "hour" and implied["visits_per_week"] == 2 and implied["hours_per_week"] == 6
    assert "due_date" not in implied and implied["live_in"] is True  # 住家 is still in the skills text


async def test_the_text_can_be_previewed_as_it_is_typed(client, actors):
    employer = await actors.employer()
    url = "/api/v1/job-requests/understand"
    answer = await client.post(url, headers=employer.headers, json={"skills_text": "煲汤拖地，照顧寵物"})
    assert answer.status_code == 200, answer.text
    assert [m["code"] for m in answer.json()["matched"]] == ["cantonese_soup", "general_cleaning", "pet_care"]
    assert answer.json()["implied"] == {}
    assert (await client.post(url, json={"skills_text": "煲汤"})).status_code == 401
    worker = await actors.worker_account()
    assert (await client.post(url, headers=worker.headers, json={"skills_text": "煲汤"})).status_code == 403
    refused = await client.post(url, headers=employer.headers, json={"skills_text": "煲汤", "extra": 1})
    assert refused.status_code in (400, 422)
    assert (await client.get("/api/v1/job-requests", headers=employer.headers)).status_code in (200, 404, 405)


async def test_languages_are_codes_and_any_alias_is_accepted(client, actors):
    languages = {language["code"]: language for language in (await client.get("/api/v1/taxonomy/languages")).json()}
    assert {"mandarin", "cantonese", "hakka", "teochew"} <= set(languages)
    assert {"广东话", "白话"} <= set(languages["cantonese"]["aliases"])
    assert "潮州话" in languages["teochew"]["aliases"] and "国语" in languages["mandarin"]["aliases"]

    person, record = await actors.registered_worker(languages=["白话", "國語", "Cantonese", "潮州話"])
    assert record["languages"] == ["cantonese", "mandarin", "teochew"]
    assert record["language_names"][0] == {"code": "cantonese", "name_zh": "粤语", "name_en": "Cantonese"}

    employer = await actors.employer()
    bad = await client.post("/api/v1/job-requests", headers=employer.headers, json=request_body(languages=["火星话"]))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "languages"
    job = (
        await client.post(
            "/api/v1/job-requests", headers=employer.headers, json=request_body(languages=["广东话", "hakka"])
        )
    ).json()
    assert job["languages"] == ["cantonese", "hakka"]
    assert [n["name_zh"] for n in job["language_names"]] == ["粤语", "客家话"]
    changed = await client.patch(
        f"/api/v1/job-requests/{job['id']}", headers=employer.headers, json={"languages": ["潮汕话"]}
    )
    assert changed.json()["languages"] == ["teochew"]

    other = await actors.worker_account()
    refused = await client.post(
        "/api/v1/workers", headers=other.headers, json=worker_body(phone=other.phone, languages=["Klingon"])
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "languages"


async def test_a_request_in_one_alias_matches_a_worker_who_wrote_another(client, actors):
    registry = await Registry(client, actors).setup()
    _, speaker = await registry.worker(skills=["maternity_postpartum_care", "lactation_support"], languages=["白话"])
    employer = await actors.employer()
    job = (
        await client.post("/api/v1/job-requests", headers=employer.headers, json=request_body(languages=["粤语"]))
    ).json()
    page = await matches(client, employer, job["id"])
    item = next(m for m in page["items"] if m["worker_id"] == speaker["id"])
    assert next(c for c in item["components"] if c["name"] == "language")["value"] == 1.0
    job = (
        await client.post("/api/v1/job-requests", headers=employer.headers, json=request_body(languages=["客家话"]))
    ).json()
    item = next(m for m in (await matches(client, employer, job["id"]))["items"] if m["worker_id"] == speaker["id"])
    assert "不会所需语言 (does not speak): 客家话" in item["unmet"]


async def test_free_text_languages_of_existing_rows_become_codes(client, actors, app):
    _, record = await actors.registered_worker()

    async def rewrite_then_read():
        engine = app.state.engine
        await engine.run_querystring(
            QueryString(
                "UPDATE worker SET languages = {}::varchar[] WHERE id = {}",
                ["广东话", "普通话", "白话", "火星话"],
                record["id"],
            )
        )
        await recode_languages("worker", engine)
        rows = await engine.run_querystring(QueryString("SELECT languages FROM worker WHERE id = {}", record["id"]))
        return rows[0]["languages"]

    # Known names become codes, in order and once; a value no list knows is kept, not lost.
    assert in_app(client, rewrite_then_read) == ["cantonese", "mandarin", "火星话"]


async def test_a_written_due_date_implies_the_window_shown_for_confirmation(client, actors, app):
    employer = await actors.employer()
    created = await client.post(
        "/api/v1/job-requests",
        headers=employer.headers,
        json=request_body(skills_text="月嫂，会做月子餐", household_notes="预产期下个月中，顺产"),
    )
    assert created.status_code == 201, created.text
    job = created.json()
    implied = job["understood"]["implied"]
    first, last = date.fromisoformat(implied["due_date_from"]), date.fromisoformat(implied["due_date_to"])
    assert (first.day, last.day) == (11, 20) and last.month == first.month
    assert implied["evidence"]["due_date_from"] == "预产期下个月中"
    # Shown, never applied: the request's own window stays as typed (here: none).
    assert job["due_date_from"] is None and job["due_date_to"] is None

    # Written weeks ago, edited today: "下个月" still means the month after the request was written.
    async def backdate():
        await app.state.engine.run_querystring(
            QueryString(
                "UPDATE job_request SET created_at = {} WHERE id = {}",
                datetime(2026, 1, 20, 4, tzinfo=timezone.utc),
                job["id"],
            )
        )

    in_app(client, backdate)
    url = f"/api/v1/job-requests/{job['id']}"
    changed = await client.patch(url, headers=employer.headers, json={"household_notes": "预产期下个月底左右"})
    assert changed.status_code == 200, changed.text
    implied = changed.json()["understood"]["implied"]
    assert (implied["due_date_from"], implied["due_date_to"]) == ("2026-02-21", "2026-02-28")
    preview = await client.post(
        "/api/v1/job-requests/understand", headers=employer.headers, json={"household_notes": "due early March"}
    )
    assert preview.json()["implied"]["due_date_from"].endswith("-03-01")


async def test_an_impossible_due_year_in_the_text_is_not_read_and_is_no_error(client, actors):
    employer = await actors.employer()
    for notes in ("预产期9999-12-30左右", "预产期0001-01-02左右", "预产期9999年12月30日左右"):
        created = await client.post(
            "/api/v1/job-requests",
            headers=employer.headers,
            json=request_body(skills_text="月嫂", household_notes=notes),
        )
        assert created.status_code == 201, created.text
        assert "due_date_from" not in created.json()["understood"]["implied"]
        url = f"/api/v1/job-requests/{created.json()['id']}"
        changed = await client.patch(url, headers=employer.headers, json={"household_notes": f"顺产，{notes}"})
        assert changed.status_code == 200, changed.text
        assert "due_date" not in changed.json()["understood"]["implied"]
        preview = await client.post(
            "/api/v1/job-requests/understand", headers=employer.headers, json={"household_notes": notes}
        )
        assert preview.status_code == 200, preview.text
        assert "due_date_to" not in preview.json()["implied"]
