"""Reference data held in memory for validation and free-text understanding."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.database import jsonb
from service.taxonomy.tables import District, Occupation, Skill


@dataclass(frozen=True)
class Taxonomy:
    skills: dict[str, dict]
    occupations: dict[str, dict]
    districts: dict[str, dict]
    cities: dict[str, str] = field(default_factory=dict)

    def unknown_skills(self, codes: list[str]) -> list[str]:
        return [c for c in codes if c not in self.skills]

    def unknown_districts(self, codes: list[str]) -> list[str]:
        return [c for c in codes if c not in self.districts]

    def district_name(self, code: str) -> str:
        district = self.districts.get(code)
        return district["name_zh"] if district else code


async def load_taxonomy() -> Taxonomy:
    skills = await Skill.select().order_by(Skill.code)
    occupations = [
        {**o, "level_names": jsonb(o["level_names"]), "work_types": jsonb(o["work_types"])}
        for o in await Occupation.select().order_by(Occupation.code)
    ]
    districts = await District.select().order_by(District.code)
    return Taxonomy(
        skills={s["code"]: s for s in skills},
        occupations={o["code"]: o for o in occupations},
        districts={d["code"]: d for d in districts},
        cities={d["city_code"]: d["city_name_zh"] for d in districts},
    )
