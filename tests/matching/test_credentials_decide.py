"""A household asks for the certificate that decides the job (its 工种), books a 月嫂 around
the due date and prices her per 单; the ranks and explanations say what met the need."""

from datetime import timedelta

import pytest

from service.registry.domain import DAYS_PER_MONTH, TERM_DAYS, today_local
from service.taxonomy.rules import category_credentials, tiers_covering
from tests.factories import matches, post_request, request_body, worker_body

NANNY = "4-10-01-06"  # 家政服务员
INFANT = "4-10-01-02"  # 育婴员
ELDER = "4-10-01-05"  # 养老护理员


def _component(item: dict, name: str) -> dict:
    return next(c for c in item["components"] if c["name"] == name)


def _removed(page: dict) -> dict[str, int]:
    return {e["filter"]: e["removed"] for e in page["excluded"] if e["removed"]}


async def test_a_yuesao_job_takes_the_maternity_work_type_not_any_housekeeping_certificate(client, actors, registry):
    _, maternity = await registry.worker(real_name="陈秀英", certificates=[(NANNY, "母婴护理员", 4)])
    _, housework = await registry.worker(real_name="李美玲", certificates=[(NANNY, "家务服务员", 3)])
    # 二级 is not split by 工种: a technician's certificate serves every 工种.
    _, technician = await registry.worker(real_name="黄丽", certificates=[(NANNY, None, 2)])
    _, low = await registry.worker(real_name="张芳", certificates=[(NANNY, "母婴护理员", 5)])
    employer = await actors.employer()

    job = await post_request(
        client,
        employer,
        required_certificate={"occupation_code": NANNY, "work_type": "母婴护理员", "min_level": 4},
    )
    assert job["required_certificate"] == {
        "occupation_code": NANNY,
        "work_type": "母婴护理员",
        "min_level": 4,
        "description": "家政服务员（母婴护理员） 四级/中级工或以上",
    }
    page = await matches(client, employer, job["id"])
    assert [m["worker_id"] for m in page["items"]] == [technician["id"], maternity["id"]]
    assert _removed(page) == {"certificate": 2}
    label = next(e["label"] for e in page["excluded"] if e["filter"] == "certificate")
    assert "家政服务员（母婴护理员） 四级/中级工或以上" in label
    details = {m["worker_id"]: _component(m, "certificate") for m in page["items"]}
    assert details[maternity["id"]]["detail"].endswith("家政服务员（母婴护理员） 四级/中级工")
    assert details[technician["id"]]["detail"].endswith("家政服务员（母婴护理员） 二级/技师")
    # Within 家政服务员's own levels (五级 … 二级): 二级 is the top, 四级 two steps of four.
    assert details[technician["id"]]["value"] == 1.0 and details[maternity["id"]]["value"] == 0.5

    # A request from before 工种 (or that does not care) takes any 家政服务员 certificate.
    any_kind = await post_request(client, employer, required_certificate={"occupation_code": NANNY, "min_level": 4})
    assert any_kind["required_certificate"]["work_type"] is None
    ranked = await matches(client, employer, any_kind["id"])
    assert {m["worker_id"] for m in ranked["items"]} == {maternity["id"], housework["id"], technician["id"]}
    assert low["id"] not in {m["worker_id"] for m in ranked["items"]}


