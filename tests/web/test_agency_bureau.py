"""A housekeeping clerk's pages (workers, import with a preview) and the bureau's queues."""

import csv
import io
import re
from datetime import date, timedelta

from service.registry.domain import today_local
from service.registry.tables import Check, Worker
from tests.conftest import in_app
from tests.factories import Registry, id_number, phone, post_request
from tests.web.helpers import STAFF_PASSWORD, Browser, bureau_staff, field_error, input_value


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "姓名",
            "性别",
            "出生日期",
            "身份证号",
            "手机号",
            "服务区县",
            "服务类别",
            "技能",
            "从业年限",
            "期望工资最低",
            "期望工资最高",
            "工资单位",
            "住家",
            "语言",
        ]
    )
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def good_row(name: str, born: date = date(1980, 5, 1)) -> list[str]:
    return [
        name,
        "女",
        born.isoformat(),
        id_number(born),
        phone(),
        "清城区、清新区",
        "母婴、居家",
        "母婴护理（月嫂）、粤菜烹饪",
        "5",
        "6000",
        "8000",
        "月",
        "是",
        "粤语、普通话",
    ]


def count_workers(client) -> int:
    return in_app(client, Worker.count)


async def upload(browser: Browser, content: bytes, filename: str = "workers.csv"):
    return await browser.client.post(
        "/agency/import",
        files={"file": (filename, content, "text/csv")},
        data={"_csrf_token": await browser.token()},
        follow_redirects=False,
    )


async def test_import_previews_every_row_and_saves_only_what_the_clerk_chooses(client, actors):
    agency = await actors.agency("housekeeping")
    clerk = Browser(client)
    await clerk.login_key(agency.key)
    bad = good_row("李美玲")
    bad[3] = bad[3][:17] + ("0" if bad[3][17] != "0" else "1")  # wrong check digit
    duplicate = good_row("黄丽", date(1979, 1, 2))
    content = csv_bytes([good_row("陈秀英"), bad, good_row("周小红", date(1990, 8, 8)), duplicate, duplicate])
    preview = await upload(clerk, content)
    assert preview.status_code == 200, preview.text
    assert "5</strong> 行" not in preview.text
    assert re.search(r"<strong>3</strong> 行可以导入", preview.text)
    assert "身份证号：校验码不正确" in preview.text and "已登记" in preview.text
    assert count_workers(client) == 0  # a preview saves nothing
    token = re.search(r'action="/agency/import/([^"]+)"', preview.text).group(1)
    kept = in_app(client, client.app.stores.get("web_imports").get, token)
    assert kept and duplicate[3].encode() not in kept and "黄丽".encode() not in kept  # encrypted while waiting
    assert duplicate[3] not in preview.text  # and masked on the page

    # Without choosing "only the good rows", a file with errors saves nothing.
    refused = await clerk.post(f"/agency/import/{token}")
    assert refused.status_code == 422 and count_workers(client) == 0
    saved = await clerk.post(f"/agency/import/{token}", {"only_good": "yes"})
    assert saved.status_code == 200 and "已保存 3 位" in saved.text
    assert count_workers(client) == 3
    listed = await clerk.get("/agency?q=陈秀英")
    assert "陈秀英" in listed.text and "待她确认" in listed.text
    # The preview is gone once used.
    assert (await clerk.post(f"/agency/import/{token}", {"only_good": "yes"})).status_code == 404


async def test_import_refuses_files_it_cannot_read(client, actors):
    agency = await actors.agency("housekeeping")
    clerk = Browser(client)
    await clerk.login_key(agency.key)
    nonsense = await upload(clerk, "名字,电话\n陈,1\n".encode())
    assert nonsense.status_code == 422 and "表头" in field_error(nonsense.text, "file")
    empty = await upload(clerk, b"")
    assert empty.status_code == 422 and field_error(empty.text, "file")


async def test_import_reads_excel(client, actors):
    from openpyxl import Workbook

    agency = await actors.agency("housekeeping")
    clerk = Browser(client)
    await clerk.login_key(agency.key)
    book = Workbook()
    sheet = book.active
    sheet.append(
        ["姓名", "性别", "出生日期", "身份证号", "手机号", "服务区县", "服务类别", "期望工资最低", "期望工资最高"]
    )
    born = date(1983, 6, 6)
    sheet.append(["吴芳", "女", born, id_number(born), phone(), "清城区", "养老", 5000, 6000])
    out = io.BytesIO()
    book.save(out)
    preview = await upload(clerk, out.getvalue(), "workers.xlsx")
    assert preview.status_code == 200 and re.search(r"<strong>1</strong> 行可以导入", preview.text), preview.text


