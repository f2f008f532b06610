"""The bureau's reports: computed in SQL, checked here against counts made from the rows."""

import csv
import io
import statistics
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from openpyxl import load_workbook

from service.registry.domain import DAYS_PER_MONTH, TERM_DAYS, today_local
from tests.bureau_data import certified, first_placement, seed_city
from tests.conftest import in_app

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-12-31"}


@pytest.fixture
def city(client, app):
    async def seed():
        async with app.state.engine.pool.acquire() as connection:
            return await seed_city(connection)

    return in_app(client, seed)


def expected_training_row(city, rows):
    outcomes = [first_placement(city, t) for t in rows]
    days = [p["start_date"] - t["finished_on"] for t, p in zip(rows, outcomes) if p]
    days = [d.days for d in days]
    # Whole yuan a month; a 单 of 26 days is 26 of the 365.25 / 12 days of a month.
    wages = [
        p["wage"] if p["wage_unit"] == "month" else round(p["wage"] * DAYS_PER_MONTH / TERM_DAYS) for p in outcomes if p
    ]
    six_months_ago = today_local() - timedelta(days=182)
    aged = [p for p in outcomes if p and p["start_date"] <= six_months_ago]
    retained = [p for p in aged if p["status"] == "active" or p["end_date"] >= p["start_date"] + timedelta(days=182)]
    ratings = [r["overall"] for p in outcomes if p for r in city.reviews if r["placement"] == p["id"]]
    return {
        "trained": len(rows),
        "trained_people": len({t["worker"] for t in rows}),
        "certified": sum(certified(city, t) for t in rows),
        "placed_30d": sum(d <= 30 for d in days),
        "placed_90d": sum(d <= 90 for d in days),
        "placed_180d": sum(d <= 180 for d in days),
        "median_days_to_placement": statistics.median(days) if days else None,
        "median_monthly_wage": statistics.median(wages) if wages else None,
        "placed_6m_ago": len(aged),
        "retained_6m": len(retained),
        "avg_rating": float(Decimal(str(statistics.mean(ratings))).quantize(Decimal("0.01"), ROUND_HALF_UP))
        if ratings
        else None,
    }


