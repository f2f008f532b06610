from __future__ import annotations

from service.schemas import Output


class SkillOut(Output, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    category: str
    aliases: list[str]


class LanguageOut(Output, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    aliases: list[str]


class WorkTypeOut(Output, kw_only=True):
    name_zh: str
    max_level: int


class OccupationOut(Output, kw_only=True):
    code: str
    name_zh: str
    levels: list[int]
    level_names: dict[str, str]
    work_types: list[WorkTypeOut]
    shortage: bool


class DistrictOut(Output, kw_only=True):
    code: str
    name_zh: str
    city_code: str
    city_name_zh: str
    lat: float
    lon: float
