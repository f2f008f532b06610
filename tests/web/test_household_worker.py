"""The household and the worker through the pages: request, match cards, offer, accept,
complete, review, complain, appeal; and the public certificate."""

import re
from datetime import timedelta

import pytest

from service.registry.domain import today_local
from tests.factories import Registry
from tests.web.helpers import Browser, field_error, input_value


@pytest.fixture
async def registry(client, actors):
    return await Registry(client, actors).setup()


def request_form(**overrides):
    today = today_local()
    form = {
        "category": "maternity",
        "skills": ["maternity_postpartum_care"],
        "skills_text": "会做粤菜，煲汤",
        "start_date": today.isoformat(),
        "end_date": (today + timedelta(days=26)).isoformat(),
        "district_code": "441802",
        "search_scope": "district",
        "live_in": "on",
        "budget_min": "6000",
        "budget_max": "9000",
        "budget_unit": "month",
        "headcount": "1",
    }
    form.update(overrides)
    return form


async def test_the_whole_journey_through_the_pages(client, actors, registry):
    person, worker = await registry.worker(
        real_name="陈秀英",
        certificate_level=4,
        available_from=None,
        skills=["maternity_postpartum_care"],
        trained_on=today_local() - timedelta(days=40),
    )
    employer = await actors.employer()
    household, her = Browser(client), Browser(client)

    await household.login(employer.phone)
    created = await household.post("/household/requests", request_form())
    assert created.status_code == 303, created.text
    request_path = created.headers["location"]
    shown = await household.get(request_path)
    assert shown.status_code == 200
    html = shown.text
    # The card: surname + 阿姨, age, stars, verified badges, why, what is not met; never her name or phone.
    assert "陈阿姨" in html and "陈秀英" not in html and person.phone not in html
    assert "岁" in html and "✓ 母婴护理员 4 级" in html and "体检有效至" in html and "南粤家政培训结业" in html
    assert "技能匹配" in html and "粤菜烹饪" in html  # understood from the free text, unmet by her
    assert "未满足" in html

    offered = await household.post(f"{request_path}/offers", {"worker_id": worker["id"], "message": "住家"})
    assert offered.status_code == 303
    assert "待答复" in (await household.get(request_path)).text

    await her.login(person.phone)
    dashboard = (await her.get("/worker")).text
    offer_id = re.search(r"/worker/offers/(\d+)/accept", dashboard).group(1)
    accepted = await her.post(f"/worker/offers/{offer_id}/accept")
    assert accepted.status_code == 303 and accepted.headers["location"].startswith("/worker/placements/")
    placement_id = accepted.headers["location"].rsplit("/", 1)[1]

    await household.login(employer.phone)
    placement = await household.get(f"/household/placements/{placement_id}")
    assert "陈秀英" in placement.text and person.phone in placement.text  # contact after acceptance
    assert (await household.post(f"/household/placements/{placement_id}/complete")).status_code == 303

    # A review with one rating missing: the message sits next to it, the others stay chosen.
    partial = await household.post(
        f"/household/placements/{placement_id}/review",
        {"ratings.quality": "5", "ratings.communication": "5", "ratings.honesty": "5", "comment": "很细心"},
    )
    assert partial.status_code == 422
    assert field_error(partial.text, "ratings.reliability") == "请打分 (choose 1-5)"
    assert 'name="ratings.quality" value="5" checked' in partial.text and "很细心" in partial.text
    reviewed = await household.post(
        f"/household/placements/{placement_id}/review",
        {"ratings.quality": "5", "ratings.communication": "5", "ratings.reliability": "5", "ratings.honesty": "5"},
    )
    assert reviewed.status_code == 303

    complaint = await household.post(
        f"/household/placements/{placement_id}/complaint", {"category": "negligence", "description": "短"}
    )
    assert complaint.status_code == 422
    assert field_error(complaint.text, "description") and "短</textarea>" in complaint.text

    # She reviews the household back, and sees her rating with what would raise it.
    await her.login(person.phone)
    assert (
        await her.post(
            f"/worker/placements/{placement_id}/review",
            {
                "ratings.respect": "5",
                "ratings.pay_on_time": "4",
                "ratings.working_conditions": "4",
                "ratings.honesty": "5",
            },
        )
    ).status_code == 303
    dashboard = (await her.get("/worker")).text
    assert "怎样提高" in dashboard and "雇主评价" in dashboard
    code = re.search(r'href="/c/([0-9A-Z-]+)"', dashboard).group(1)

    # The public certificate: masked name, verified credentials, stars, issuer; no phone, no ID.
    public = Browser(client)
    public.reset()
    page = await public.get(f"/c/{code}")
    assert page.status_code == 200
    assert "陈*英" in page.text and "陈秀英" not in page.text and person.phone not in page.text
    assert "母婴护理员 4 级" in page.text and "发证" in page.text and "★" in page.text
    qr = await public.get(f"/c/{code}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml") and b"<svg" in qr.content
    forged = code.split("-")[0] + "-AAAAAAAA"
    assert (await public.get(f"/c/{forged}")).status_code == 404


