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
from service.registry.domain import TERM_DAYS, WAGE_UNIT_LABELS, WAGE_UNITS, units_per_month
from service.taxonomy.rules import (
    CATEGORY_NAMES,
    HEALTH_TIER_CODES,
    category_credentials,
    credential_key,
    credential_name,
    relative_level,
    split_key,
    tiers_covering,
)

ALGORITHM_VERSION = "2026.11-2"

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
    required_work_type: str | None = None  # 工种, e.g. 母婴护理员; None: any of the occupation
    required_min_level: int | None = None
    # 月嫂: the expected due date (预产期) window and how many 单 (26 days each) are booked.
    due_date_from: date | None = None
    due_date_to: date | None = None
    terms: int = 1
    reopened_from: date | None = None
    languages: list[str] = field(default_factory=list)
    background_required: bool = False
    today: date = field(default_factory=date.today)

    def period(self) -> tuple[date, date | None]:
        """The days the worker must be free: the request's dates, widened for a 月嫂 job to
        the whole due-date window plus the booked 单 after the latest due date. A request
        reopened to replace someone needs the replacement only from the reopening day."""
        first, last = self.start_date, self.end_date
        if self.due_date_from is not None and self.due_date_to is not None:
            booked_until = self.due_date_to + timedelta(days=TERM_DAYS * self.terms - 1)
            first = min(first, self.due_date_from)
            last = max(last or booked_until, booked_until)
        if self.reopened_from is not None:
            first = max(first, self.reopened_from)
        return first, last

    def required_credential(self) -> str | None:
        if not self.required_occupation:
            return None
        return credential_key(self.required_occupation, self.required_work_type)


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
    # The quantised score of the last item when the page is full (rows rank below it); None
    # when the page lists every candidate from its offset on.
    lowest: int | None = None


