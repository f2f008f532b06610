"""The household changes what it asked for and how a placement ended: editing an open
request (with its location and radius), terminating a placement or recording a no-show,
and editing her review while the service allows it."""

from datetime import timedelta

from service.employment.tables import Review
from service.registry.domain import today_local
from tests.conftest import in_app
from tests.factories import Registry, post_request
from tests.web.helpers import Browser, field_error, input_value
from tests.web.test_household_worker import request_form


async def _placement(client, actors, *, real_name: str):
    """An employer, a worker and an active placement that started today."""
    registry = await Registry(client, actors).setup()
    person, worker = await registry.worker(real_name=real_name, available_from=None)
    employer = await actors.employer()
    today = today_local()
    job = await post_request(
        client, employer, start_date=today.isoformat(), end_date=(today + timedelta(days=5)).isoformat()
    )
    offer = await client.post(
        f"/api/v1/job-requests/{job['id']}/offers", headers=employer.headers, json={"worker_id": worker["id"]}
    )
    accepted = await client.post(f"/api/v1/offers/{offer.json()['id']}/accept", headers=person.headers)
    assert accepted.status_code == 201, accepted.text
    return employer, person, accepted.json()["id"]


async def test_a_household_edits_an_open_request_and_sets_its_location(client, actors):
    employer, stranger = await actors.employer(), await actors.employer()
    household = Browser(client)
    await household.login(employer.phone)
    created = await household.post("/household/requests", request_form(languages=["粤语"]))
    assert created.status_code == 303, created.text
    path = created.headers["location"]
    assert f'href="{path}/edit"' in (await household.get(path)).text

    # The form starts from what is stored.
    form = (await household.get(f"{path}/edit")).text
    assert input_value(form, "budget_min") == "6000" and "会做粤菜，煲汤</textarea>" in form
    assert 'value="粤语" checked' in form and 'name="district_code"' not in form  # the district stays

    # The API's rules, next to their fields, with everything typed kept.
    edit = request_form(budget_min="9500", skills_text="还要会带二胎", terms="1")
    edit.pop("district_code")
    wrong = await household.post(f"{path}/edit", edit)
    assert wrong.status_code == 422
    assert "不能高于预算上限" in field_error(wrong.text, "budget_min")
    assert input_value(wrong.text, "budget_min") == "9500" and "还要会带二胎</textarea>" in wrong.text
    lonely = await household.post(f"{path}/edit", {**edit, "budget_min": "6000", "radius_km": "15"})
    assert lonely.status_code == 422 and "需要同时给出位置" in field_error(lonely.text, "radius_km")
    half = await household.post(f"{path}/edit", {**edit, "budget_min": "6000", "location.lat": "23.7"})
    assert half.status_code == 422 and field_error(half.text, "location.lon") == "必填 (required)"
    assert input_value(half.text, "location.lat") == "23.7"
    outside = await household.post(
        f"{path}/edit", {**edit, "budget_min": "6000", "location.lat": "40", "location.lon": "113"}
    )
    assert outside.status_code == 422 and "不能大于 26" in field_error(outside.text, "location.lat")
    emptied = await household.post(f"{path}/edit", {**edit, "budget_min": ""})
    assert emptied.status_code == 422 and field_error(emptied.text, "budget_min") == "必填 (required)"

    # Saved: a location and radius set, the end date and the languages cleared.
    saved = await household.post(
        f"{path}/edit",
        {
            **{k: v for k, v in edit.items() if k != "languages"},  # no language ticked
            "end_date": "",  # emptied
            "budget_min": "7000",
            "location.lat": "23.68",
            "location.lon": "113.05",
            "radius_km": "15",
        },
    )
    assert saved.status_code == 303, saved.text
    request_id = path.rsplit("/", 1)[1]
    read = (await client.get(f"/api/v1/job-requests/{request_id}", headers=employer.headers)).json()
    assert read["location"] == {"lat": 23.68, "lon": 113.05} and read["radius_km"] == 15
    assert read["budget_min"] == 7000 and read["end_date"] is None and read["languages"] == []
    assert read["skills_text"] == "还要会带二胎"
    assert "15 公里内" in (await household.get(path)).text

    # Someone else's request is missing to her; a cancelled one no longer changes.
    other = Browser(client)
    await other.login(stranger.phone)
    assert (await other.get(f"{path}/edit")).status_code == 404
    assert (await other.post(f"{path}/edit", edit)).status_code == 404
    await household.login(employer.phone)  # one cookie jar: people take turns
    assert (await household.post(f"{path}/cancel")).status_code == 303
    assert (await household.get(f"{path}/edit")).status_code == 409
    assert (await household.post(f"{path}/edit", edit)).status_code == 409