async def test_request_form_errors_sit_next_to_their_fields_and_keep_the_input(client, actors):
    employer = await actors.employer()
    household = Browser(client)
    await household.login(employer.phone)
    wrong = await household.post(
        "/household/requests", request_form(budget_min="10000", budget_max="9000", skills_text="照顾刚出生的宝宝")
    )
    assert wrong.status_code == 422
    assert "不能高于预算上限" in field_error(wrong.text, "budget_min")
    assert input_value(wrong.text, "budget_min") == "10000" and "照顾刚出生的宝宝" in wrong.text
    typed = await household.post("/household/requests", request_form(budget_max="很多"))
    assert typed.status_code == 422 and field_error(typed.text, "budget_max") == "请填写整数 (a whole number)"
    assert input_value(typed.text, "budget_max") == "很多"


async def test_free_text_is_understood_as_she_types(client, actors):
    employer = await actors.employer()
    household = Browser(client)
    await household.login(employer.phone)
    response = await household.post(
        "/household/requests/understand", {"skills_text": "月嫂，会做粤菜，修电脑"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "母婴护理（月嫂）" in response.text and "粤菜烹饪" in response.text and "修电脑" in response.text
    assert "<html" not in response.text  # a fragment for htmx to swap in


async def test_consent_explained_and_withdrawal_suspends_the_public_page(client, actors, registry):
    person, worker = await registry.worker(real_name="李美玲", available_from=None)
    her = Browser(client)
    await her.login(person.phone)
    dashboard = (await her.get("/worker")).text
    assert "谁能看到什么" in dashboard and "撤回授权" in dashboard
    code = re.search(r'href="/c/([0-9A-Z-]+)"', dashboard).group(1)
    assert "此证" not in (await her.get(f"/c/{code}")).text
    assert (await her.post("/worker/availability", {"action": "pause"})).status_code == 303
    assert "恢复接单" in (await her.get("/worker")).text and "此证目前暂停使用" in (await her.get(f"/c/{code}")).text
    assert (await her.post("/worker/availability", {"action": "resume"})).status_code == 303
    assert "✓ 有效" in (await her.get(f"/c/{code}")).text
    assert (await her.post("/worker/consent", {"action": "withdraw"})).status_code == 303
    dashboard = (await her.get("/worker")).text
    assert "我同意授权" in dashboard and "看不到" in dashboard
    page = (await her.get(f"/c/{code}")).text
    assert "此证目前暂停使用" in page and "体检" not in page


async def test_a_new_worker_registers_herself_with_errors_shown_in_place(client, actors):
    account = await actors.worker_account()
    her = Browser(client)
    await her.login(account.phone)
    assert "建立我的家政服务员档案" in (await her.get("/worker")).text
    form = {
        "real_name": "黄丽",
        "id_number": "441802198503071020",
        "gender": "female",
        "birth_date": "1985-03-07",
        "phone": account.phone,
        "categories": ["household"],
        "skills": ["cantonese_cooking"],
        "district_codes": ["441802", ""],
        "wage_min": "5000",
        "wage_max": "6000",
        "wage_unit": "month",
        "experience_years": "3",
        "languages": ["粤语"],
    }
    wrong = await her.post("/worker/profile", form)
    assert wrong.status_code == 422
    assert "校验码" in field_error(wrong.text, "id_number")
    assert input_value(wrong.text, "real_name") == "黄丽" and 'value="cantonese_cooking" checked' in wrong.text
    from datetime import date

    from tests.factories import id_number

    form["id_number"] = id_number(date(1985, 3, 7))
    assert (await her.post("/worker/profile", form)).status_code == 303
    edit = await her.get("/worker/profile")
    assert input_value(edit.text, "wage_max") == "6000"
    changed = await her.post(
        "/worker/profile",
        {
            **{k: v for k, v in form.items() if k not in ("id_number", "gender", "birth_date")},
            "wage_max": "6500",
            "version": input_value(edit.text, "version"),
        },
    )
    assert changed.status_code == 303
    stale = await her.post(
        "/worker/profile",
        {
            **{k: v for k, v in form.items() if k not in ("id_number", "gender", "birth_date")},
            "wage_max": "7000",
            "version": input_value(edit.text, "version"),
        },
    )
    assert stale.status_code == 422 and "刷新" in stale.text


async def test_a_blacklisted_workers_certificate_says_it_is_revoked(client, actors, registry, settings):
    from service.web.public import certificate_code

    person, worker = await registry.worker(real_name="赵小梅", available_from=None)
    code = certificate_code(settings, worker["id"])
    public = Browser(client)
    public.reset()
    assert "✓ 有效" in (await public.get(f"/c/{code}")).text
    failed = await client.post(
        f"/api/v1/workers/{worker['id']}/checks",
        headers=registry.admin.headers,
        json={"kind": "background", "result": "failed", "checked_on": today_local().isoformat()},
    )
    assert failed.status_code == 201, failed.text
    page = (await public.get(f"/c/{code}")).text
    assert "此证已被撤销" in page and "✓ 有效" not in page and "体检" not in page and "赵*梅" in page
    found = await public.get(f"/c?code={code.lower()}")
    assert found.status_code == 303 and found.headers["location"] == f"/c/{code}"
    missing = await public.get("/c?code=1-NOTACODE")
    assert missing.status_code == 404 and "查无此证" in missing.text


async def test_a_household_books_a_yuesao_by_due_date_and_work_type_through_the_form(client, actors, registry):
    today = today_local()
    due_from, due_to = today + timedelta(days=20), today + timedelta(days=34)
    await registry.worker(
        real_name="陈秀英", certificate_level=4, available_from=None, wage_unit="term", wage_min=15000, wage_max=18000
    )
    await registry.worker(real_name="李美玲", certificates=[("4-10-01-06", "家务服务员", 3)], available_from=None)
    employer = await actors.employer()
    household = Browser(client)
    await household.login(employer.phone)

    form = (await household.get("/household/requests/new?category=maternity")).text
    assert "预产期最早" in form and "每单（26 天）" in form and "不限工种" in form

    wide = request_form(
        start_date=due_from.isoformat(),
        end_date="",
        due_date_from=due_from.isoformat(),
        due_date_to=(due_from + timedelta(days=60)).isoformat(),
    )
    refused = await household.post("/household/requests", wide)
    assert refused.status_code == 422 and "最多 45 天" in field_error(refused.text, "due_date_to")

    created = await household.post(
        "/household/requests",
        request_form(
            start_date=due_from.isoformat(),
            end_date="",
            due_date_from=due_from.isoformat(),
            due_date_to=due_to.isoformat(),
            terms="1",
            budget_min="12000",
            budget_max="16800",
            budget_unit="term",
            **{
                "required_certificate.occupation_code": "4-10-01-06",
                "required_certificate.work_type": "母婴护理员",
                "required_certificate.min_level": "4",
            },
        ),
    )
    assert created.status_code == 303, created.text
    html = (await household.get(created.headers["location"])).text
    assert f"{due_from} 至 {due_to} · 预订 1 单" in html
    assert "家政服务员（母婴护理员） 四级/中级工或以上" in html
    assert "16,800 元/单（26天）" in html and "15000–18,000 元/单（26天）" in html
    assert "为您找到 1 位阿姨" in html and "陈阿姨" in html and "李阿姨" not in html
    assert "满足所需证书" in html
