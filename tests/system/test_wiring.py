"""Links from a lower domain to a higher one are made by `create_app`, not by imports."""

from __future__ import annotations

import pytest

from service.employment import integrity
from service.registry import services as registry


def test_create_app_links_the_registry_to_the_employment_domain(app):
    assert registry.CHANGE_HOOKS == [integrity.recompute]
    assert registry.BLACKLIST_CAUSES == [integrity.serious_complaint_blacklist]


async def test_the_registry_refuses_to_change_facts_unlinked(monkeypatch):
    monkeypatch.setattr(registry, "_linked", False)
    with pytest.raises(RuntimeError, match="create_app"):
        await registry.mark_changed(1, "test")
    with pytest.raises(RuntimeError, match="create_app"):
        await registry.recompute_blacklist(1)


def test_categories_and_health_tiers_have_one_owner():
    import json
    from pathlib import Path
    from typing import get_args, get_type_hints

    from service.matching.facts import _HEALTH_TIERS
    from service.matching.index import CATEGORIES, N_TIERS
    from service.registry.domain import HEALTH_TIER_CODES, Category, HealthTier
    from service.registry.schemas import CategoryName, CheckCreate
    from service.taxonomy import rules
    from service.web.common import CATEGORY_SHORT
    from service.web.household import CATEGORY_GUIDE
    from service.web.imports import CATEGORIES as IMPORT_CATEGORIES

    data = Path(rules.__file__).parent / "data"
    listed = tuple(c["code"] for c in json.loads((data / "categories.json").read_text("utf-8"))["categories"])
    tiers = tuple(t["code"] for t in json.loads((data / "health_checks.json").read_text("utf-8"))["tiers"])
    assert CATEGORIES == tuple(Category) == rules.CATEGORY_CODES == listed and CategoryName is Category
    assert tuple(CATEGORY_SHORT) == tuple(CATEGORY_GUIDE) == tuple(IMPORT_CATEGORIES.values()) == listed
    assert _HEALTH_TIERS == HEALTH_TIER_CODES == tuple(HealthTier) == tiers and N_TIERS == len(tiers)
    tier_type = next(arg for arg in get_args(get_type_hints(CheckCreate)["tier"]) if arg is not type(None))
    assert tier_type is HealthTier


def test_the_surname_rule_has_one_owner():
    from service.privacy import COMPOUND_SURNAMES, public_display_name, surname

    assert surname("欧阳丽华") == "欧阳" and surname("欧阳") == "欧" and surname("陈秀英") == "陈"
    assert public_display_name("司徒美玲", "female") == "司徒阿姨"
    assert all(len(compound) == 2 for compound in COMPOUND_SURNAMES)  # what surname_sql handles
