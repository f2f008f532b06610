"""Reference data held in memory for validation and free-text understanding."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from service.database import jsonb
from service.taxonomy.tables import District, Language, Occupation, Skill
from service.taxonomy.text import normalize

DATA = Path(__file__).resolve().parent / "data"


def umbrella_words() -> list[dict]:
    """Umbrella words (保姆, 月嫂, 护工…) and the duties they usually mean, as shipped."""
    return json.loads((DATA / "skills.json").read_text(encoding="utf-8")).get("umbrellas", [])


@dataclass(frozen=True)
class Taxonomy:
    skills: dict[str, dict]
    occupations: dict[str, dict]
    districts: dict[str, dict]
    cities: dict[str, str] = field(default_factory=dict)
    languages: dict[str, dict] = field(default_factory=dict)
    umbrellas: list[dict] = field(default_factory=list)
    _language_aliases: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for code, language in self.languages.items():
            for alias in [code, language["name_zh"], language["name_en"], *language["aliases"]]:
                self._language_aliases.setdefault(normalize(alias).strip(), code)

    def language_code(self, value: str) -> str | None:
        """The code of a language given by code or any alias (粤语, 廣東話, Cantonese…); None if unknown."""
        return self._language_aliases.get(normalize(value).strip())

    def language_codes(self, values: list[str], field_name: str = "languages") -> list[str]:
        """Codes for the given languages, in order and without repeats; an unknown one is a 422 naming the field."""
        from service.errors import InvalidField

        codes = []
        for value in values:
            code = self.language_code(value)
            if code is None:
                known = "、".join(language["name_zh"] for language in self.languages.values())
                raise InvalidField(field_name, f"未知语言 (unknown language): {value}；可选 (known): {known}")
            codes.append(code)
        return list(dict.fromkeys(codes))

    def language_refs(self, codes: list[str]) -> list[dict]:
        """[{code, name_zh, name_en}] for stored codes; a value kept from before codes shows as itself."""
        return [
            {
                "code": code,
                "name_zh": self.languages.get(code, {}).get("name_zh", code),
                "name_en": self.languages.get(code, {}).get("name_en", code),
            }
            for code in codes
        ]

    def language_name(self, code: str) -> str:
        return self.languages.get(code, {}).get("name_zh", code)

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
    languages = await Language.select().order_by(Language.id)
    return Taxonomy(
        skills={s["code"]: s for s in skills},
        occupations={o["code"]: o for o in occupations},
        districts={d["code"]: d for d in districts},
        cities={d["city_code"]: d["city_name_zh"] for d in districts},
        languages={language["code"]: language for language in languages},
        umbrellas=umbrella_words(),
    )
