from __future__ import annotations

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import CacheControlHeader
from litestar.params import FromQuery

from service.taxonomy.schemas import DistrictOut, LanguageOut, OccupationOut, SkillOut

_CACHE = CacheControlHeader(public=True, max_age=3600)


def _taxonomy(request: Request):
    return request.app.state.taxonomy


class TaxonomyController(Controller):
    path = "/api/v1/taxonomy"
    tags = ["taxonomy"]
    opt = {"public": True}

    @get("/skills", operation_id="listSkills", summary="技能分类及别名 (skills with aliases)", cache_control=_CACHE)
    async def skills(self, request: Request, category: FromQuery[str | None] = None) -> list[SkillOut]:
        rows = _taxonomy(request).skills.values()
        return [
            msgspec.convert(r, SkillOut, strict=False) for r in rows if category is None or r["category"] == category
        ]

    @get(
        "/languages",
        operation_id="listLanguages",
        summary="语言及方言代码与别名 (languages and dialects with aliases)",
        cache_control=_CACHE,
    )
    async def languages(self, request: Request) -> list[LanguageOut]:
        return [msgspec.convert(r, LanguageOut, strict=False) for r in _taxonomy(request).languages.values()]

    @get(
        "/occupations",
        operation_id="listOccupations",
        summary="职业及等级 (occupations and levels)",
        cache_control=_CACHE,
    )
    async def occupations(self, request: Request) -> list[OccupationOut]:
        return [msgspec.convert(r, OccupationOut, strict=False) for r in _taxonomy(request).occupations.values()]

    @get(
        "/districts",
        operation_id="listDistricts",
        summary="广东县级行政区划 (Guangdong districts)",
        cache_control=_CACHE,
    )
    async def districts(self, request: Request, city_code: FromQuery[str | None] = None) -> list[DistrictOut]:
        rows = _taxonomy(request).districts.values()
        return [
            msgspec.convert(r, DistrictOut, strict=False)
            for r in rows
            if city_code is None or r["city_code"] == city_code
        ]