async def test_a_household_records_a_no_show_with_a_reason(client, actors):
    employer, _, placement_id = await _placement(client, actors, real_name="罗美玲")
    household = Browser(client)
    await household.login(employer.phone)
    path = f"/household/placements/{placement_id}"
    assert f'action="{path}/terminate"' in (await household.get(path)).text

    no_reason = await household.post(f"{path}/terminate", {"no_show": "on"})
    assert no_reason.status_code == 422 and field_error(no_reason.text, "reason") == "必填 (required)"
    assert 'name="no_show" checked' in no_reason.text  # what she chose is kept

    ended = await household.post(f"{path}/terminate", {"no_show": "on", "reason": "说好今天到，一直没来"})
    assert ended.status_code == 303
    read = (await client.get(f"/api/v1/placements/{placement_id}", headers=employer.headers)).json()
    assert read["status"] == "no_show"
    assert "未到岗" in (await household.get(path)).text
    again = await household.post(f"{path}/terminate", {"reason": "再结束一次"})
    assert again.status_code == 422 and "不能再结束" in again.text


async def test_a_household_terminates_early_and_edits_her_review_within_its_window(client, actors):
    employer, _, placement_id = await _placement(client, actors, real_name="黄丽娟")
    household = Browser(client)
    await household.login(employer.phone)
    path = f"/household/placements/{placement_id}"
    assert (await household.post(f"{path}/terminate", {"reason": "家里老人住院，提前结束"})).status_code == 303
    read = (await client.get(f"/api/v1/placements/{placement_id}", headers=employer.headers)).json()
    assert read["status"] == "terminated"

    first = {"ratings.quality": "3", "ratings.communication": "4", "ratings.reliability": "4", "ratings.honesty": "5"}
    assert (await household.post(f"{path}/review", {**first, "comment": "还可以"})).status_code == 303
    shown = (await household.get(path)).text
    assert f'action="{path}/review/edit"' in shown and 'name="ratings.quality" value="3" checked' in shown

    missing = await household.post(f"{path}/review/edit", {**first, "ratings.quality": ""})
    assert missing.status_code == 422 and field_error(missing.text, "ratings.quality") == "请打分 (choose 1-5)"
    changed = await household.post(f"{path}/review/edit", {**first, "ratings.quality": "5", "comment": "其实很好"})
    assert changed.status_code == 303
    reviews = (await client.get(f"/api/v1/placements/{placement_id}/reviews", headers=employer.headers)).json()
    mine = next(r for r in reviews if r["author_role"] == "employer")
    assert mine["ratings"]["quality"] == 5 and mine["comment"] == "其实很好" and mine["overall"] == 4.5

    # Once the window has closed the form is gone and an edit is refused with the reason.
    in_app(client, Review.update({Review.editable_until: Review.created_at}).where(Review.id == mine["id"]).run)
    closed = (await household.get(path)).text
    assert f'action="{path}/review/edit"' not in closed and "其实很好" in closed
    late = await household.post(f"{path}/review/edit", first)
    assert late.status_code == 422 and "修改期已过" in late.text
