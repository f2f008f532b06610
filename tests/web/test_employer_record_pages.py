"""Through the pages: the bureau suspends an employer for a serious upheld complaint and
lifts it, with reasons; a worker sees the employer's upheld complaints as a count."""

import pytest

from tests.employment.test_employer_consequences import DESCRIPTION, upheld_complaint
from tests.factories import Registry, post_request
from tests.web.helpers import STAFF_PASSWORD, Browser, bureau_staff, field_error


@pytest.fixture
async def registry(client, actors):
    return await Registry(client, actors).setup()


async def test_the_bureau_suspends_and_lifts_and_workers_see_a_count(client, actors, registry):
    employer = await actors.employer()
    _admin, complaint = await upheld_complaint(client, actors, registry, employer)
    job = await post_request(client, employer)
    seeker, _ = await registry.worker(available_from=None)

    her = Browser(client)
    await her.login(seeker.phone)
    listing = (await her.get("/worker/requests")).text
    assert f'id="r{job["id"]}"' in listing and "该雇主有 1 起经核实的投诉" in listing
    assert DESCRIPTION not in listing

    staff_phone, _ = bureau_staff(client)
    bureau = Browser(client)
    await bureau.login(staff_phone, STAFF_PASSWORD)
    queues = (await bureau.get("/bureau")).text
    assert "暂停该雇主" in queues and f"投诉 #{complaint['id']}" in queues
    action = f"/bureau/complaints/{complaint['id']}/suspend-employer"
    missing = await bureau.post(action, {"reason": ""})
    assert missing.status_code == 422 and field_error(missing.text, f"suspend-{complaint['id']}-reason")
    done = await bureau.post(action, {"reason": "经核实存在虐待行为"})
    assert done.status_code == 303, done.text
    queues = (await bureau.get("/bureau")).text
    assert "原因：经核实存在虐待行为" in queues and "解除暂停" in queues

    await her.login(seeker.phone)
    assert f'id="r{job["id"]}"' not in (await her.get("/worker/requests")).text

    rows = (await client.get("/api/v1/employer-suspensions", headers=_admin.headers)).json()
    await bureau.login(staff_phone, STAFF_PASSWORD)
    lifted = await bureau.post(f"/bureau/suspensions/{rows[0]['id']}/lift", {"reason": "复核后解除"})
    assert lifted.status_code == 303, lifted.text
    assert "目前没有暂停中的雇主" in (await bureau.get("/bureau")).text
    await her.login(seeker.phone)
    assert f'id="r{job["id"]}"' in (await her.get("/worker/requests")).text


async def test_the_household_appeals_an_upheld_complaint_from_its_placement_page(client, actors, registry):
    employer = await actors.employer()
    admin, complaint = await upheld_complaint(client, actors, registry, employer)
    household = Browser(client)
    await household.login(employer.phone)
    path = f"/household/placements/{complaint['placement_id']}"
    html = (await household.get(path)).text
    assert "阿姨投诉您" in html and "对这项认定申诉" in html
    action = f"/household/complaints/{complaint['id']}/appeal"
    short = await household.post(action, {"text": "短"})
    assert short.status_code == 422 and field_error(short.text, f"appeal-{complaint['id']}.text")
    sent = await household.post(action, {"text": "当时是误会，有监控录像为证"})
    assert sent.status_code == 303, sent.text
    html = (await household.get(path)).text
    assert "对这项认定申诉" not in html and "您的申诉" in html
    read = (await client.get(f"/api/v1/complaints/{complaint['id']}", headers=admin.headers)).json()
    assert read["appeal_status"] == "pending" and read["appeal_text"] == "当时是误会，有监控录像为证"
    # Another household cannot.
    stranger = await actors.employer()
    await household.login(stranger.phone)
    assert (await household.post(action, {"text": "这不是我的投诉记录"})).status_code == 404
