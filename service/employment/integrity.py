"""The integrity rating (诚信评价): earned from verified facts and employment history,
explained component by component, and open to appeal through complaints.

    identity            实名认证            10  ID number validated at registration
    certificate         职业技能等级        ≤15 best verified level: 五级 5 · 四级 8 · 三级 11 · 二级 13 · 一级 15
    training            培训结业             5  a verified, passed training
    health_check        有效体检            10  a verified health report valid today
    background_check    背景审查            10  a verified, passed background check
    reviews             雇主评价            ≤35 Bayesian average of employers' ratings, prior 4.0 of weight 3
    placements          完成服务            ≤15 1.5 per completed placement, up to 10
    no_shows            爽约               −10 each, halving every year
    complaints          投诉属实           −15 each (−30 serious), halving every year; an upheld appeal removes it

The score is clamped to 0-100; stars: ≥85 ★5, ≥70 ★4, ≥50 ★3, ≥30 ★2, else ★1.
Recomputed whenever an input changes (not on reads); every change is kept in the history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, cast

from piccolo.columns import Column

from service.employment.tables import Complaint, IntegrityHistory, IntegrityRating, Placement, Review
from service.registry.counting import counts, valid_on
from service.registry.domain import BLACKLIST_YEARS, GUANGDONG_TZ, add_years, local_date, today_local
from service.registry.tables import Certificate, Check, Training, Worker

ALGORITHM_VERSION = "integrity-1"
CERTIFICATE_POINTS = {5: 5, 4: 8, 3: 11, 2: 13, 1: 15}
REVIEW_PRIOR, REVIEW_PRIOR_WEIGHT, REVIEW_POINTS = 4.0, 3, 35.0
PLACEMENT_POINTS, PLACEMENT_CAP = 1.5, 10
NO_SHOW_PENALTY, COMPLAINT_PENALTY, SERIOUS_COMPLAINT_PENALTY = 10.0, 15.0, 30.0
HALF_LIFE_DAYS = 365
LABELS = {
    "identity": "实名认证",
    "certificate": "职业技能等级",
    "training": "培训结业",
    "health_check": "有效体检",
    "background_check": "背景审查",
    "reviews": "雇主评价",
    "placements": "完成服务",
    "no_shows": "爽约记录",
    "complaints": "投诉属实",
}


def stars_for(score: int) -> int:
    return 5 if score >= 85 else 4 if score >= 70 else 3 if score >= 50 else 2 if score >= 30 else 1


def fade(on: date, since: date) -> float:
    return 0.5 ** (max((on - since).days, 0) / HALF_LIFE_DAYS)


@dataclass
class IntegrityFacts:
    best_certificate_level: int | None = None
    trainings_passed: int = 0
    health_valid: bool = False
    background_passed: bool = False
    review_scores: list[float] = field(default_factory=list)
    completed_placements: int = 0
    no_show_dates: list[date] = field(default_factory=list)
    complaints: list[tuple[bool, date]] = field(default_factory=list)  # (serious, decided on), not overturned


def rate(facts: IntegrityFacts, on: date) -> dict:
    """Score, stars, each component's points and detail, and what would raise the score."""
    components: list[dict] = []

    def add(name: str, points: float, detail: str) -> None:
        components.append({"name": name, "label": LABELS[name], "points": round(points, 1), "detail": detail})

    add("identity", 10, "身份证号已校验 (ID number validated)")
    level = facts.best_certificate_level
    add(
        "certificate",
        CERTIFICATE_POINTS.get(level, 0) if level else 0,
        f"最高 {level} 级 (best level {level})" if level else "暂无已核验证书 (no verified certificate)",
    )
    add("training", 5 if facts.trainings_passed else 0, f"结业 {facts.trainings_passed} 次 (trainings passed)")
    add(
        "health_check",
        10 if facts.health_valid else 0,
        "有效 (valid)" if facts.health_valid else "无有效体检 (none valid)",
    )
    add(
        "background_check",
        10 if facts.background_passed else 0,
        "已通过 (passed)" if facts.background_passed else "未完成 (not done)",
    )
    n = len(facts.review_scores)
    bayes = (REVIEW_PRIOR_WEIGHT * REVIEW_PRIOR + sum(facts.review_scores)) / (REVIEW_PRIOR_WEIGHT + n)
    add("reviews", (bayes - 1) / 4 * REVIEW_POINTS, f"{n} 条评价，加权平均 {bayes:.2f} (reviews, weighted mean)")
    add(
        "placements",
        min(facts.completed_placements, PLACEMENT_CAP) * PLACEMENT_POINTS,
        f"完成 {facts.completed_placements} 单 (completed placements)",
    )
    no_show = sum(NO_SHOW_PENALTY * fade(on, d) for d in facts.no_show_dates)
    add("no_shows", -no_show, f"{len(facts.no_show_dates)} 次，随时间减轻 (fading with time)")
    complaint = sum(
        (SERIOUS_COMPLAINT_PENALTY if serious else COMPLAINT_PENALTY) * fade(on, d) for serious, d in facts.complaints
    )
    add("complaints", -complaint, f"{len(facts.complaints)} 件属实，随时间减轻 (substantiated, fading with time)")

    score = int(round(min(100.0, max(0.0, sum(c["points"] for c in components)))))
    advice = []
    if not level or level > 3:
        advice.append("考取更高等级的职业技能等级证书 (earn a higher skill-level certificate)")
    if not facts.trainings_passed:
        advice.append("参加南粤家政培训并结业，+5 (complete a 南粤家政 training)")
    if not facts.health_valid:
        advice.append("提交一年内的体检报告，+10 (submit a health report from the past year)")
    if not facts.background_passed:
        advice.append("完成背景审查，+10 (complete a background check)")
    if n < 5:
        advice.append("完成更多服务并获得雇主评价 (complete placements and collect reviews)")
    if facts.complaints:
        advice.append("对不实投诉可提出申诉 (appeal a complaint you believe is wrong)")
    return {
        "score": score,
        "stars": stars_for(score),
        "components": components,
        "advice": advice,
        "algorithm_version": ALGORITHM_VERSION,
    }