def haversine_km(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 6371.0 * 2 * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def _any_bit(masks: np.ndarray, query_mask: np.ndarray) -> np.ndarray:
    return (masks & query_mask).any(axis=1)


def _rows_with_any_bit(column: np.ndarray, rows: np.ndarray, query_mask: np.ndarray) -> np.ndarray:
    """`_any_bit(column[rows], query_mask)`, reading only the words the query uses."""
    found = np.zeros(rows.size, dtype=bool)
    for word in np.flatnonzero(query_mask).tolist():
        found |= (column[rows, word] & query_mask[word]) != 0
    return found


def area_codes(index: CandidateIndex, q: MatchQuery) -> list[str]:
    return codes_of_area(index, q.scope, q.district_code)


def codes_of_area(index: CandidateIndex, scope: str, district_code: str) -> list[str]:
    """The districts a request's area lists: its own, or every district of its city."""
    if scope == "city":
        city = index.taxonomy.districts[district_code]["city_code"]
        return [c for c, d in index.taxonomy.districts.items() if d["city_code"] == city]
    return [district_code]


def filter_candidates(index: CandidateIndex, q: MatchQuery) -> tuple[np.ndarray, list[dict], np.ndarray]:
    """Rows passing every hard filter, how many each filter removed, and which serve the district."""
    col = index.col
    excluded: list[dict] = []
    district_mask = index.districts.mask([q.district_code])

    today = day_number(q.today)
    category_bit = np.uint8(1 << CATEGORIES.index(q.category))

    rows: np.ndarray  # bound below, before the first step

    def step(name: str, keep: np.ndarray) -> None:
        nonlocal rows
        excluded.append({"filter": name, "removed": int(rows.size - np.count_nonzero(keep))})
        rows = rows[keep]

    if q.scope == "province":
        # Every row is in the area: the first two filters run over whole columns (no
        # gathering by row number), and only the rows passing both are listed.
        status = col("active") & col("consented") & (col("blacklisted") <= today)
        passing = int(np.count_nonzero(status))
        status &= (col("categories") & category_bit) != 0
        rows = np.flatnonzero(status)
        excluded.append({"filter": "area", "removed": 0})
        excluded.append({"filter": "status", "removed": index.n - passing})
        excluded.append({"filter": "category", "removed": passing - rows.size})
    else:
        codes = area_codes(index, q)
        # The lists are supersets (they may hold stale entries); the columns decide.
        serving = index.rows_serving(codes)
        if not index.serving_lists_exact(codes):
            serving = serving[_rows_with_any_bit(col("districts"), serving, index.districts.mask(codes))]
        near = None
        if q.lat is not None and q.lon is not None and q.radius_km:
            inside, near = index.rows_near(q.lat, q.lon, q.radius_km)
            lat, lon = col("lat")[near], col("lon")[near]
            dlat = q.radius_km / 111.0
            dlon = q.radius_km / (111.0 * max(0.2, np.cos(np.radians(q.lat))))
            box = (np.abs(lat - q.lat) <= dlat) & (np.abs(lon - q.lon) <= dlon)
            near = near[box]
            near = np.concatenate([inside, near[haversine_km(q.lat, q.lon, lat[box], lon[box]) <= q.radius_km]])
        if near is None and serving.size and (serving.size == 1 or bool((np.diff(serving) > 0).all())):
            rows = serving  # one district's list, already in row order, each row once
        else:
            # Each row once, in row order, without sorting: mark and collect.
            marked = np.zeros(index.n, dtype=bool)
            marked[serving] = True
            if near is not None:
                marked[near] = True
            rows = np.flatnonzero(marked)
        excluded.append({"filter": "area", "removed": index.n - rows.size})
    for name, condition in hard_filters(index, q):
        if q.scope == "province" and name in ("status", "category"):
            continue  # already applied over whole columns above
        step(name, condition(rows))
    serves_district = _rows_with_any_bit(col("districts"), rows, district_mask)
    for entry in excluded:
        entry["label"] = FILTER_LABELS[entry["filter"]]
        if entry["filter"] == "certificate":
            entry["label"] = f"无所需证书 (lacks the required certificate): {required_text(index, q)}"
    return rows, excluded, serves_district


def hard_filters(index: CandidateIndex, q: MatchQuery) -> list[tuple[str, Callable[[np.ndarray], np.ndarray]]]:
    """The hard filters after the area, in order: each maps rows to whether they pass."""
    col = index.col
    first_day, last_day = q.period()
    today, start = day_number(q.today), day_number(first_day)
    end = day_number(last_day) if last_day else start + 3650
    filters: list[tuple[str, Callable[[np.ndarray], np.ndarray]]] = [
        ("status", lambda r: col("active")[r] & col("consented")[r] & (col("blacklisted")[r] <= today)),
        ("category", lambda r: (col("categories")[r] & np.uint8(1 << CATEGORIES.index(q.category))) != 0),
    ]
    if q.live_in:
        filters.append(("live_in", lambda r: col("live_in")[r]))
    if (required := q.required_credential()) is not None:
        column = index.occupation_column.get(required)

        def certified(r: np.ndarray) -> np.ndarray:
            if column is None:
                return np.zeros(r.size, dtype=bool)
            levels = col("certificates")[r, column]
            return (levels > 0) & (levels <= (q.required_min_level or 5))

        filters.append(("certificate", certified))
    covering = [HEALTH_TIER_CODES.index(t) for t in tiers_covering(q.category)]

    def health_checked(r: np.ndarray) -> np.ndarray:
        # A valid report of any covering tier: the latest of them reaches the start.
        health = col("health")
        keep = np.zeros(r.size, dtype=bool)
        for tier in covering:
            keep |= health[r, tier] >= start
        return keep

    filters.append(("health_check", health_checked))
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


def serving_district(index: CandidateIndex, q: MatchQuery, rows: np.ndarray) -> np.ndarray:
    """Which of `rows` serve the request's own district."""
    return _rows_with_any_bit(index.col("districts"), rows, index.districts.mask([q.district_code]))


def in_area(index: CandidateIndex, q: MatchQuery, row: int) -> bool:
    """Whether one row passes the area filter (as `filter_candidates` decides it)."""
    if q.scope == "province":
        return True
    col = index.col
    if _any_bit(col("districts")[[row]], index.districts.mask(area_codes(index, q)))[0]:
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
        offered = np.zeros(rows.size, dtype=np.int64)
        skills = col("skills")
        for word in np.flatnonzero(wanted).tolist():
            offered += np.bitwise_count(skills[rows, word] & wanted[word])
        values["skills"] = offered / wanted_count
    else:
        values["skills"] = np.ones(rows.size)

    # Each certificate that counts is worth its place in its own occupation's level range;
    # the best one scores. With a required certificate, that one decides.
    keys = [k for k in counted_credentials(q) if k in index.occupation_column]
    values["certificate"] = np.zeros(rows.size)
    values["_certificate_key"] = np.full(rows.size, -1, dtype=np.int16)
    for position, key in enumerate(keys):
        levels = col("certificates")[rows, index.occupation_column[key]].astype(np.int64)
        worth = _level_worth(index, key)[np.clip(levels, 0, 5)]
        better = worth > values["certificate"]
        values["certificate"] = np.where(better, worth, values["certificate"])
        values["_certificate_key"][better] = position
    values["_certificate_keys"] = np.array(keys, dtype=object)

    integrity = col("integrity")[rows]
    values["integrity"] = np.where(np.isnan(integrity), NEUTRAL_INTEGRITY, integrity)

    # The worker's expected wage in the request's unit, through the monthly figure.
    hours_per_month = (q.hours_per_week or (60 if q.live_in else 40)) * 52 / 12
    per_month = {unit: units_per_month(unit, hours_per_month) for unit in WAGE_UNITS}
    to_month = np.where(
        col("wage_hourly")[rows], per_month["hour"], np.where(col("wage_term")[rows], per_month["term"], 1.0)
    )
    expected = col("wage_min")[rows].astype(np.float64) * to_month / per_month[q.budget_unit]
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


def counted_credentials(q: MatchQuery) -> tuple[str, ...]:
    """The credential keys the certificate component reads for a request."""
    required = q.required_credential()
    return (required,) if required is not None else category_credentials(q.category)


def _level_worth(index: CandidateIndex, key: str) -> np.ndarray:
    """Level (0 = none, 1…5) → its worth in [0, 1] within the key's occupation."""
    levels = index.taxonomy.occupations.get(split_key(key)[0], {}).get("levels") or [5, 4, 3, 2, 1]
    worth = np.zeros(6)
    for level in range(1, 6):
        # A level above the occupation's top (never issued) would be worth the top.
        worth[level] = relative_level(max(level, min(levels)), levels) if level <= max(levels) else 0.0
    return worth


def required_text(index: CandidateIndex, q: MatchQuery) -> str:
    """家政服务员（母婴护理员）四级/中级工或以上"""
    required = q.required_credential()
    if required is None:
        return ""
    return credential_name(index.taxonomy.occupations, required, q.required_min_level or 5) + "或以上 (or higher)"


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
    lowest = int(np.rint(values["_score"][chosen[-1]] * SCORE_SCALE)) if chosen.size and len(items) == limit else None
    return Ranking(total=int(rows.size), items=items, excluded=excluded, lowest=lowest)


def _explain(index: CandidateIndex, q: MatchQuery, row: int, position: int, values: dict[str, np.ndarray]) -> Match:
    components = []
    certificate_detail, certificate_unmet = _certificate_explained(index, q, row, position, values)
    for name, weight in WEIGHTS.items():
        value = float(values[name][position])
        component = {
            "name": name,
            "label": COMPONENT_NAMES[name],
            "value": round(value, 4),
            "weight": weight,
            "contribution": round(weight * value, 4),
        }
        if name == "certificate":
            component["detail"] = certificate_detail
        components.append(component)
    unmet: list[str] = [certificate_unmet] if certificate_unmet else []
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
        unit = WAGE_UNIT_LABELS[q.budget_unit]
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


def _certificate_explained(
    index: CandidateIndex, q: MatchQuery, row: int, position: int, values: dict
) -> tuple[str, str | None]:
    """Which certificate met the requirement or scored, and what is missing (or None)."""
    occupations = index.taxonomy.occupations
    keys = values["_certificate_keys"]
    chosen = int(values["_certificate_key"][position])
    if chosen >= 0:
        key = keys[chosen]
        level = int(index.col("certificates")[row, index.occupation_column[key]])
        held = credential_name(occupations, key, level)
        if q.required_credential() is not None:
            return f"满足所需证书 (meets the required certificate {required_text(index, q)}): {held}", None
        return f"计分证书 (the certificate that counts): {held}", None
    wanted = "、".join(credential_name(occupations, k) for k in category_credentials(q.category))
    return (
        "无计分证书 (no certificate that counts)",
        f"缺少{CATEGORY_NAMES.get(q.category, q.category)}类认可的证书 (no certificate that counts for this category): {wanted}",
    )