async def test_a_clerk_registers_one_worker_and_records_a_health_check(client, actors):
    agency = await actors.agency("housekeeping")
    clerk = Browser(client)
    await clerk.login_key(agency.key)
    born = date(1982, 2, 2)
    form = {
        "real_name": "郑丽华",
        "id_number": id_number(born),
        "gender": "female",
        "birth_date": "1982-02-03",
        "phone": phone(),
        "categories": ["elderly"],
        "district_codes": ["441802"],
        "wage_min": "5000",
        "wage_max": "6000",
        "wage_unit": "month",
    }
    wrong = await clerk.post("/agency/workers", form)
    assert wrong.status_code == 422 and "不一致" in field_error(wrong.text, "birth_date")
    made = await clerk.post("/agency/workers", {**form, "birth_date": "1982-02-02"})
    assert made.status_code == 303
    path = made.headers["location"]
    future = await clerk.post(
        f"{path}/checks",
        {
            "kind": "health",
            "tier": "elderly",
            "result": "passed",
            "checked_on": (today_local() + timedelta(days=3)).isoformat(),
        },
    )
    assert future.status_code == 422 and "须在" in field_error(future.text, "checked_on")
    assert input_value(future.text, "checked_on") == (today_local() + timedelta(days=3)).isoformat()
    checked = await clerk.post(
        f"{path}/checks",
        {
            "kind": "health",
            "tier": "elderly",
            "result": "passed",
            "checked_on": (today_local() - timedelta(days=350)).isoformat(),
        },
    )
    assert checked.status_code == 303
    page = (await clerk.get(path)).text
    assert "待核验" in page and "郑丽华" in page


async def test_the_bureau_verifies_and_decides_and_is_recorded(client, actors):
    registry = await Registry(client, actors).setup()
    agency = await actors.agency("housekeeping")
    made = await client.post(
        "/api/v1/workers",
        headers=agency.headers,
        json={
            "real_name": "何秀珍",
            "gender": "female",
            "birth_date": "1984-04-04",
            "id_number": id_number(date(1984, 4, 4)),
            "phone": phone(),
            "district_codes": ["441802"],
            "categories": ["household"],
            "wage_min": 5000,
            "wage_max": 6000,
        },
    )
    assert made.status_code == 201, made.text
    worker_id = made.json()["id"]
    check = await client.post(
        f"/api/v1/workers/{worker_id}/checks",
        headers=agency.headers,
        json={"kind": "health", "tier": "home", "result": "passed", "checked_on": today_local().isoformat()},
    )
    assert check.status_code == 201

    staff_phone, staff_id = bureau_staff(client)
    bureau = Browser(client)
    await bureau.login(staff_phone, STAFF_PASSWORD)
    queues = (await bureau.get("/bureau")).text
    assert "何秀珍" in queues and "待核验：体检与背景审查（1）" in queues and 'id="reports"' in queues
    decided = await bureau.post(
        f"/bureau/credentials/checks/{worker_id}/{check.json()['id']}", {"decision": "verified"}
    )
    assert decided.status_code == 303
    listed = await client.get(f"/api/v1/workers/{worker_id}/checks", headers=registry.admin.headers)
    assert listed.json()[0]["status"] == "verified" and listed.json()[0]["decided_at"] is not None
    # Who decided and when, recorded by the service and shown on the page.
    stored = in_app(client, Check.select(Check.decided_by).where(Check.id == check.json()["id"]).first().run)
    assert stored["decided_by"] == staff_id
    table = (await bureau.get("/bureau")).text.split('id="decided-credentials"')[1].split("</table>")[0]
    assert "何秀珍" in table and "已核验" in table and "审核员" in table

    # A complaint, decided with a reason; an empty reason is shown next to the field.
    person, worker = await registry.worker(real_name="梁玉梅", available_from=None)
    employer = await actors.employer()
    today = today_local()
    job = await post_request(
        client, employer, start_date=today.isoformat(), end_date=(today + timedelta(days=5)).isoformat()
    )
    offer = await client.post(
        f"/api/v1/job-requests/{job['id']}/offers", headers=employer.headers, json={"worker_id": worker["id"]}
    )
    placement = await client.post(f"/api/v1/offers/{offer.json()['id']}/accept", headers=person.headers)
    complaint = await client.post(
        f"/api/v1/placements/{placement.json()['id']}/complaints",
        headers=employer.headers,
        json={"category": "negligence", "description": "多次迟到没有说明"},
    )
    complaint_id = complaint.json()["id"]
    empty = await bureau.post(f"/bureau/complaints/{complaint_id}", {"outcome": "substantiated", "reason": ""})
    assert empty.status_code == 422 and field_error(empty.text, f"complaint-{complaint_id}-reason")
    assert (
        await bureau.post(f"/bureau/complaints/{complaint_id}", {"outcome": "substantiated", "reason": "核实属实"})
    ).status_code == 303
    read = (await client.get(f"/api/v1/complaints/{complaint_id}", headers=registry.admin.headers)).json()
    assert read["decided_by"] == staff_id and read["decided_at"] is not None
    assert "审核员" in (await bureau.get("/bureau")).text  # who decided, in the recent decisions

    # She appeals on her page; the bureau decides the appeal.
    her = Browser(client)
    await her.login(person.phone)
    short = await her.post(f"/worker/complaints/{complaint_id}/appeal", {"text": "不"})
    assert (
        short.status_code == 422
        and field_error(short.text, f"appeal-{complaint_id}")
        and ">不</textarea>" in short.text
    )
    assert (
        await her.post(f"/worker/complaints/{complaint_id}/appeal", {"text": "当天家里停电，已提前告知"})
    ).status_code == 303
    await bureau.login(staff_phone, STAFF_PASSWORD)
    assert "当天家里停电" in (await bureau.get("/bureau")).text
    assert (
        await bureau.post(f"/bureau/appeals/{complaint_id}", {"outcome": "upheld", "reason": "证据充分"})
    ).status_code == 303
    read = (await client.get(f"/api/v1/complaints/{complaint_id}", headers=registry.admin.headers)).json()
    assert read["status"] == "overturned" and read["appeal_decided_by"] == staff_id
