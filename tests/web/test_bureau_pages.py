"""The bureau's report and flag pages, and the training and evaluation institutions' pages."""

import csv
import io
import json
import re
from datetime import date, timedelta

from openpyxl import load_workbook

from service.registry.domain import today_local
from tests.bureau_data import seed_city
from tests.conftest import in_app
from tests.factories import Registry, id_number
from tests.web.helpers import STAFF_PASSWORD, Browser, bureau_staff, field_error, input_value

PERIOD = "date_from=2026-01-01&date_to=2026-12-31"


def run_sql(client, app, statement: str, *args):
    async def run():
        async with app.state.engine.pool.acquire() as connection:
            return await connection.fetch(statement, *args)

    return in_app(client, run)


def seed(client, app):
    async def run():
        async with app.state.engine.pool.acquire() as connection:
            return await seed_city(connection)

    return in_app(client, run)


async def signed_in_staff(client) -> tuple[Browser, int]:
    staff_phone, staff_id = bureau_staff(client)
    bureau = Browser(client)
    await bureau.login(staff_phone, STAFF_PASSWORD)
    return bureau, staff_id


async def test_the_bureau_reads_the_report_with_its_charts_and_downloads(client, app, actors):
    city = seed(client, app)
    admin = await actors.admin()
    target = await client.put(
        "/api/v1/bureau/targets",
        headers=admin.headers,
        json={"year": 2026, "metric": "trained", "district_code": "441881", "target": 8},
    )
    assert target.status_code == 200, target.text
    api = (
        await client.get(
            "/api/v1/reports/training-employment",
            headers=admin.headers,
            params={"date_from": "2026-01-01", "date_to": "2026-12-31", "group_by": "month"},
        )
    ).json()

    bureau, _ = await signed_in_staff(client)
    page = await bureau.get(f"/bureau/reports?{PERIOD}&group_by=programme&group_by=district")
    assert page.status_code == 200, page.text
    html = page.text
    # Two inline SVG charts, nothing loaded from elsewhere.
    assert html.count("<svg") == 2 and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    months = [r for r in api["rows"] if r["group"] == ["month"]]
    # One bar per month and series in the monthly chart, each titled with its figure.
    for row in months:
        assert f"<title>{row['month']} 培训人次：{row['trained']}</title>" in html
    # Completion against the district's target, two decimals as the bureau writes it.
    verified_441881 = sum(1 for t in city.trainings if t["status"] == "verified" and t["district"] == "441881")
    pct = round(verified_441881 * 100 / 8, 2)
    assert f"{verified_441881} / 8" in html and f"{pct:.2f}%" in html
    assert "checked> 项目" in html and "checked> 区县" in html

    link = re.search(r'href="(/bureau/reports/download\?format=csv[^"]*)"', html).group(1).replace("&amp;", "&")
    as_csv = await bureau.get(link)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["汇总层级", "项目", "项目名称"]
    total_line = next(line for line in lines[1:] if line[0] == "合计")
    assert int(total_line[lines[0].index("培训人次")]) == sum(1 for t in city.trainings if t["status"] == "verified")
    as_xlsx = await bureau.get(link.replace("format=csv", "format=xlsx"))
    assert as_xlsx.status_code == 200
    assert list(load_workbook(io.BytesIO(as_xlsx.content)).active.values)[1][0] == "汇总层级"

    # Mistakes are shown next to their field, and what was typed stays.
    bad = await bureau.get("/bureau/reports?date_from=2026-01-01&date_to=2025-12-31")
    assert bad.status_code == 422 and field_error(bad.text, "date_to")
    assert input_value(bad.text, "date_from") == "2026-01-01"
    unknown = await bureau.get(f"/bureau/reports?{PERIOD}&group_by=zodiac")
    assert unknown.status_code == 422 and field_error(unknown.text, "group_by")


