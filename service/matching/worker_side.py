"""Matching from the worker's side: the open requests she fits, ranked by what matters to
her, and her interest in them, which the household sees flagged in its matches.

Invariant: she sees a request exactly when the household's ranking would list her for it
(the same hard filters, over the same row of the same candidate index: `failed_filters`
reads `ranking.hard_filters` for one row) and the household lets workers find it
(`worker_visibility = fitting`); a test compares the two both ways on many requests and
workers.

What she is told about a request is what she needs to decide: the kind of job, the
district (never the address or coordinates; distance in whole kilometres), dates, hours,
live-in, budget, duties, languages and credentials asked for. The household's name,
notes and free text stay with the household.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from service.accounts import standing
from service.accounts.guards import Principal
from service.errors import NotFound, found
from service.matching.explain import failed_filters
from service.matching.index import CandidateIndex, day_number
from service.matching.ranking import (
    FILTER_LABELS,
    MatchQuery,
    _any_bit,
    _explain,
    required_text,
    score_candidates,
)
from service.matching.tables import Interest, JobRequest
from service.privacy import public_display_name
from service.registry import services as registry
from service.registry.domain import today_local

WORKER_SIDE_VERSION = "worker-2026.11-1"
# Her side of the bargain: pay first, then how far, what the job asks of her, how soon it
# starts, and how strongly the household's ranking would put her forward.
WORKER_SIDE_WEIGHTS: dict[str, float] = {"wage": 0.35, "distance": 0.25, "skills": 0.2, "dates": 0.1, "standing": 0.1}
WORKER_SIDE_LABELS = {
    "wage": "薪资",
    "distance": "距离",
    "skills": "会做的活",
    "dates": "开工时间",
    "standing": "雇主端匹配度",
}
# A job starting this many days after she is free scores zero on dates.
DATES_HORIZON_DAYS = 60
# Hard filters she can do something about: shown as "almost fits" when asked for.
CREDENTIAL_FILTERS = ("certificate", "health_check", "background_check")
MAX_REQUESTS_READ = 1000
YIELD_EVERY = 16
NOT_FOUND = "需求不存在 (no such job request)"


# What the employment domain knows of each request's employer (`link` plugs it in): upheld
# complaints (a count) and whether the bureau suspended the employer. Without it, nothing.
EmployerRecords = Callable[[list[dict]], Awaitable[dict[int, dict]]]


async def _no_records(requests: list[dict]) -> dict[int, dict]:
    return {}


_employer_records: EmployerRecords = _no_records


def link(*, employer_records: EmployerRecords) -> None:
    """Plug in the employment domain's view of employers (`create_app` does)."""
    global _employer_records
    _employer_records = employer_records


@dataclass
class WorkerSideFit:
    request: dict
    failed: list[str]
    score: float
    components: list[dict]
    standing: float
    unmet: list[str]
    distance_km: int | None
    wage_note: str
    interested: bool = False
    lacks: list[str] = field(default_factory=list)
    verified_complaints: int = 0
    complaint_note: str | None = None


def assess(
    index: CandidateIndex, q: MatchQuery, row: int, request: dict, failed: list[str] | None = None
) -> WorkerSideFit:
    """Her hard-filter verdict and her side's score for one request, explained."""
    failed = failed_filters(index, q, row) if failed is None else failed
    serves_district = _any_bit(index.col("districts")[[row]], index.districts.mask([q.district_code]))
    rows = np.array([row], dtype=np.int64)
    values = score_candidates(index, q, rows, serves_district)
    household = _explain(index, q, row, 0, values)  # what the household would see, incl. unmet wishes

    col = index.col
    expected_min = float(values["_expected_wage"][0])
    wage_min = float(col("wage_min")[row])
    wage_max = float(col("wage_max")[row])
    expected_max = expected_min * (wage_max / wage_min) if wage_min > 0 else expected_min
    # 1 when the household's top budget reaches her top wish; 0 at half of her minimum or less.
    floor = expected_min * 0.5
    span = max(expected_max - floor, 1.0)
    wage_value = float(np.clip((q.budget_max - floor) / span, 0.0, 1.0))
    free_from = max(day_number(q.today), int(col("available")[row]))
    gap = day_number(q.period()[0]) - free_from
    dates_value = float(np.clip(1.0 - max(gap, 0) / DATES_HORIZON_DAYS, 0.0, 1.0))
    mine = {
        "wage": wage_value,
        "distance": float(values["distance"][0]),
        "skills": float(values["skills"][0]),
        "dates": dates_value,
        "standing": min(1.0, float(values["_score"][0])),
    }
    components: list[dict] = [
        {
            "name": name,
            "label": WORKER_SIDE_LABELS[name],
            "value": round(value, 4),
            "weight": WORKER_SIDE_WEIGHTS[name],
            "contribution": round(WORKER_SIDE_WEIGHTS[name] * value, 4),
        }
        for name, value in mine.items()
    ]
    unit = {"month": "元/月", "hour": "元/小时", "term": "元/单"}.get(q.budget_unit, "元")
    wage_note = (
        f"预算 {q.budget_min}–{q.budget_max} {unit}；按此工作量，你的期望约 {expected_min:.0f}–{expected_max:.0f} {unit} "
        f"(budget vs. your wish for this job)"
    )
    lacks = [
        f"无所需证书 (lacks the required certificate): {required_text(index, q)}"
        if name == "certificate"
        else FILTER_LABELS[name]
        for name in failed
    ]
    return WorkerSideFit(
        request=request,
        failed=failed,
        lacks=lacks,
        score=round(sum(c["contribution"] for c in components), 4),
        components=components,
        standing=round(float(values["_score"][0]), 4),
        unmet=household.unmet,
        distance_km=household.distance_km,
        wage_note=wage_note,
    )