async def test_without_a_requirement_each_category_counts_its_own_certificates(client, actors, registry):
    both = ["maternity", "household", "elderly"]
    # 育婴员's top level is 三级: worth all of the certificate component, unlike 家政服务员 三级.
    _, infant = await registry.worker(real_name="陈秀英", categories=both, certificates=[(INFANT, None, 3)])
    _, maternity = await registry.worker(real_name="李美玲", categories=both, certificates=[(NANNY, "母婴护理员", 3)])
    _, housework = await registry.worker(real_name="黄丽", categories=both, certificates=[(NANNY, "家务服务员", 3)])
    employer = await actors.employer()

    page = await matches(client, employer, (await post_request(client, employer))["id"])
    worth = {m["worker_id"]: _component(m, "certificate")["value"] for m in page["items"]}
    assert worth == {infant["id"]: 1.0, maternity["id"]: 0.75, housework["id"]: 0.0}
    missing = next(m for m in page["items"] if m["worker_id"] == housework["id"])
    assert missing["unmet"][0].startswith("缺少母婴类认可的证书")
    assert "家政服务员（母婴护理员）、育婴员" in missing["unmet"][0]

    household = await post_request(client, employer, category="household", skills=["cantonese_cooking"])
    worth = {
        m["worker_id"]: _component(m, "certificate")["value"]
        for m in (await matches(client, employer, household["id"]))["items"]
    }
    # Any 家政服务员 certificate counts for household work; 育婴员 does not.
    assert worth == {infant["id"]: 0.0, maternity["id"]: 0.75, housework["id"]: 0.75}
    assert category_credentials("household") == (NANNY,)


async def test_an_elderly_care_job_that_needs_the_family_care_work_type(client, actors, registry):
    elderly = dict(categories=["elderly"], health="elderly", skills=["elderly_daily_care"])
    _, carer = await registry.worker(real_name="陈秀英", certificates=[(NANNY, "家庭照护员", 4)], **elderly)
    _, nurse = await registry.worker(real_name="李美玲", certificates=[(ELDER, None, 3)], **elderly)
    _, maternity = await registry.worker(real_name="黄丽", certificates=[(NANNY, "母婴护理员", 3)], **elderly)
    # A 居家 health report does not cover elderly care; a 母婴 one does (health_checks.json).
    _, home_report = await registry.worker(
        real_name="张芳",
        categories=["elderly"],
        skills=["elderly_daily_care"],
        health="home",
        certificates=[(NANNY, "家庭照护员", 3)],
    )
    _, maternity_report = await registry.worker(
        real_name="王丽",
        categories=["elderly"],
        skills=["elderly_daily_care"],
        health="maternity",
        certificates=[(NANNY, "家庭照护员", 3)],
    )
    assert "home" not in tiers_covering("elderly") and "maternity" in tiers_covering("elderly")
    employer = await actors.employer()
    body = dict(category="elderly", skills=["elderly_daily_care"], live_in=True)

    job = await post_request(
        client,
        employer,
        required_certificate={"occupation_code": NANNY, "work_type": "家庭照护员", "min_level": 4},
        **body,
    )
    page = await matches(client, employer, job["id"])
    assert [m["worker_id"] for m in page["items"]] == [maternity_report["id"], carer["id"]]
    assert _removed(page) == {"certificate": 2, "health_check": 1}
    assert all("家庭照护员" in _component(m, "certificate")["detail"] for m in page["items"])

    # Without a requirement both 养老护理员 and 家庭照护员 count; 母婴护理员 does not.
    open_job = await post_request(client, employer, **body)
    ranked = await matches(client, employer, open_job["id"])
    worth = {m["worker_id"]: _component(m, "certificate")["value"] for m in ranked["items"]}
    # 养老护理员 三级 of 五级 … 一级 is 3/5; 家政服务员 四级 of 五级 … 二级 is 2/4.
    assert worth == {carer["id"]: 0.5, nurse["id"]: 0.6, maternity["id"]: 0.0, maternity_report["id"]: 0.75}
    assert home_report["id"] not in worth