async def test_report_pages_are_the_bureaus_only(client, actors):
    anonymous = Browser(client)
    assert (await anonymous.get("/bureau/reports")).status_code in (302, 303, 401)
    company = await actors.agency("housekeeping")
    clerk = Browser(client)
    await clerk.login_key(company.key)
    assert (await clerk.get("/bureau/reports")).status_code == 403
    assert (await clerk.get(f"/bureau/reports/download?format=csv&{PERIOD}")).status_code == 403
    assert (await clerk.get("/bureau/flags")).status_code == 403


async def test_flags_are_confirmed_or_dismissed_with_a_reason_recording_who_and_when(client, app, actors):
    trainer = await actors.agency("training")
    rows = run_sql(
        client,
        app,
        "INSERT INTO integrity_flag (rule, fingerprint, institution, evidence) VALUES "
        "('shared_phone', 'p1', $1, $2), ('ghost_trainees', 'g1', $1, $3) RETURNING id",
        trainer.id,
        json.dumps({"phone": "138****0000", "trainees": 4}),
        json.dumps({"institution_ratio": 0.02, "district_ratio": 0.4}),
    )
    shared, ghost = rows[0]["id"], rows[1]["id"]
    bureau, staff_id = await signed_in_staff(client)
    listed = await bureau.get("/bureau/flags")
    assert listed.status_code == 200 and f'id="flag-{shared}"' in listed.text and "trainees: 4" in listed.text

    missing = await bureau.post(
        f"/bureau/flags/{shared}", {"decision": "confirmed", "reason": "", "back_status": "open"}
    )
    assert missing.status_code == 422 and field_error(missing.text, f"flag-{shared}.reason")
    still = run_sql(client, app, "SELECT status FROM integrity_flag WHERE id = $1", shared)
    assert still[0]["status"] == "open"

    confirmed = await bureau.post(
        f"/bureau/flags/{shared}", {"decision": "confirmed", "reason": "电话核实为同一中介代报", "back_status": "open"}
    )
    assert confirmed.status_code == 303
    dismissed = await bureau.post(f"/bureau/flags/{ghost}", {"decision": "dismissed", "reason": "新开班，样本少"})
    assert dismissed.status_code == 303
    decided = run_sql(
        client,
        app,
        "SELECT id, status, decided_by, decided_at FROM integrity_flag ORDER BY id",
    )
    assert [(r["status"], r["decided_by"]) for r in decided] == [("confirmed", staff_id), ("dismissed", staff_id)]
    assert all(r["decided_at"] is not None for r in decided)
    shown = (await bureau.get("/bureau/flags?status=confirmed")).text
    assert "电话核实为同一中介代报" in shown and "审核员" in shown and f'id="flag-{ghost}"' not in shown

    # The institution sees the confirmed flag about it, not the dismissed one.
    school = Browser(client)
    await school.login_key(trainer.key)
    own = await school.get("/agency/institution")
    assert own.status_code == 200
    assert "电话核实为同一中介代报" in own.text and "新开班，样本少" not in own.text


async def test_a_training_institution_sees_its_records_and_uploads_a_roster(client, actors):
    registry = await Registry(client, actors).setup()
    _, worker = await registry.worker(real_name="罗丽娟", trained_on=today_local() - timedelta(days=40))
    other_school = await actors.agency("training")
    school = Browser(client)
    await school.login_key(registry.trainer.key)
    assert (await school.get("/agency")).headers["location"] == "/agency/institution"
    own = await school.get("/agency/institution")
    assert "罗丽娟" in own.text and "已核验" in own.text and "母婴护理员培训" in own.text

    # A roster with a wrong ID number: the error stands next to the field and the text stays.
    started = (today_local() - timedelta(days=3)).isoformat()
    bad = await school.post(
        "/agency/institution/rosters",
        {"course": "养老护理员培训", "started_on": started, "id_numbers": "440000000000000000"},
    )
    assert bad.status_code == 422 and field_error(bad.text, "roster.id_numbers")
    assert "440000000000000000" in bad.text and re.search(r'id="roster-course"[^>]*value="养老护理员培训"', bad.text)
    good = await school.post(
        "/agency/institution/rosters",
        {"course": "养老护理员培训", "started_on": started, "id_numbers": id_number(date(1985, 3, 3))},
    )
    assert good.status_code == 303
    after = await school.get(good.headers["location"])
    assert "花名册已上传" in after.text and "养老护理员培训" in after.text

    # Another school sees none of it.
    stranger = Browser(client)
    await stranger.login_key(other_school.key)
    theirs = await stranger.get("/agency/institution")
    assert "罗丽娟" not in theirs.text and "养老护理员培训" not in theirs.text
    assert worker["id"]


