"""The worker's side through the pages: the open requests she fits, interest the household
sees, ending a placement with notice, and a complaint about the household."""

from datetime import timedelta

import pytest

from service.registry.domain import today_local
from tests.factories import Registry, post_request
from tests.web.helpers import Browser, field_error


@pytest.fixture
async def registry(client, actors):
    return await Registry(client, actors).setup()


async def test_she_finds_a_job_says_she_is_interested_and_the_household_sees_it(client, actors, registry):
    person, worker = await registry.worker(real_name="陈秀英", available_from=None)
    employer = await actors.employer()
    job = await post_request(client, employer, household_notes="住松岗路18号，家里有猫")
    certified = await post_request(
        client, employer, required_certificate={"occupation_code": "4-10-01-06", "min_level": 3}
    )
    her, household = Browser(client), Browser(client)

    await her.login(person.phone)
    assert "/worker/requests" in (await her.get("/worker")).text
    listing = await her.get("/worker/requests")
    assert listing.status_code == 200
    html = listing.text
    assert f'id="r{job["id"]}"' in html and "清城区" in html and "我有意向" in html
    assert "为什么排在这里" in html and "薪资" in html
    assert "松岗路" not in html and "林女士" not in html
    # The one she lacks a certificate for is listed apart, with what she lacks.
    near = html.split("差一点就符合", 1)[1]
    assert f'id="r{certified["id"]}"' in near and "无所需证书" in near

    said = await her.post(f"/worker/requests/{job['id']}/interest", {"action": "express"})
    assert said.status_code == 303 and said.headers["location"] == f"/worker/requests#r{job['id']}"
    assert "已表示有意向" in (await her.get("/worker/requests")).text

    await household.login(employer.phone)
    page = (await household.get(f"/household/requests/{job['id']}")).text
    assert "有意向的阿姨（1）" in page and "她有意向" in page and "陈秀英" not in page

    await her.login(person.phone)
    assert (await her.post(f"/worker/requests/{job['id']}/interest", {"action": "withdraw"})).status_code == 303
    await household.login(employer.phone)
    assert "她有意向" not in (await household.get(f"/household/requests/{job['id']}")).text

    # Without the CSRF token nothing happens.
    await her.login(person.phone)
    forged = await her.post(f"/worker/requests/{job['id']}/interest", {"action": "express"}, csrf=False)
    assert forged.status_code == 403


async def test_she_ends_a_placement_and_complains_about_the_household(client, actors, registry):
    person, worker = await registry.worker(available_from=None)
    employer = await actors.employer()
    today = today_local()
    job = await post_request(
        client, employer, start_date=today.isoformat(), end_date=(today + timedelta(days=26)).isoformat()
    )
    made = await client.post(
        f"/api/v1/job-requests/{job['id']}/offers", headers=employer.headers, json={"worker_id": worker["id"]}
    )
    placement = (await client.post(f"/api/v1/offers/{made.json()['id']}/accept", headers=person.headers)).json()
    url = f"/worker/placements/{placement['id']}"
    her = Browser(client)
    await her.login(person.phone)
    shown = (await her.get(url)).text
    assert "提前 7 天" in shown and "结束原因" in shown and "投诉雇主" in shown

    # A complaint without a description: the message is next to the field, the choice kept.
    partial = await her.post(
        f"{url}/resign", {"category": "employer_fault", "reason": "欠薪", "complaint.category": "unpaid_wages"}
    )
    assert partial.status_code == 422
    assert field_error(partial.text, "complaint.description") is not None
    assert 'value="unpaid_wages" selected' in partial.text
    resigned = await her.post(
        f"{url}/resign",
        {
            "category": "employer_fault",
            "reason": "雇主两个月没发工资",
            "last_day": today.isoformat(),
            "complaint.category": "unpaid_wages",
            "complaint.description": "十月、十一月工资未发",
        },
    )
    assert resigned.status_code == 303, resigned.text
    after = (await her.get(url)).text
    assert "服务员已辞工" in after and "不影响诚信评价" in after and "我投诉雇主：拖欠工资" in after

    # A second complaint, of another kind, through its own form; an empty one is refused in place.
    empty = await her.post(f"{url}/complaint", {"category": "unsafe_conditions", "description": ""})
    assert empty.status_code == 422 and field_error(empty.text, "description") is not None
    filed = await her.post(f"{url}/complaint", {"category": "unsafe_conditions", "description": "要求无防护擦高层窗户"})
    assert filed.status_code == 303
    assert "我投诉雇主：工作环境不安全" in (await her.get(url)).text

    # The household sees she left, and why.
    household = Browser(client)
    await household.login(employer.phone)
    theirs = (await household.get(f"/household/placements/{placement['id']}")).text
    assert "阿姨辞工" in theirs and "雇主两个月没发工资" in theirs and "阿姨投诉您：拖欠工资" in theirs
    # Another worker cannot open her placement page.
    stranger, _ = await registry.worker(available_from=None)
    await her.login(stranger.phone)
    assert (await her.get(url)).status_code == 404
    assert (await her.post(f"{url}/resign", {"category": "personal", "reason": "x"})).status_code == 404
