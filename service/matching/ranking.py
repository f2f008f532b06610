"""Hard filters and the explainable score, over the candidate index's columns.

Protected attributes (ethnicity, religion, native place, zodiac, marital status) are not
in the index at all, so they cannot be inputs. Gender is used only to word the display
name (陈阿姨 / 陈师傅), never in a filter or the score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from service.matching.index import CATEGORIES, CandidateIndex, day_number
from service.registry.domain import REQUIRED_HEALTH_TIER, Category

ALGORITHM_VERSION = "2026.11-1"

WEIGHTS: dict[str, float] = {
    "skills": 0.30,
    "certificate": 0.15,
    "integrity": 0.15,
    "wage": 0.15,
    "experience": 0.10,
    "distance": 0.10,
    "language": 0.05,
}
COMPONENT_NAMES = {
    "skills": "技能匹配",
    "certificate": "职业技能等级",
    "integrity": "诚信评价",
    "wage": "薪资契合",
    "experience": "从业年限",
    "distance": "距离",
    "language": "语言",
}
NEUTRAL_INTEGRITY = 0.6  # until a worker has a rating of her own
EXPERIENCE_FULL_YEARS = 10
DEFAULT_RADIUS_KM = 30.0
RECENT_TRAINING_DAYS = 365
RECENT_TRAINING_BONUS = 0.05
SCORE_SCALE = 1_000_000

# Occupations whose certificates count towards each service category.
CATEGORY_OCCUPATIONS = {
    "maternity": ("4-10-01-06", "4-10-01-02"),
    "household": ("4-10-01-06",),
    "elderly": ("4-10-01-05", "4-10-01-06"),
    "medical": ("4-14-01-02", "4-10-01-05"),
}

FILTER_LABELS = {
    "area": "不在服务区域或范围内 (outside the area)",
    "status": "未授权、暂停或在限制期内 (no consent, paused or blacklisted)",
    "category": "不提供该类服务 (does not offer this category)",
    "live_in": "不接受住家 (does not live in)",
    "certificate": "无所需等级的证书 (lacks the required certificate level)",
    "health_check": "无有效的相应类别体检 (no valid health check of the needed tier)",
    "background_check": "无通过的背景审查 (no passed background check)",
    "schedule": "档期不合 (not available for these dates)",
}


@dataclass
class MatchQuery:
    category: str
    skills: list[str]
    district_code: str
    start_date: date
    end_date: date | None = None
    scope: str = "district"  # district | city | province
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    live_in: bool = False
    hours_per_week: int | None = None
    budget_min: int = 0
    budget_max: int = 0
    budget_unit: str = "month"
    required_occupation: str | None = None
    required_min_level: int | None = None
    languages: list[str] = field(default_factory=list)
    background_required: bool = False
    today: date = field(default_factory=date.today)


@dataclass
class Match:
    worker_id: int
    display_name: str
    score: float
    components: list[dict]
    unmet: list[str]
    bonuses: list[dict]
    distance_km: int | None


@dataclass
class Ranking:
    total: int
    items: list[Match]
    excluded: list[dict]
    algorithm_version: str = ALGORITHM_VERSION


def haversine_km(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 6371.0 * 2 * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def _any_bit(masks: np.ndarray, query_mask: np.ndarray) -> np.ndarray:
    return (masks & query_mask).any(axis=1)


def _area_codes(index: CandidateIndex, q: MatchQuery) -> list[str]:
    if q.scope == "city":
        city = index.taxonomy.districts[q.district_code]["city_code"]
        return [c for c, d in index.taxonomy.districts.items() if d["city_code"] == city]
    return [q.district_code]


def filter_candidates(index: CandidateIndex, q: MatchQuery) -> tuple[np.ndarray, list[dict], np.ndarray]:
    """Rows passing every hard filter, how many each filter removed, and which serve the district."""
    col = index.col
    excluded: list[dict] = []
    district_mask = index.districts.mask([q.district_code])

    if q.scope == "province":
        rows = np.arange(index.n, dtype=np.int64)
    else:
        codes = _area_codes(index, q)
        # The lists are supersets (they may hold stale entries); the columns decide.
        serving = index.rows_serving(codes)
        serving = serving[_any_bit(col("districts")[serving], index.districts.mask(codes))]
        if q.lat is not None and q.lon is not None and q.radius_km:
            near = index.rows_near(q.lat, q.lon, q.radius_km)
            lat, lon = col("lat")[near], col("lon")[near]
            dlat = q.radius_km / 111.0
            dlon = q.radius_km / (111.0 * max(0.2, np.cos(np.radians(q.lat))))
            box = (np.abs(lat - q.lat) <= dlat) & (np.abs(lon - q.lon) <= dlon)
            near = near[box]
            near = near[haversine_km(q.lat, q.lon, lat[box], lon[box]) <= q.radius_km]
            serving = np.concatenate([serving, near])
        # Each row once, in row order, without sorting: mark and collect.
        marked = np.zeros(index.n, dtype=bool)
        marked[serving] = True
        rows = np.flatnonzero(marked)
    excluded.append({"filter": "area", "removed": index.n - rows.size})

    def step(name: str, keep: np.ndarray) -> None:
        nonlocal rows
        excluded.append({"filter": name, "removed": int(rows.size - np.count_nonzero(keep))})
        rows = rows[keep]

    for name, condition in hard_filters(index, q):
        step(name, condition(rows))
    serves_district = _any_bit(col("districts")[rows], district_mask)
    for entry in excluded:
        entry["label"] = FILTER_LABELS[entry["filter"]]
    return rows, excluded, serves_district


def hard_filters(index: CandidateIndex, q: MatchQuery) -> list[tuple[str, Callable[[np.ndarray], np.ndarray]]]:
    """The hard filters after the area, in order: each maps rows to whether they pass."""
    col = index.col
    today, start = day_number(q.today), day_number(q.start_date)
    end = day_number(q.end_date) if q.end_date else start + 3650
    filters: list[tuple[str, Callable[[np.ndarray], np.ndarray]]] = [
        ("status", lambda r: col("active")[r] & col("consented")[r] & (col("blacklisted")[r] <= today)),
        ("category", lambda r: (col("categories")[r] & np.uint8(1 << CATEGORIES.index(q.category))) != 0),
    ]
    if q.live_in:
        filters.append(("live_in", lambda r: col("live_in")[r]))
    if q.required_occupation:
        column = index.occupation_column.get(q.required_occupation)

        def certified(r: np.ndarray) -> np.ndarray:
            if column is None:
                return np.zeros(r.size, dtype=bool)
            levels = col("certificates")[r, column]
            return (levels > 0) & (levels <= (q.required_min_level or 5))

        filters.append(("certificate", certified))
    tier = int(REQUIRED_HEALTH_TIER[Category(q.category)])
    filters.append(("health_check", lambda r: col("health")[r, tier - 1] >= start))
    if q.background_required:
        filters.append(("background_check", lambda r: col("background")[r] >= start))

    def free(r: np.ndarray) -> np.ndarray:
        schedule = col("available")[r] <= start
        busy = index.busy_rows(start, end)
        if busy.size:
            schedule &= ~np.isin(r, busy)
        return schedule

    filters.append(("schedule", free))
    return filters


def in_area(index: CandidateIndex, q: MatchQuery, row: int) -> bool:
    """Whether one row passes the area filter (as `filter_candidates` decides it)."""
    if q.scope == "province":
        return True
    col = index.col
    if _any_bit(col("districts")[[row]], index.districts.mask(_area_codes(index, q)))[0]:
        return True
    if q.lat is not None and q.lon is not None and q.radius_km:
        lat, lon = col("lat")[[row]], col("lon")[[row]]
        return bool(not np.isnan(lat[0]) and haversine_km(q.lat, q.lon, lat, lon)[0] <= q.radius_km)
    return False


def score_candidates(
    index: CandidateIndex, q: MatchQuery, rows: np.ndarray, serves_district: np.ndarray
) -> dict[str, np.ndarray]:
    """Each component's value in [0, 1] for every row, the bonus, and the total score."""
    col = index.col
    values: dict[str, np.ndarray] = {}

    wanted = index.skills.mask(q.skills)
    wanted_count = int(np.bitwise_count(wanted).sum())
    if wanted_count:
        values["skills"] = np.bitwise_count(col("skills")[rows] & wanted).sum(axis=1) / wanted_count
    else:
        values["skills"] = np.ones(rows.size)

    columns = [index.occupation_column[c] for c in CATEGORY_OCCUPATIONS[q.category] if c in index.occupation_column]
    if columns:
        levels = col("certificates")[rows[:, None], columns].astype(np.int16)
        best = np.where(levels > 0, levels, 99).min(axis=1)
        values["certificate"] = np.where(best < 99, (6 - best) / 5.0, 0.0)
    else:
        values["certificate"] = np.zeros(rows.size)

    integrity = col("integrity")[rows]
    values["integrity"] = np.where(np.isnan(integrity), NEUTRAL_INTEGRITY, integrity)

    hours_per_month = (q.hours_per_week or (60 if q.live_in else 40)) * 52 / 12
    expected = col("wage_min")[rows].astype(np.float64)
    hourly = col("wage_hourly")[rows]
    if q.budget_unit == "month":
        expected = np.where(hourly, expected * hours_per_month, expected)
    else:
        expected = np.where(hourly, expected, expected / hours_per_month)
    over = (expected - q.budget_max) / max(q.budget_max * 0.5, 1.0)
    values["wage"] = np.clip(1.0 - np.maximum(over, 0.0), 0.0, 1.0)
    values["_expected_wage"] = expected

    values["experience"] = np.clip(col("experience")[rows] / EXPERIENCE_FULL_YEARS, 0.0, 1.0)

    if q.lat is not None and q.lon is not None:
        # Whole kilometres: employers may move their request's location, and finer
        # distances would let them triangulate a worker's home.
        distance = np.round(haversine_km(q.lat, q.lon, col("lat")[rows], col("lon")[rows]))
        reach = q.radius_km or DEFAULT_RADIUS_KM
        values["distance"] = np.where(
            np.isnan(distance), np.where(serves_district, 1.0, 0.5), np.clip(1.0 - distance / reach, 0.0, 1.0)
        )
        values["_distance_km"] = distance
    else:
        values["distance"] = np.where(serves_district, 1.0, 0.5)

    spoken = index.languages.mask(q.languages)[0]
    wanted_languages = int(np.bitwise_count(spoken))
    if wanted_languages:
        values["language"] = np.bitwise_count(col("languages")[rows] & spoken) / wanted_languages
    else:
        values["language"] = np.ones(rows.size)

    recent = day_number(q.today - timedelta(days=RECENT_TRAINING_DAYS))
    values["_bonus"] = np.where((col("trained")[rows] >= recent) & ~col("placed")[rows], RECENT_TRAINING_BONUS, 0.0)
    score = values["_bonus"].copy()
    for name, weight in WEIGHTS.items():
        score += weight * values[name]
    values["_score"] = score
    return values


