"""Links from a lower domain to a higher one are made by `create_app`, not by imports."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from piccolo.querystring import QueryString

from service.employment import integrity
from service.registry import services as registry
from tests.conftest import in_app


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
    assert all(len(compound) == 2 for compound in COMPOUND_SURNAMES)  # what name_head_sql serves


async def test_the_matchers_bulk_load_applies_the_same_surname_rule(app, client):
    """The bulk load reads only a name's head in SQL; `surname` decides on it."""
    from service.privacy import name_head, name_head_sql, surname

    names = ["欧阳丽华", "欧阳", "陈秀英", "陈", "司徒美", "李四", "", "上官婉儿"]
    first, second = name_head_sql("n")

    async def heads():
        return await app.state.engine.run_querystring(
            QueryString(f"SELECT n, {first} AS a, {second} AS b FROM unnest({{}}::text[]) AS n", names)
        )

    rows = in_app(client, heads)
    assert {r["n"]: surname(name_head(r["a"], r["b"])) for r in rows} == {n: surname(n) for n in names}


CREDENTIAL_RULE = re.compile(r"""(status|result)["'\]\s]*\s*(==|!=|=|<>)\s*["']?(verified|passed)""")


def test_when_a_credential_counts_is_written_once():
    """Code calls `credential_counts` / `credential_valid_on` (the database functions) or
    `service.registry.counting`; none restates the rule."""
    service = Path(__file__).resolve().parents[2] / "service"
    restated = [
        f"{path.relative_to(service)}:{n}"
        for path in service.rglob("*.py")
        if "piccolo_migrations" not in path.parts and path.parent.name not in ("reports",)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CREDENTIAL_RULE.search(line) and "verified_at" not in line
    ]
    assert restated == []


async def test_the_database_owns_when_a_credential_counts(app, client):
    async def ask():
        return await app.state.engine.run_querystring(
            QueryString(
                "SELECT credential_counts('verified', 'passed') AS a, credential_counts('verified', 'failed') AS b,"
                " credential_counts('pending', 'passed') AS c, credential_counts('verified') AS d,"
                " credential_counts('revoked') AS e, credential_valid_on({}, {}) AS f, credential_valid_on({}, {}) AS g,"
                " credential_valid_on(NULL, {}) AS h",
                date(2027, 1, 1),
                date(2027, 1, 2),
                date(2027, 1, 2),
                date(2027, 1, 1),
                date(2027, 1, 1),
            )
        )

    (row,) = in_app(client, ask)
    assert dict(row) == {"a": True, "b": False, "c": False, "d": True, "e": False, "f": False, "g": True, "h": True}