async def test_training_to_employment_adds_up_in_every_grouping(client, actors, city):
    admin = await actors.admin()
    await client.put(
        "/api/v1/bureau/targets",
        headers=admin.headers,
        json={"year": 2026, "metric": "trained", "programme_code": "nanyue_jiazheng", "target": 7},
    )
    await client.put(
        "/api/v1/bureau/targets", headers=admin.headers, json={"year": 2026, "metric": "trained", "target": 30}
    )
    await client.put(
        "/api/v1/bureau/targets",
        headers=admin.headers,
        json={"year": 2026, "metric": "placed", "district_code": "441881", "target": 3},
    )
    response = await client.get(
        "/api/v1/reports/training-employment", headers=admin.headers, params=PERIOD | {"group_by": "programme,district"}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    verified = [t for t in city.trainings if t["status"] == "verified"]
    assert len(report["rows"]) == 4 + 2 + 2 + 1
    for row in report["rows"]:
        selected = [t for t in verified if all(t[d] == row[d] for d in row["group"])]
        expected = expected_training_row(city, selected)
        assert {k: row[k] for k in expected} == expected, row
    total = next(r for r in report["rows"] if r["group"] == [])
    assert total["trained"] == len(verified) and total["trained_target"] == 30
    assert total["trained_completion_pct"] == round(len(verified) * 100 / 30, 2)
    nanyue = next(r for r in report["rows"] if r["group"] == ["programme"] and r["programme"] == "nanyue_jiazheng")
    assert nanyue["programme_name"] == "南粤家政" and nanyue["trained_target"] == 7
    assert nanyue["trained_completion_pct"] == round(nanyue["trained"] * 100 / 7, 2)
    yingde = next(r for r in report["rows"] if r["group"] == ["district"] and r["district"] == "441881")
    assert yingde["district_name"] == "英德市" and yingde["placed_target"] == 3
    assert yingde["trained_target"] is None
    # Detail rows carry no target of a single key.
    assert all(r["trained_target"] is None for r in report["rows"] if len(r["group"]) == 2)
    for dim in ("programme", "district"):
        assert sum(r["trained"] for r in report["rows"] if r["group"] == [dim]) == total["trained"]
    assert sum(r["placed_90d"] for r in report["rows"] if len(r["group"]) == 2) == total["placed_90d"]


async def test_any_combination_and_any_period(client, actors, city):
    admin = await actors.admin()
    params = {"date_from": "2026-03-01", "date_to": "2026-06-30", "group_by": "month,training_type,institution"}
    report = (await client.get("/api/v1/reports/training-employment", headers=admin.headers, params=params)).json()
    inside = [
        t
        for t in city.trainings
        if t["status"] == "verified" and date(2026, 3, 1) <= t["finished_on"] <= date(2026, 6, 30)
    ]
    for row in report["rows"]:
        selected = [t for t in inside if all(t[d] == row[d] for d in row["group"])]
        assert row["trained"] == len(selected) and row["certified"] == sum(certified(city, t) for t in selected)
    assert {r["month"] for r in report["rows"] if r["group"] == ["month"]} == {
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
    }
    bad = await client.get(
        "/api/v1/reports/training-employment", headers=admin.headers, params=PERIOD | {"group_by": "programme,zodiac"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "group_by"
    backwards = await client.get(
        "/api/v1/reports/training-employment",
        headers=admin.headers,
        params={"date_from": "2026-05-01", "date_to": "2026-04-01"},
    )
    assert backwards.status_code == 422


async def test_csv_and_excel_carry_chinese_headers_and_the_same_numbers(client, actors, city):
    admin = await actors.admin()
    await client.put(
        "/api/v1/bureau/targets", headers=admin.headers, json={"year": 2026, "metric": "trained", "target": 30}
    )
    params = PERIOD | {"group_by": "programme"}
    data = (await client.get("/api/v1/reports/training-employment", headers=admin.headers, params=params)).json()
    as_csv = await client.get(
        "/api/v1/reports/training-employment", headers=admin.headers, params=params | {"format": "csv"}
    )
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert lines[0][:4] == ["汇总层级", "项目", "项目名称", "培训人次"]
    assert len(lines) == len(data["rows"]) + 1
    total_line = next(line for line in lines[1:] if line[0] == "合计")
    total = next(r for r in data["rows"] if r["group"] == [])
    assert int(total_line[3]) == total["trained"]
    assert total_line[lines[0].index("培训完成率(%)")] == f"{total['trained_completion_pct']:.2f}%"

    as_xlsx = await client.get(
        "/api/v1/reports/training-employment", headers=admin.headers, params=params | {"format": "xlsx"}
    )
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    values = list(sheet.values)
    assert values[0][0].startswith("培训就业情况") and list(values[1][:4]) == [
        "汇总层级",
        "项目",
        "项目名称",
        "培训人次",
    ]
    assert len(values) == len(data["rows"]) + 2
    assert next(v for v in values[2:] if v[0] == "合计")[3] == total["trained"]


async def test_institutions_see_only_their_own_part(client, actors, city):
    trainer = await actors.agency("training")
    evaluator = await actors.agency("evaluation")
    # The seeded trainings belong to other institutions: this one has none.
    own = (
        await client.get(
            "/api/v1/reports/training-employment", headers=trainer.headers, params=PERIOD | {"group_by": "institution"}
        )
    ).json()
    assert [(r["group"], r["trained"]) for r in own["rows"]] == [([], 0)]
    assert (
        await client.get("/api/v1/reports/training-employment", headers=evaluator.headers, params=PERIOD)
    ).status_code == 403
    assert (await client.get("/api/v1/reports/subsidies", headers=evaluator.headers, params=PERIOD)).status_code == 403
    mine = (await client.get("/api/v1/reports/certificates", headers=evaluator.headers, params=PERIOD)).json()
    assert sum(r["certificates"] for r in mine["rows"] if r["group"] == []) == 0
    employer = await actors.employer()
    assert (
        await client.get("/api/v1/reports/certificates", headers=employer.headers, params=PERIOD)
    ).status_code == 403


async def test_certificates_by_kind_and_level_with_new_senior_workers(client, actors, city):
    admin = await actors.admin()
    await client.put(
        "/api/v1/bureau/targets", headers=admin.headers, json={"year": 2026, "metric": "senior", "target": 4}
    )
    report = (
        await client.get(
            "/api/v1/reports/certificates", headers=admin.headers, params=PERIOD | {"group_by": "kind,level"}
        )
    ).json()
    issued = [c for c in city.certificates if c["status"] == "verified" and c["issued_on"].year == 2026]
    for row in report["rows"]:
        selected = [c for c in issued if all(c[d] == row[d] for d in row["group"])]
        assert row["certificates"] == len(selected), row
        assert row["senior"] == sum(1 for c in selected if c["kind"] == "skill_level" and c["level"] <= 3)
    total = next(r for r in report["rows"] if r["group"] == [])
    assert total["senior_target"] == 4 and total["senior_completion_pct"] == round(total["senior"] * 100 / 4, 2)
    assert total["certified_target"] is None