async def test_a_yuesao_is_booked_around_the_due_date_and_must_be_free_for_the_whole_dan(client, actors, registry):
    today = today_local()
    due_from, due_to = today + timedelta(days=30), today + timedelta(days=44)
    _, free = await registry.worker(real_name="陈秀英", available_from=today.isoformat())
    # Free only from a few days after the earliest due date: she would miss an early birth.
    _, late = await registry.worker(real_name="李美玲", available_from=(due_from + timedelta(days=3)).isoformat())
    # Taken by another household from the end of the latest due date's 单 on: still free enough.
    _, busy_after = await registry.worker(real_name="黄丽", available_from=today.isoformat())
    # Taken from within the 单 after the latest due date: not free.
    _, busy_within = await registry.worker(real_name="张芳", available_from=today.isoformat())
    other = await actors.employer()
    for worker, starts in (
        (busy_after, due_to + timedelta(days=TERM_DAYS)),
        (busy_within, due_to + timedelta(days=20)),
    ):
        taken = await post_request(
            client,
            other,
            category="household",
            skills=[],
            start_date=starts.isoformat(),
            end_date=(starts + timedelta(days=30)).isoformat(),
        )
        made = await client.post(
            f"/api/v1/job-requests/{taken['id']}/offers", headers=other.headers, json={"worker_id": worker["id"]}
        )
        assert made.status_code == 201, made.text
        person = registry.people[worker["id"]]
        accepted = await client.post(f"/api/v1/offers/{made.json()['id']}/accept", headers=person.headers)
        assert accepted.status_code == 201, accepted.text

    employer = await actors.employer()
    job = await post_request(
        client,
        employer,
        start_date=due_from.isoformat(),
        end_date=None,
        due_date_from=due_from.isoformat(),
        due_date_to=due_to.isoformat(),
        live_in=True,
        budget_min=12800,
        budget_max=16800,
        budget_unit="term",
    )
    last_day = due_to + timedelta(days=TERM_DAYS - 1)
    assert job["service_period"] == {"first_day": due_from.isoformat(), "last_day": last_day.isoformat()}
    assert (job["due_date_from"], job["due_date_to"], job["terms"]) == (due_from.isoformat(), due_to.isoformat(), 1)
    page = await matches(client, employer, job["id"])
    assert {m["worker_id"] for m in page["items"]} == {free["id"], busy_after["id"]}
    assert _removed(page) == {"schedule": 2}
    assert late["id"] not in {m["worker_id"] for m in page["items"]}

    # Two 单 reach into the later placement too.
    longer = await client.patch(f"/api/v1/job-requests/{job['id']}", headers=employer.headers, json={"terms": 2})
    assert longer.status_code == 200, longer.text
    assert longer.json()["service_period"]["last_day"] == (due_to + timedelta(days=2 * TERM_DAYS - 1)).isoformat()
    page = await matches(client, employer, job["id"])
    assert [m["worker_id"] for m in page["items"]] == [free["id"]]


async def test_yuesao_wages_per_dan_compare_through_the_monthly_figure(client, actors, registry):
    _, per_dan = await registry.worker(real_name="陈秀英", wage_unit="term", wage_min=15000, wage_max=18000)
    _, per_month = await registry.worker(real_name="李美玲", wage_unit="month", wage_min=13000, wage_max=15000)
    employer = await actors.employer()

    by_dan = await post_request(client, employer, budget_min=12000, budget_max=16000, budget_unit="term")
    page = await matches(client, employer, by_dan["id"])
    wage = {m["worker_id"]: _component(m, "wage")["value"] for m in page["items"]}
    # 13000 a month is 13000 × 26 / 30.44 ≈ 11104 a 单: within the budget.
    assert wage == {per_dan["id"]: 1.0, per_month["id"]: 1.0}

    by_month = await post_request(client, employer, budget_min=12000, budget_max=15000, budget_unit="month")
    page = await matches(client, employer, by_month["id"])
    item = next(m for m in page["items"] if m["worker_id"] == per_dan["id"])
    monthly = 15000 * DAYS_PER_MONTH / TERM_DAYS  # ≈ 17560
    assert _component(item, "wage")["value"] == pytest.approx(1 - (monthly - 15000) / 7500, abs=1e-4)
    assert f"{monthly:.0f} > 15000 元/月" in " ".join(item["unmet"])

    tight = await post_request(client, employer, budget_min=10000, budget_max=14000, budget_unit="term")
    item = next(m for m in (await matches(client, employer, tight["id"]))["items"] if m["worker_id"] == per_dan["id"])
    assert "15000 > 14000 元/单（26天）" in " ".join(item["unmet"])