async def _candidate_requests(worker: dict, index: CandidateIndex, today: date) -> list[dict]:
    """Open requests workers may find that could concern her: her categories, and her
    districts, her cities' city-wide requests, province-wide ones, or a radius that may
    reach her home. The hard filters decide afterwards."""
    taxonomy = index.taxonomy
    cities = {taxonomy.districts[c]["city_code"] for c in worker["district_codes"] if c in taxonomy.districts}
    city_districts = [c for c, d in taxonomy.districts.items() if d["city_code"] in cities]
    # A radius can reach her only if she has a home location inside its box (the filter
    # decides exactly); a live-in job only if she lives in; a start only once she is free.
    return await JobRequest.raw(
        """
        SELECT * FROM job_request r
        WHERE r.status = 'open' AND r.worker_visibility = 'fitting'
          AND r.category = ANY({}::varchar[])
          AND coalesce(r.end_date, r.start_date) >= {}
          AND r.start_date >= {}
          AND (NOT r.live_in OR {})
          AND (r.search_scope = 'province'
               OR r.district_code = ANY({}::varchar[])
               OR (r.search_scope = 'city' AND r.district_code = ANY({}::varchar[]))
               OR (r.radius_km IS NOT NULL AND r.lat IS NOT NULL AND {}::float8 IS NOT NULL
                   AND abs(r.lat - {}::float8) <= r.radius_km / 111.0
                   AND abs(r.lon - {}::float8) <= r.radius_km / (111.0 * 0.2)))
        ORDER BY r.start_date, r.id
        LIMIT {}
        """,
        list(worker["categories"]),
        today,
        worker["available_from"] or date.min,
        worker["live_in"],
        list(worker["district_codes"]),
        city_districts,
        worker["lat"],
        worker["lat"],
        worker["lon"],
        MAX_REQUESTS_READ,
    )


def _status_notices(worker: dict) -> list[str]:
    notices = []
    if worker["consented_at"] is None:
        notices.append(
            "签署信用信息授权后，雇主和需求才对你可见 (sign the consent first: /api/v1/workers/{id}/consent)"
        )
    if worker["status"] != "active":
        notices.append("档案已暂停或停用，恢复后才能看到需求 (your record is paused or suspended)")
    if worker["blacklisted_until"] is not None and worker["blacklisted_until"] > today_local():
        notices.append(f"限制期至 {worker['blacklisted_until']} (restricted until this date)")
    return notices


async def open_requests_for_worker(
    principal: Principal,
    *,
    index: CandidateIndex,
    query_for,
    limit: int,
    offset: int,
    include_near: bool = False,
) -> dict:
    """The open requests she fits, best for her first; with `include_near`, also those she
    would fit but for a credential (certificate, health check, background check)."""
    worker = await registry.my_worker(principal)
    await index.ensure_fresh()
    row = index.row_of(worker["id"])
    notices = _status_notices(worker)
    if row is None or notices:
        return _page([], limit=limit, offset=offset, notices=notices or ["档案暂不可匹配 (not matchable now)"])
    fits = await rank_requests_for(worker, row, index=index, query_for=query_for, include_near=include_near)
    # A suspended employer's requests take no offers: she is not shown them. Others carry
    # their employer's upheld complaints as a count, never a complaint's text.
    records = await _employer_records([f.request for f in fits])
    fits = [f for f in fits if not records.get(f.request["id"], {}).get("suspended")]
    for f in fits:
        record = records.get(f.request["id"])
        if record:
            f.verified_complaints = record["verified_complaints"]
            f.complaint_note = record["note"]
    chosen = fits[offset : offset + limit]
    ids = [f.request["id"] for f in chosen]
    if ids:
        mine = await Interest.select(Interest.request).where(
            Interest.request.is_in(ids) & (Interest.worker == worker["id"])
        )
        interested = {r["request"] for r in mine}
        for f in chosen:
            f.interested = f.request["id"] in interested
    page = _page(chosen, limit=limit, offset=offset, notices=[])
    page["total"] = len(fits)
    page["worker_id"] = worker["id"]
    return page