async def test_an_evaluation_institution_revokes_its_certificate_with_a_reason(client, actors):
    registry = await Registry(client, actors).setup()
    _, worker = await registry.worker(real_name="黄秀英", certificate_level=3)
    centre = Browser(client)
    await centre.login_key(registry.evaluator.key)
    own = await centre.get("/agency/institution")
    assert own.status_code == 200 and "黄秀英" in own.text
    certificate_id = int(re.search(r'id="certificate-(\d+)"', own.text).group(1))
    path = f"/agency/institution/certificates/{worker['id']}/{certificate_id}/revoke"
    missing = await centre.post(path, {"reason": " "})
    assert missing.status_code == 422 and field_error(missing.text, f"certificate-{certificate_id}.reason")
    revoked = await centre.post(path, {"reason": "考评材料不实"})
    assert revoked.status_code == 303
    listed = await client.get(f"/api/v1/workers/{worker['id']}/certificates", headers=registry.admin.headers)
    assert listed.json()[0]["status"] == "revoked"

    # Another centre cannot revoke it: the certificate is not there for it (404 like a missing one).
    other = await actors.agency("evaluation")
    stranger = Browser(client)
    await stranger.login_key(other.key)
    assert (await stranger.post(path, {"reason": "试图吊销"})).status_code == 404


async def test_institutions_push_a_training_and_a_certificate_from_the_page(client, actors):
    registry = await Registry(client, actors).setup()
    _, worker = await registry.worker(real_name="苏翠玲", health=None)
    id_no = registry.id_numbers[worker["id"]]
    school = Browser(client)
    await school.login_key(registry.trainer.key)
    finished = today_local() - timedelta(days=10)
    training = {
        "worker_id": worker["id"],
        "id_number": id_no,
        "programme": "nanyue_jiazheng",
        "training_type": "employment_skills",
        "course": "家政服务员（五级）培训",
        "occupation_code": "4-10-01-06",
        "level": "5",
        "hours": "80",
        "started_on": (finished - timedelta(days=20)).isoformat(),
        "finished_on": finished.isoformat(),
        "result": "passed",
    }
    # Someone else's ID number with her record number: refused next to the record number.
    wrong = await school.post("/agency/institution/trainings", training | {"id_number": id_number(date(1979, 9, 9))})
    assert wrong.status_code == 422 and field_error(wrong.text, "push.worker_id")
    assert input_value(wrong.text, "course") == "家政服务员（五级）培训"
    no_hours = await school.post("/agency/institution/trainings", training | {"hours": "0"})
    assert no_hours.status_code == 422 and field_error(no_hours.text, "push.hours")
    pushed = await school.post("/agency/institution/trainings", training)
    assert pushed.status_code == 303, pushed.text
    listed = await client.get(f"/api/v1/workers/{worker['id']}/trainings", headers=registry.admin.headers)
    assert [(t["course"], t["status"]) for t in listed.json()] == [("家政服务员（五级）培训", "pending")]

    centre = Browser(client)
    await centre.login_key(registry.evaluator.key)
    certificate = {
        "worker_id": worker["id"],
        "id_number": id_no,
        "kind": "skill_level",
        "occupation_code": "4-10-01-06",
        "work_type": "母婴护理员",
        "level": "4",
        "certificate_no": "S4418000077",
        "issued_on": finished.isoformat(),
    }
    pushed = await centre.post("/agency/institution/certificates", certificate)
    assert pushed.status_code == 303, pushed.text
    page = await centre.get("/agency/institution")
    assert "苏翠玲" in page.text and "S4418000077" in page.text
    again = await centre.post("/agency/institution/certificates", certificate)
    assert again.status_code == 422 and "S4418000077" in again.text