async def gather(worker_id: int, on: date) -> IntegrityFacts:
    facts = IntegrityFacts()
    best = (
        await Certificate.select(Certificate.level)
        .where((Certificate.worker == worker_id) & counts(Certificate) & Certificate.level.is_not_null())
        .order_by(Certificate.level)
        .first()
    )
    facts.best_certificate_level = best["level"] if best else None
    facts.trainings_passed = await Training.count().where((Training.worker == worker_id) & counts(Training))
    facts.health_valid = await Check.exists().where(
        (Check.worker == worker_id) & (Check.kind == "health") & counts(Check) & valid_on(Check, on)
    )
    facts.background_passed = await Check.exists().where(
        (Check.worker == worker_id) & (Check.kind == "background") & counts(Check) & valid_on(Check, on)
    )
    reviews = await Review.select(Review.overall).where(
        (Review.placement.worker == worker_id) & (Review.author_role == "employer")
    )
    facts.review_scores = [r["overall"] for r in reviews]
    placements = await Placement.select(Placement.status, Placement.ended_at).where(Placement.worker == worker_id)
    facts.completed_placements = sum(p["status"] == "completed" for p in placements)
    facts.no_show_dates = [local_date(p["ended_at"]) for p in placements if p["status"] == "no_show" and p["ended_at"]]
    complaints = await Complaint.select(Complaint.serious, Complaint.decided_at).where(
        (Complaint.worker == worker_id) & (Complaint.status == "substantiated")
    )
    facts.complaints = [(c["serious"], local_date(c["decided_at"])) for c in complaints]
    return facts


async def recompute(worker_id: int, reason: str) -> dict:
    """Rate the worker again and keep the result, its history and her row's summary.
    Call inside the transaction that changed an input."""
    on = today_local()
    rating = rate(await gather(worker_id, on), on)
    previous = (
        await IntegrityRating.select(IntegrityRating.id, IntegrityRating.score)
        .where(IntegrityRating.worker == worker_id)
        .first()
    )
    values = {
        IntegrityRating.score: rating["score"],
        IntegrityRating.stars: rating["stars"],
        IntegrityRating.components: json.dumps(rating["components"], ensure_ascii=False),
        IntegrityRating.advice: json.dumps(rating["advice"], ensure_ascii=False),
        IntegrityRating.algorithm_version: ALGORITHM_VERSION,
        IntegrityRating.computed_at: datetime.now(timezone.utc),
    }
    if previous is None:
        await IntegrityRating.insert(IntegrityRating(worker=worker_id, **{c._meta.name: v for c, v in values.items()}))
    else:
        await IntegrityRating.update(cast("dict[Column | str, Any]", values)).where(
            IntegrityRating.id == previous["id"]
        )
    if previous is None or previous["score"] != rating["score"]:
        await IntegrityHistory.insert(
            IntegrityHistory(
                worker=worker_id,
                score=rating["score"],
                stars=rating["stars"],
                previous_score=previous["score"] if previous else None,
                reason=reason[:64],
                algorithm_version=ALGORITHM_VERSION,
            )
        )
        await Worker.update({Worker.integrity_score: rating["score"], Worker.integrity_stars: rating["stars"]}).where(
            Worker.id == worker_id
        )
    return rating


async def serious_complaint_blacklist(worker_id: int) -> date | None:
    """A substantiated serious complaint (abuse, theft, violence) blacklists for three years."""
    rows = await Complaint.select(Complaint.decided_at).where(
        (Complaint.worker == worker_id) & (Complaint.status == "substantiated") & Complaint.serious.eq(True)
    )
    ends = [add_years(local_date(r["decided_at"]), BLACKLIST_YEARS) for r in rows if r["decided_at"]]
    return max(ends, default=None)


async def refresh_aged(limit: int = 500) -> int:
    """Re-rate workers whose rating changes with time alone (fading penalties, checks that
    expired) and was computed before today; run periodically."""
    today = today_local()
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=GUANGDONG_TZ)
    rows = await IntegrityRating.raw(
        """
        SELECT r.worker FROM integrity_rating r
        WHERE r.computed_at < {} AND (
            EXISTS (SELECT 1 FROM complaint c WHERE c.worker = r.worker AND c.status = 'substantiated')
            OR EXISTS (SELECT 1 FROM placement p WHERE p.worker = r.worker AND p.status = 'no_show')
            OR EXISTS (SELECT 1 FROM worker_check h WHERE h.worker = r.worker AND credential_counts(h.status, h.result)
                       AND NOT credential_valid_on(h.valid_until, {})
                       AND credential_valid_on(h.valid_until, (r.computed_at AT TIME ZONE 'Asia/Shanghai')::date)))
        ORDER BY r.computed_at LIMIT {}
        """,
        midnight,
        today,
        limit,
    )
    for row in rows:
        async with IntegrityRating._meta.db.transaction():
            await recompute(row["worker"], "aged")
    return len(rows)