async def rank_requests_for(
    worker: dict, row: int, *, index: CandidateIndex, query_for, include_near: bool
) -> list[WorkerSideFit]:
    """Every candidate request assessed for her index row; those she fits (and, with
    `include_near`, those she lacks only a credential for), best for her first."""
    fits: list[WorkerSideFit] = []
    for n, request in enumerate(await _candidate_requests(worker, index, today_local())):
        if n and n % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # let other requests run between batches
        q = query_for(request)
        failed = failed_filters(index, q, row)  # cheap; only what passes is scored and explained
        if not failed or (include_near and set(failed) <= set(CREDENTIAL_FILTERS)):
            fits.append(assess(index, q, row, request, failed))
    fits.sort(key=lambda f: (bool(f.failed), -f.score, f.request["start_date"], f.request["id"]))
    return fits


def _page(fits: list[WorkerSideFit], *, limit: int, offset: int, notices: list[str]) -> dict:
    return {
        "algorithm_version": WORKER_SIDE_VERSION,
        "total": len(fits),
        "limit": limit,
        "offset": offset,
        "notices": notices,
        "items": [
            {
                "request": f.request,
                "fits": not f.failed,
                "lacks": f.lacks,
                "score": f.score,
                "components": f.components,
                "standing": f.standing,
                "unmet": f.unmet,
                "distance_km": f.distance_km,
                "wage_note": f.wage_note,
                "interested": f.interested,
                "verified_complaints": f.verified_complaints,
                "complaint_note": f.complaint_note,
            }
            for f in fits
        ],
    }


# Interest ----------------------------------------------------------------------------------


async def _request_she_fits(worker: dict, request_id: int, index: CandidateIndex, query_for) -> dict:
    """The request, if workers may find it and she passes every hard filter; else 404 as
    for a missing request."""
    request = await JobRequest.select().where(JobRequest.id == request_id).first()
    if request is None or request["status"] != "open" or request["worker_visibility"] != "fitting":
        raise NotFound(NOT_FOUND)
    # A suspended employer's requests are hidden from her, as in her list of open requests.
    if await standing.active_suspension(user_id=request["employer"], agency_id=request["agency"]) is not None:
        raise NotFound(NOT_FOUND)
    await index.ensure_fresh()
    row = index.row_of(worker["id"])
    if row is None or _status_notices(worker):
        raise NotFound(NOT_FOUND)
    if (request["end_date"] or request["start_date"]) < today_local():
        raise NotFound(NOT_FOUND)
    if failed_filters(index, query_for(request), row):
        raise NotFound(NOT_FOUND)
    return request


async def _my_worker_or_404(principal: Principal) -> dict:
    try:
        return await registry.my_worker(principal)
    except NotFound:
        raise NotFound(NOT_FOUND) from None


async def express_interest(principal: Principal, request_id: int, *, index: CandidateIndex, query_for) -> dict:
    """She would like the job. Saying it again changes nothing (one row per pair)."""
    worker = await _my_worker_or_404(principal)
    await _request_she_fits(worker, request_id, index, query_for)
    async with Interest._meta.db.transaction():
        inserted = await Interest.raw(
            "INSERT INTO interest (request, worker, created_at) VALUES ({}, {}, now()) "
            "ON CONFLICT (request, worker) DO NOTHING RETURNING id",
            request_id,
            worker["id"],
        )
        if inserted:
            await _bump(request_id)
    row = found(
        await Interest.select().where((Interest.request == request_id) & (Interest.worker == worker["id"])).first()
    )
    return {"request_id": request_id, "worker_id": worker["id"], "interested": True, "created_at": row["created_at"]}


async def withdraw_interest(principal: Principal, request_id: int, *, index: CandidateIndex, query_for) -> None:
    """She no longer wants it. Withdrawing twice is fine; a request she cannot see and
    never showed interest in is 404 as for a missing one."""
    worker = await _my_worker_or_404(principal)
    async with Interest._meta.db.transaction():
        deleted = (
            await Interest.delete()
            .where((Interest.request == request_id) & (Interest.worker == worker["id"]))
            .returning(Interest.id)
        )
        if deleted:
            await _bump(request_id)
            return
    await _request_she_fits(worker, request_id, index, query_for)


async def _bump(request_id: int) -> None:
    await JobRequest.update({JobRequest.interest_version: JobRequest.interest_version + 1}).where(
        JobRequest.id == request_id
    )


async def interested_workers(request_id: int) -> list[dict]:
    """Who said she is interested, among those employers may see now (consented, active,
    not blacklisted), earliest first."""
    rows = (
        await Interest.select(
            Interest.worker,
            Interest.created_at,
            Interest.worker.real_name,
            Interest.worker.gender,
            Interest.worker.consented_at,
            Interest.worker.status,
            Interest.worker.blacklisted_until,
        )
        .where(Interest.request == request_id)
        .order_by(Interest.created_at)
    )
    out = []
    for r in rows:
        worker = {
            "consented_at": r["worker.consented_at"],
            "status": r["worker.status"],
            "blacklisted_until": r["worker.blacklisted_until"],
        }
        if registry.is_visible_to_employers(worker):
            display_name = public_display_name(r["worker.real_name"], r["worker.gender"])
            out.append({"worker_id": r["worker"], "display_name": display_name, "created_at": r["created_at"]})
    return out
