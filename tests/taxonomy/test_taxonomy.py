"""Reference data anyone may read."""


async def test_skills_occupations_and_districts_are_public(client):
    skills = (await client.get("/api/v1/taxonomy/skills")).json()
    elderly = next(s for s in skills if "照顾老人" in s["aliases"])
    assert "老人护理" in elderly["aliases"] and elderly["category"] == "elderly"
    assert {s["category"] for s in skills} == {"maternity", "household", "elderly", "medical"}

    occupations = {o["code"]: o for o in (await client.get("/api/v1/taxonomy/occupations")).json()}
    assert occupations["4-10-01-06"]["levels"] == [5, 4, 3, 2]
    assert {w["name_zh"] for w in occupations["4-10-01-06"]["work_types"]} == {"母婴护理员", "家务服务员", "家庭照护员"}
    assert occupations["4-10-01-05"]["levels"] == [5, 4, 3, 2, 1]

    districts = (await client.get("/api/v1/taxonomy/districts")).json()
    assert len({d["city_code"] for d in districts}) == 21
    qingyuan = {
        d["code"]: d for d in (await client.get("/api/v1/taxonomy/districts", params={"city_code": "441800"})).json()
    }
    assert qingyuan["441802"]["name_zh"] == "清城区" and qingyuan["441802"]["lat"] == 23.70
    assert len(qingyuan) == 8
