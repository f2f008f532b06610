"""The household's request page after someone left early: the vacancy is said, and one
button reopens the request without bringing her back."""

from datetime import timedelta

import pytest

from service.registry.domain import today_local
from tests.factories import Registry, offer, post_request
from tests.web.helpers import Browser


@pytest.fixture
async def registry(client, actors):
    return await Registry(client, actors).setup()


async def test_the_household_sees_the_vacancy_and_reopens_with_one_button(client, actors, registry):
    person, worker = await registry.worker(available_from=None)
    employer = await actors.employer()
    today = today_local()
    job = await post_request(
        client, employer, start_date=today.isoformat(), end_date=(today + timedelta(days=60)).isoformat()
    )
    made = await offer(client, employer, job["id"], worker["id"])
    placement = (await client.post(f"/api/v1/offers/{made['id']}/accept", headers=person.headers)).json()
    household = Browser(client)
    await household.login(employer.phone)
    before = (await household.get(f"/household/requests/{job['id']}")).text
    assert "有人提前结束服务" not in before and "重新招聘" not in before
    assert "空缺" not in (await household.get("/household/")).text

    household.reset()
    resigned = await client.post(
        f"/api/v1/placements/{placement['id']}/resign",
        headers=person.headers,
        json={"category": "family", "reason": "家里有事"},
    )
    assert resigned.status_code == 200, resigned.text
    await household.login(employer.phone)
    html = (await household.get(f"/household/requests/{job['id']}")).text
    last_day = today + timedelta(days=7)
    assert "有人提前结束服务" in html and f"最后工作日 {last_day}" in html
    assert "已上岗 0 / 1 人，空缺 1 人" in html and "重新招聘" in html
    assert f"从 {last_day + timedelta(days=1)} 起找替补" in html
    # The dashboard says it too, linking to the request's vacancy.
    dashboard = (await household.get("/household/")).text
    assert f'href="/household/requests/{job["id"]}#vacancy">空缺 1 人</a>' in dashboard

    reopened = await household.post(f"/household/requests/{job['id']}/reopen")
    assert reopened.status_code == 303, reopened.text
    html = (await household.get(f"/household/requests/{job['id']}")).text
    assert "招聘中" in html and '<button type="submit">重新招聘</button>' not in html
    assert "空缺 1 人</a>" not in (await household.get("/household/")).text
    # The one who left is not among those shown as interested or offered again.
    assert "已发邀约，等待答复" not in html
    # Reopening twice is refused.
    again = await household.post(f"/household/requests/{job['id']}/reopen")
    assert again.status_code == 409
