"""Rules kept as data, with their sources: the service categories, which certificates count
for each, and which health-check report covers which category.

The tables live in `data/categories.json` and `data/health_checks.json`; this module is their
only reader, and every other module asks it (the category list, the health tiers' order, the
credential rule), so changing a rule is one edit to a data file.

A certificate requirement is an occupation, optionally narrowed to one 工种 (work type) of it.
In the index it is a *credential key*: the occupation code, or `code:工种`. A certificate
meets `code:工种` when it names that 工种, or when its level is above every level the 工种
has (家政服务员 二级 is not split by 工种, so it serves all of them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def _read(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


_CATEGORIES = _read("categories.json")
_HEALTH = _read("health_checks.json")

# Categories -----------------------------------------------------------------------------

CATEGORY_TABLE: tuple[dict, ...] = tuple(_CATEGORIES["categories"])
CATEGORY_CODES: tuple[str, ...] = tuple(c["code"] for c in CATEGORY_TABLE)
CATEGORY_BY_CODE: dict[str, dict] = {c["code"]: c for c in CATEGORY_TABLE}
CATEGORY_NAMES: dict[str, str] = {c["code"]: c["name_zh"] for c in CATEGORY_TABLE}  # 母婴
CATEGORY_LABELS: dict[str, str] = {c["code"]: c["label_zh"] for c in CATEGORY_TABLE}  # 母婴护理（月嫂、育婴）
CATEGORY_BY_NAME: dict[str, str] = {c["name_zh"]: c["code"] for c in CATEGORY_TABLE}


def credential_key(occupation: str, work_type: str | None = None) -> str:
    return f"{occupation}:{work_type}" if work_type else occupation


def split_key(key: str) -> tuple[str, str | None]:
    occupation, _, work_type = key.partition(":")
    return occupation, work_type or None


def category_credentials(category: str) -> tuple[str, ...]:
    """Credential keys that count for a category, its usual certificate first."""
    return tuple(credential_key(c["occupation"], c.get("work_type")) for c in CATEGORY_BY_CODE[category]["credentials"])


def credential_keys(occupations: dict[str, dict]) -> list[str]:
    """Every credential key of the given occupations: each occupation, then each of its 工种."""
    keys = []
    for code, occupation in occupations.items():
        keys.append(code)
        keys.extend(credential_key(code, w["name_zh"]) for w in occupation.get("work_types") or [])
    return keys


def work_type_max_level(occupations: dict[str, dict], key: str) -> int | None:
    """The highest level a key's 工种 goes to (3 for 母婴护理员), None for a whole occupation."""
    occupation, work_type = split_key(key)
    for w in occupations.get(occupation, {}).get("work_types") or []:
        if w["name_zh"] == work_type:
            return int(w["max_level"])
    return None


def meets(key: str, occupation: str, work_type: str | None, level: int, top_of_work_type: int | None) -> bool:
    """Whether a certificate (occupation, 工种, level) counts as credential `key`.

    `top_of_work_type` is work_type_max_level(key); the SQL of the candidate index's bulk
    load states the same rule (service/matching/facts.py, `_credential_condition`).
    """
    wanted_occupation, wanted_work_type = split_key(key)
    if occupation != wanted_occupation:
        return False
    if wanted_work_type is None:
        return True
    return work_type == wanted_work_type or (top_of_work_type is not None and level < top_of_work_type)


def best_levels(occupations: dict[str, dict], certificates: Iterable[tuple[str, str | None, int]]) -> dict[str, int]:
    """Credential key → best (lowest-numbered) level among a worker's certificates."""
    best: dict[str, int] = {}
    tops = {key: work_type_max_level(occupations, key) for key in credential_keys(occupations)}
    for occupation, work_type, level in certificates:
        for key, top in tops.items():
            if meets(key, occupation, work_type, level, top) and level < best.get(key, 99):
                best[key] = level
    return best


def relative_level(level: int, levels: Iterable[int]) -> float:
    """A level's place in its own occupation's range: its top level 1.0, each step down one
    share less (育婴员 三级, its top, is 1.0; 家政服务员 三级 of 五级…二级 is 0.75)."""
    levels = list(levels)
    lowest, highest = max(levels), min(levels)
    return (lowest - level + 1) / (lowest - highest + 1)


def credential_name(occupations: dict[str, dict], key: str, level: int | None = None) -> str:
    """家政服务员（母婴护理员）三级/高级工"""
    occupation, work_type = split_key(key)
    found = occupations.get(occupation, {})
    name = found.get("name_zh", occupation) + (f"（{work_type}）" if work_type else "")
    if level is not None:
        name += " " + (found.get("level_names") or {}).get(str(level), f"{level} 级")
    return name


# Health checks --------------------------------------------------------------------------

HEALTH_CHECK_VALID_DAYS: int = int(_HEALTH["valid_days"])
HEALTH_TIER_TABLE: tuple[dict, ...] = tuple(_HEALTH["tiers"])
# Laxest first; the order is only used to show a worker's strictest report first.
HEALTH_TIER_CODES: tuple[str, ...] = tuple(t["code"] for t in HEALTH_TIER_TABLE)
HEALTH_TIER_NAMES: dict[str, str] = {t["code"]: t["name_zh"] for t in HEALTH_TIER_TABLE}
HEALTH_TIER_RANK: dict[str, int] = {code: i for i, code in enumerate(HEALTH_TIER_CODES)}


def tiers_covering(category: str) -> tuple[str, ...]:
    """The health-check tiers whose report covers in-home work of a category."""
    return tuple(t["code"] for t in HEALTH_TIER_TABLE if category in t["covers"])


def _check_tables() -> None:
    for tier in HEALTH_TIER_TABLE:
        if unknown := set(tier["covers"]) - set(CATEGORY_CODES):
            raise ValueError(f"health_checks.json: tier {tier['code']} covers unknown categories {unknown}")
    for code in CATEGORY_CODES:
        if not tiers_covering(code):
            raise ValueError(f"health_checks.json: no tier covers category {code}")
        if not CATEGORY_BY_CODE[code]["credentials"]:
            raise ValueError(f"categories.json: category {code} names no credentials")


_check_tables()