def top_positions(rows_ids: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """Positions of the best k, by score then worker id (deterministic for equal scores)."""
    if k <= 0 or rows_ids.size == 0:
        return np.empty(0, dtype=np.int64)
    quantised = np.rint(score * SCORE_SCALE).astype(np.int64)
    key = ((2 * SCORE_SCALE - quantised) << np.int64(32)) | rows_ids.astype(np.int64)
    if key.size > k:
        candidates = np.argpartition(key, k - 1)[:k]
    else:
        candidates = np.arange(key.size)
    return candidates[np.argsort(key[candidates], kind="stable")]


def rank(index: CandidateIndex, q: MatchQuery, *, limit: int, offset: int) -> Ranking:
    rows, excluded, serves_district = filter_candidates(index, q)
    if rows.size == 0:
        return Ranking(total=0, items=[], excluded=excluded)
    values = score_candidates(index, q, rows, serves_district)
    ids = index.col("id")[rows]
    chosen = top_positions(ids, values["_score"], offset + limit)[offset:]
    items = [_explain(index, q, int(rows[p]), p, values) for p in chosen.tolist()]
    return Ranking(total=int(rows.size), items=items, excluded=excluded)


def _explain(index: CandidateIndex, q: MatchQuery, row: int, position: int, values: dict[str, np.ndarray]) -> Match:
    components = []
    for name, weight in WEIGHTS.items():
        value = float(values[name][position])
        components.append(
            {
                "name": name,
                "label": COMPONENT_NAMES[name],
                "value": round(value, 4),
                "weight": weight,
                "contribution": round(weight * value, 4),
            }
        )
    unmet: list[str] = []
    skills_row = index.col("skills")[row]
    for code in q.skills:
        bit = index.skills.bits.get(code)
        if bit is None or not (int(skills_row[bit // 64]) >> (bit % 64)) & 1:
            unmet.append(f"技能未覆盖 (skill not offered): {index.taxonomy.skills.get(code, {}).get('name_zh', code)}")
    languages_row = int(index.col("languages")[row])
    for language in q.languages:
        bit = index.languages.bits.get(language)
        if bit is None or not (languages_row >> bit) & 1:
            unmet.append(f"不会所需语言 (does not speak): {index.taxonomy.language_name(language)}")
    expected = float(values["_expected_wage"][position])
    if expected > q.budget_max:
        unit = "元/月" if q.budget_unit == "month" else "元/小时"
        unmet.append(f"期望薪资高于预算 (expects more than the budget): {expected:.0f} > {q.budget_max} {unit}")
    bonuses = []
    if values["_bonus"][position] > 0:
        bonuses.append(
            {
                "name": "recently_trained",
                "label": "近一年完成培训、尚未上岗 (trained in the last year, not yet placed)",
                "value": RECENT_TRAINING_BONUS,
            }
        )
    distance = None
    if "_distance_km" in values and not np.isnan(values["_distance_km"][position]):
        distance = int(values["_distance_km"][position])
    female = bool(index.col("female")[row])
    return Match(
        worker_id=int(index.col("id")[row]),
        display_name=index.surname_of(row) + ("阿姨" if female else "师傅"),
        score=round(float(values["_score"][position]), 4),
        components=components,
        unmet=unmet,
        bonuses=bonuses,
        distance_km=distance,
    )