def _bad_requests() -> list[tuple[str, dict, str]]:
    today = today_local()
    day = lambda n: (today + timedelta(days=n)).isoformat()  # noqa: E731
    return [
        # (what, changes to a valid 月嫂 request, the field the 422 names)
        (
            "unknown 工种",
            {"required_certificate": {"occupation_code": NANNY, "work_type": "厨师", "min_level": 4}},
            "required_certificate.work_type",
        ),
        (
            "工种 of an occupation without any",
            {"required_certificate": {"occupation_code": ELDER, "work_type": "母婴护理员", "min_level": 4}},
            "required_certificate.work_type",
        ),
        (
            "a level the 工种 does not reach",
            {"required_certificate": {"occupation_code": NANNY, "work_type": "母婴护理员", "min_level": 2}},
            "required_certificate.min_level",
        ),
        (
            "a level the occupation lacks",
            {"required_certificate": {"occupation_code": INFANT, "min_level": 1}},
            "required_certificate.min_level",
        ),
        ("only one end of the window", {"due_date_from": day(30)}, "due_date_to"),
        ("window ends before it starts", {"due_date_from": day(40), "due_date_to": day(30)}, "due_date_to"),
        ("window too wide", {"due_date_from": day(30), "due_date_to": day(30 + 46)}, "due_date_to"),
        ("due date in the past", {"due_date_from": day(-1), "due_date_to": day(10)}, "due_date_from"),
        ("due date beyond a year", {"due_date_from": day(300), "due_date_to": day(370)}, "due_date_to"),
        (
            "due date on a household job",
            {"category": "household", "due_date_from": day(30), "due_date_to": day(40)},
            "due_date_from",
        ),
        ("no 单", {"due_date_from": day(30), "due_date_to": day(40), "terms": 0}, "terms"),
        ("too many 单", {"due_date_from": day(30), "due_date_to": day(40), "terms": 7}, "terms"),
        ("several 单 without a due date", {"terms": 2}, "terms"),
        ("per 单 for elderly care", {"category": "elderly", "budget_unit": "term"}, "budget_unit"),
        ("per 单 above the limit", {"budget_unit": "term", "budget_max": 100_001}, "budget_max"),
        ("per hour above the limit", {"budget_unit": "hour", "budget_min": 30, "budget_max": 1001}, "budget_max"),
        ("per month above the limit", {"budget_max": 100_001}, "budget_max"),
    ]


async def test_each_bad_field_is_a_422_naming_it(client, actors):
    employer = await actors.employer()
    for what, changes, field in _bad_requests():
        response = await client.post("/api/v1/job-requests", headers=employer.headers, json=request_body(**changes))
        assert response.status_code in (400, 422), (what, response.text)
        assert field in response.text, (what, response.text)
    # The bounds themselves are accepted.
    today = today_local()
    for changes in (
        {
            "due_date_from": (today + timedelta(days=1)).isoformat(),
            "due_date_to": (today + timedelta(days=46)).isoformat(),
            "terms": 6,
        },
        {"budget_unit": "term", "budget_max": 100_000},
        {"budget_unit": "hour", "budget_min": 30, "budget_max": 1000},
    ):
        response = await client.post("/api/v1/job-requests", headers=employer.headers, json=request_body(**changes))
        assert response.status_code == 201, (changes, response.text)


async def test_workers_state_a_per_dan_price_only_for_maternity_work(client, actors):
    agency = await actors.agency()
    cases = [
        ({"categories": ["elderly"], "wage_unit": "term", "wage_min": 9000, "wage_max": 12000}, "wage_unit"),
        ({"wage_unit": "term", "wage_min": 9000, "wage_max": 100_001}, "wage_max"),
        ({"wage_unit": "hour", "wage_min": 1001, "wage_max": 1200}, "wage_min"),
    ]
    for changes, field in cases:
        response = await client.post("/api/v1/workers", headers=agency.headers, json=worker_body(**changes))
        assert response.status_code == 422, (changes, response.text)
        assert field in response.text
    body = worker_body(wage_unit="term", wage_min=15000, wage_max=18000)
    created = await client.post("/api/v1/workers", headers=agency.headers, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["wage_unit"] == "term"
