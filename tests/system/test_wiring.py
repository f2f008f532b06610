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
    from typing import get_args, get_type_hints

    from service.matching.facts import _HEALTH_TIERS
    from service.matching.index import CATEGORIES
    from service.registry.domain import HEALTH_TIER_CODES, Category, HealthTier
    from service.registry.schemas import CategoryName, CheckCreate

    assert CATEGORIES == tuple(Category) and CategoryName is Category
    assert _HEALTH_TIERS == HEALTH_TIER_CODES == tuple(t.name.lower() for t in sorted(HealthTier))
    # The wire vocabulary of a check's tier is the same set (its order is HealthTier's).
    tier_literal = next(arg for arg in get_args(get_type_hints(CheckCreate)["tier"]) if arg is not type(None))
    assert set(get_args(tier_literal)) == set(HEALTH_TIER_CODES)


def test_the_surname_rule_has_one_owner():
    from service.privacy import COMPOUND_SURNAMES, public_display_name, surname

    assert surname("欧阳丽华") == "欧阳" and surname("欧阳") == "欧" and surname("陈秀英") == "陈"
    assert public_display_name("司徒美玲", "female") == "司徒阿姨"
    assert all(len(compound) == 2 for compound in COMPOUND_SURNAMES)  # what surname_sql handles
