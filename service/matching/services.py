"""Job requests and their matches."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any

import msgspec
from litestar.stores.base import Store
from prometheus_client import Counter

from service.accounts import standing
from service.accounts.guards import Principal, Role
from service.database import fetchrow, jsonb
from service.errors import Conflict, Forbidden, InvalidField, NotFound
from service.matching import worker_side
from service.matching.explain import explain_position
from service.matching.implied import covered, read_implied
from service.matching.index import CandidateIndex, Probe
from service.matching.pages import area_version, kept_page
from service.matching.ranking import ALGORITHM_VERSION, FILTER_LABELS, MatchQuery, Ranking, rank
from service.matching.schemas import MatchPage
from service.matching.tables import JobRequest
from service.matching.understanding import SkillVocabulary
from service.privacy import public_display_name
from service.registry.domain import local_date, today_local, wage_problem
from service.registry.services import is_visible_to_employers
from service.registry.tables import Worker
from service.taxonomy.rules import credential_key, credential_name, work_type_max_level
from service.taxonomy.services import Taxonomy

MATCH_CACHE_SECONDS = 300
# A 预产期 window wider than this is not a booking the trade would take.
DUE_WINDOW_MAX_DAYS = 45
DUE_DATE_CATEGORIES = frozenset({"maternity"})


def _now() -> datetime:
    return datetime.now(timezone.utc)


def effective_status(row: dict) -> str:
    if row["status"] == "open" and (row["end_date"] or row["start_date"]) < today_local():
        return "expired"
    return row["status"]


def understand(
    vocabulary: SkillVocabulary, skills_text: str, household_notes: str = "", *, written_on: date | None = None
) -> dict:
    """Skills from the skills text; implied terms from it and the household notes (shown, not applied).

    Relative dates ("预产期下个月底", "明年3月") are read against `written_on`, the day the request was
    created (today for a new one), so editing a request later does not move its due date."""
    understood = vocabulary.understand(skills_text)
    implied = read_implied(f"{skills_text}\n{household_notes}", today=written_on or today_local())
    return {
        "matched": understood.matched,
        "not_understood": [text for text in understood.not_understood if not covered(text, implied)],
        "implied": implied,
    }


def effective_skills(row: dict) -> list[str]:
    understood = jsonb(row["understood"])
    return list(dict.fromkeys([*row["skills"], *(m["code"] for m in understood["matched"])]))


def _validate(fields: dict[str, Any], taxonomy: Taxonomy, *, creating: bool) -> None:
    if unknown := taxonomy.unknown_skills(fields.get("skills") or []):
        raise InvalidField("skills", f"unknown skill codes: {', '.join(unknown)}")
    if creating and fields["district_code"] not in taxonomy.districts:
        raise InvalidField("district_code", "unknown district code")
    if fields.get("radius_km") and fields.get("lat") is None:
        raise InvalidField("radius_km", "范围需要同时给出位置 (a radius needs a location)")
    if creating and fields["start_date"] < today_local():
        raise InvalidField("start_date", "不能早于今天 (must not be in the past)")
    if fields.get("end_date") and fields["end_date"] < fields["start_date"]:
        raise InvalidField("end_date", "不能早于开始日期 (must not be before start_date)")
    if fields["budget_min"] > fields["budget_max"]:
        raise InvalidField("budget_min", "不能高于预算上限 (must not exceed budget_max)")
    problem = wage_problem(
        fields["budget_min"],
        fields["budget_max"],
        fields.get("budget_unit") or "month",
        [fields["category"]],
        fields=("budget_min", "budget_max", "budget_unit"),
    )
    if problem is not None:
        raise InvalidField(*problem)
    _validate_required_certificate(fields, taxonomy)
    _validate_due_dates(fields)


def _validate_required_certificate(fields: dict[str, Any], taxonomy: Taxonomy) -> None:
    code = fields.get("required_occupation_code")
    if code is None:
        return
    occupation = taxonomy.occupations.get(code)
    if occupation is None:
        raise InvalidField("required_certificate.occupation_code", "unknown occupation code")
    if fields["required_min_level"] not in occupation["levels"]:
        raise InvalidField(
            "required_certificate.min_level",
            f"{occupation['name_zh']} 的等级为 {occupation['levels']} (levels of this occupation)",
        )
    work_type = fields.get("required_work_type")
    if work_type is None:
        return
    top = work_type_max_level(taxonomy.occupations, credential_key(code, work_type))
    if top is None:
        known = "、".join(w["name_zh"] for w in occupation["work_types"]) or "无 (none)"
        raise InvalidField(
            "required_certificate.work_type",
            f"{occupation['name_zh']} 没有此工种 (no such work type); 可选 (known): {known}",
        )
    if fields["required_min_level"] < top:
        raise InvalidField(
            "required_certificate.min_level",
            f"{work_type} 最高到 {top} 级，更高等级不分工种 (the work type goes up to this level; above it, omit work_type)",
        )


def _validate_due_dates(fields: dict[str, Any]) -> None:
    earliest, latest = fields.get("due_date_from"), fields.get("due_date_to")
    if (earliest is None) != (latest is None):
        missing = "due_date_to" if latest is None else "due_date_from"
        raise InvalidField(missing, "预产期范围须同时给出起止日期 (give both ends of the due-date window)")
    if earliest is not None and fields["category"] not in DUE_DATE_CATEGORIES:
        raise InvalidField("due_date_from", "预产期只用于母婴（月嫂）需求 (a due date is for maternity requests)")
    if (fields.get("terms") or 1) > 1 and earliest is None:
        raise InvalidField("terms", "按单预订须给出预产期 (booking several 单 needs the due-date window)")
    if earliest is None:
        return
    if latest < earliest:
        raise InvalidField("due_date_to", "不能早于 due_date_from (must not be before due_date_from)")
    if (latest - earliest).days > DUE_WINDOW_MAX_DAYS:
        raise InvalidField(
            "due_date_to",
            f"预产期范围最多 {DUE_WINDOW_MAX_DAYS} 天 (the window spans at most {DUE_WINDOW_MAX_DAYS} days)",
        )


def required_certificate_view(row: dict, taxonomy: Taxonomy) -> dict | None:
    code = row["required_occupation_code"]
    if code is None:
        return None
    key = credential_key(code, row.get("required_work_type"))
    return {
        "occupation_code": code,
        "work_type": row.get("required_work_type"),
        "min_level": row["required_min_level"],
        "description": credential_name(taxonomy.occupations, key, row["required_min_level"]) + "或以上",
    }


def booking_period(row: dict) -> tuple[date, date | None]:
    """The days a placement for this request takes: for a 月嫂 job, from the earliest due
    date (or the start date, if earlier) to the booked 单 after the latest due date."""
    return query_for(row).period()


def service_period(row: dict) -> dict:
    first, last = booking_period(row)
    return {"first_day": first, "last_day": last}


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    """API shape → table columns."""
    out = dict(data)
    if "location" in out:
        location = out.pop("location")
        out["lat"] = location["lat"] if location else None
        out["lon"] = location["lon"] if location else None
    if "required_certificate" in out:
        certificate = out.pop("required_certificate")
        out["required_occupation_code"] = certificate["occupation_code"] if certificate else None
        out["required_work_type"] = certificate.get("work_type") if certificate else None
        out["required_min_level"] = certificate["min_level"] if certificate else None
    return out


def owns(principal: Principal, row: dict) -> bool:
    if principal.is_admin:
        return True
    if principal.role == Role.EMPLOYER:
        return row["employer"] == principal.user_id
    if principal.role == Role.HOUSEKEEPING:
        return principal.is_agency_of(row["agency"])
    return False


async def create_request(
    principal: Principal, data: dict[str, Any], *, taxonomy: Taxonomy, vocabulary: SkillVocabulary
) -> dict:
    await standing.ensure_principal_may_hire(principal)
    fields = _flatten(data)
    # An agency posts for a client household it knows offline; the request is the agency's.
    if principal.role == Role.EMPLOYER:
        fields["employer"] = principal.user_id
    elif principal.role == Role.HOUSEKEEPING:
        fields["agency"] = principal.agency_id
    else:
        raise Forbidden()
    _validate(fields, taxonomy, creating=True)
    fields["languages"] = taxonomy.language_codes(fields.get("languages") or [])
    fields["skills"] = list(dict.fromkeys(fields.get("skills") or []))
    fields["understood"] = understand(vocabulary, fields.get("skills_text", ""), fields.get("household_notes", ""))
    row = JobRequest(**fields)
    await row.save()
    return await _get(row.id)


async def _get(request_id: int) -> dict:
    row = await fetchrow("SELECT * FROM job_request WHERE id = $1", request_id)
    if row is None:
        raise NotFound("需求不存在 (no such job request)")
    return dict(row)


async def get_request(principal: Principal, request_id: int) -> dict:
    row = await _get(request_id)
    if not owns(principal, row):
        raise NotFound("需求不存在 (no such job request)")
    return row


async def update_request(
    principal: Principal, request_id: int, changes: dict[str, Any], *, taxonomy: Taxonomy, vocabulary: SkillVocabulary
) -> dict:
    row = await get_request(principal, request_id)
    if effective_status(row) != "open":
        raise Conflict(f"需求状态为 {effective_status(row)}，不能修改 (only open requests change)")
    changes = _flatten(changes)
    if "languages" in changes:
        changes["languages"] = taxonomy.language_codes(changes["languages"])
    merged = {**row, **changes}
    _validate(merged, taxonomy, creating=False)
    if "start_date" in changes and changes["start_date"] < today_local():
        raise InvalidField("start_date", "不能早于今天 (must not be in the past)")
    if "skills_text" in changes or "household_notes" in changes:
        changes["understood"] = understand(
            vocabulary, merged["skills_text"], merged["household_notes"], written_on=local_date(row["created_at"])
        )
    values = {getattr(JobRequest, key): value for key, value in changes.items()}
    values[JobRequest.version] = JobRequest.version + 1
    values[JobRequest.updated_at] = _now()
    # Validated against the version read above; a concurrent change makes this one a 409.
    changed = (
        await JobRequest.update(values)
        .where((JobRequest.id == request_id) & (JobRequest.version == row["version"]) & (JobRequest.status == "open"))
        .returning(JobRequest.id)
    )
    if not changed:
        raise Conflict("需求刚被修改，请重新读取 (the request changed meanwhile; read it again)")
    return await _get(request_id)


async def cancel_request(principal: Principal, request_id: int) -> dict:
    row = await get_request(principal, request_id)
    if row["status"] == "cancelled":
        return row
    if row["status"] != "open":
        raise Conflict(f"需求状态为 {row['status']}，不能取消 (only open requests are cancelled)")
    await JobRequest.update(
        {JobRequest.status: "cancelled", JobRequest.version: JobRequest.version + 1, JobRequest.updated_at: _now()}
    ).where((JobRequest.id == request_id) & (JobRequest.status == "open"))
    return await _get(request_id)


def query_for(row: dict) -> MatchQuery:
    return MatchQuery(
        category=row["category"],
        skills=effective_skills(row),
        district_code=row["district_code"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        scope=row["search_scope"],
        lat=row["lat"],
        lon=row["lon"],
        radius_km=row["radius_km"],
        live_in=row["live_in"],
        hours_per_week=row["hours_per_week"],
        budget_min=row["budget_min"],
        budget_max=row["budget_max"],
        budget_unit=row["budget_unit"],
        required_occupation=row["required_occupation_code"],
        required_work_type=row.get("required_work_type"),
        required_min_level=row["required_min_level"],
        due_date_from=row.get("due_date_from"),
        due_date_to=row.get("due_date_to"),
        terms=row.get("terms") or 1,
        reopened_from=row.get("reopened_from"),
        languages=list(row["languages"]),
        background_required=row["background_check_required"],
        today=today_local(),
    )


# The request and the index's freshness probe in one round trip: the snapshot's xmin, and
# whether any worker row was written at or above the xmin the index last read up to.
# Written as min(): a prepared `EXISTS (... change_txid >= $2)` is soon planned
# generically as a scan of every worker row; min() is planned as one step of the index.
_REQUEST_AND_PROBE = """
    SELECT j.*, p.xmin AS probe_xmin, p.changed AS probe_changed
    FROM job_request j,
         (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
                 (SELECT min(change_txid) FROM worker WHERE change_txid >= $2) IS NOT NULL AS changed) p
    WHERE j.id = $1
"""


async def _open_request_with_fresh_index(principal: Principal, request_id: int, index: CandidateIndex) -> dict:
    """The caller's open request, with the index brought up to date (one round trip when
    nothing changed since the index's last refresh)."""
    since = index.xmin if index.loaded else None
    if since is None:
        row = await get_request(principal, request_id)
        probe = None
    else:
        found = await fetchrow(_REQUEST_AND_PROBE, request_id, since)
        if found is None:
            raise NotFound("需求不存在 (no such job request)")
        row = dict(found)
        probe = Probe(since=since, xmin=row.pop("probe_xmin"), changed=row.pop("probe_changed"))
        if not owns(principal, row):
            raise NotFound("需求不存在 (no such job request)")
    status = effective_status(row)
    if status != "open":
        raise Conflict(f"需求状态为 {status}，不再匹配 (only open requests are matched)")
    await index.ensure_fresh(probe)
    return row


# Where each match page came from: this process's memory, the shared store, or a new ranking.
PAGES = Counter("nanyue_match_pages", "Match pages served, by where they came from", ["source"])


async def match_page_json(
    principal: Principal, request_id: int, *, limit: int, offset: int, index: CandidateIndex, cache: Store
) -> bytes:
    """The ranked page for a request as JSON: the cached bytes, as they are, when nothing
    changed since; else ranked anew (off the event loop) and cached."""
    row = await _open_request_with_fresh_index(principal, request_id, index)
    today = today_local()
    prefix = f"{request_id}:{row['version']}:{row['interest_version']}:"
    suffix = f":{today.isoformat()}:{ALGORITHM_VERSION}:{limit}:{offset}"
    key = prefix + _workers_version(index, row) + suffix
    # A key names everything the page depends on (interest included), so a page once made
    # never changes: the process keeps the latest few in memory before asking the shared store.
    body = index.pages.get(key)
    if body is not None:
        PAGES.labels("memory").inc()
        return await _only_visible_now(body) if index.may_lag else body
    body = await cache.get(key)
    PAGES.labels("shared" if body is not None else "ranked").inc()
    kept = None
    if body is None:
        query = replace(query_for(row), today=today)
        # Under steady writes a refresh often lands between the key above and the ranking:
        # the ranking is then keyed by the state it read (named while no refresh can run),
        # not thrown away.
        ranking, workers, generation = await index.read(_rank_with_version, index, query, row, limit, offset)
        key = prefix + workers + suffix
        page = _page(row, ranking, limit=limit, offset=offset)
        await _flag_interest(page, request_id)
        body = msgspec.json.encode(msgspec.convert(page, MatchPage, strict=False))
        await cache.set(key, body, expires_in=MATCH_CACHE_SECONDS)
        if index.generation == generation:
            # No refresh has changed the columns since the ranking read them: the page
            # may be carried past later changes (each is checked against it).
            kept = kept_page(
                index,
                query,
                lambda version: prefix + version + suffix,
                shown=[m.worker_id for m in ranking.items],
                lowest=ranking.lowest,
            )
    index.pages.put(key, body, kept)
    if index.may_lag:
        return await _only_visible_now(body)
    return body


def _workers_version(index: CandidateIndex, row: dict) -> str:
    return area_version(index, row["search_scope"], row["district_code"], row["lat"], row["lon"], row["radius_km"])


def _rank_with_version(
    index: CandidateIndex, query: MatchQuery, row: dict, limit: int, offset: int
) -> tuple[Ranking, str, int]:
    """The ranking, the version of the workers it read and the index's generation then (in
    the index's thread: no refresh changes the columns meanwhile)."""
    return rank(index, query, limit=limit, offset=offset), _workers_version(index, row), index.generation


# Of the listed workers, those employers may see now, on the primary (by primary key).
_VISIBLE_NOW = """
    SELECT coalesce(array_agg(id), '{}') FROM worker
    WHERE id = ANY($1::int[]) AND status = 'active' AND consented_at IS NOT NULL
      AND (blacklisted_until IS NULL OR blacklisted_until <= $2)
"""


async def _only_visible_now(body: bytes) -> bytes:
    """A page ranked from a lagging replica (`DATABASE_READ_URL`) without the workers who,
    on the primary, withdrew consent, were suspended, blacklisted or erased since: they are
    dropped (not replaced), and counted under the status filter."""
    page = msgspec.json.decode(body)
    listed = [item["worker_id"] for item in page["items"]]
    if not listed:
        return body
    found = await fetchrow(_VISIBLE_NOW, listed, today_local())
    visible = set(found[0]) if found is not None else set()
    hidden = len([worker_id for worker_id in listed if worker_id not in visible])
    if not hidden:
        return body
    page["items"] = [item for item in page["items"] if item["worker_id"] in visible]
    page["total"] = max(0, page["total"] - hidden)
    for entry in page["excluded"]:
        if entry["filter"] == "status":
            entry["removed"] += hidden
            break
    else:
        page["excluded"].append({"filter": "status", "label": FILTER_LABELS["status"], "removed": hidden})
    return msgspec.json.encode(page)


async def find_matches(
    principal: Principal, request_id: int, *, limit: int, offset: int, index: CandidateIndex, cache: Store
) -> dict:
    """The ranked page for a request, as data."""
    return msgspec.json.decode(
        await match_page_json(principal, request_id, limit=limit, offset=offset, index=index, cache=cache)
    )


def _page(row: dict, ranking: Ranking, *, limit: int, offset: int) -> dict:
    return {
        "request_id": row["id"],
        "algorithm_version": ranking.algorithm_version,
        "total": ranking.total,
        "limit": limit,
        "offset": offset,
        "understood": jsonb(row["understood"]),
        "excluded": ranking.excluded,
        # Shallow: the fields as they are (`dataclasses.asdict` deep-copies every list and
        # dict of every explanation, a tenth of a ranking's time for nothing).
        "items": [dict(vars(m), algorithm_version=ranking.algorithm_version) for m in ranking.items],
    }


async def _flag_interest(page: dict, request_id: int) -> None:
    """Mark the workers who said they would like this job (the key holds interest_version)."""
    interested = {w["worker_id"] for w in await worker_side.interested_workers(request_id)}
    page["interested_count"] = len(interested)
    for item in page["items"]:
        item["interested"] = item["worker_id"] in interested


async def list_interests(principal: Principal, request_id: int) -> list[dict]:
    await get_request(principal, request_id)
    return await worker_side.interested_workers(request_id)


async def open_requests_for_worker(
    principal: Principal, *, index: CandidateIndex, limit: int, offset: int, include_near: bool
) -> dict:
    return await worker_side.open_requests_for_worker(
        principal, index=index, query_for=query_for, limit=limit, offset=offset, include_near=include_near
    )


async def express_interest(principal: Principal, request_id: int, *, index: CandidateIndex) -> dict:
    return await worker_side.express_interest(principal, request_id, index=index, query_for=query_for)


async def withdraw_interest(principal: Principal, request_id: int, *, index: CandidateIndex) -> None:
    await worker_side.withdraw_interest(principal, request_id, index=index, query_for=query_for)


async def explain_worker(principal: Principal, request_id: int, worker_id: int, *, index: CandidateIndex) -> dict:
    """For the request's owner: whether a worker it may see passes the request's hard
    filters, which she does not, and her place if she does. A worker employers may not
    see (no consent, paused, blacklisted, unknown) is a 404, as in her public record."""
    row = await get_request(principal, request_id)
    worker = (
        await Worker.select(
            Worker.id, Worker.real_name, Worker.gender, Worker.consented_at, Worker.status, Worker.blacklisted_until
        )
        .where(Worker.id == worker_id)
        .first()
    )
    if worker is None or not is_visible_to_employers(worker):
        raise NotFound("家政服务员不存在 (no such worker)")
    await index.ensure_fresh()
    answer = explain_position(index, query_for(row), worker_id)
    # Her status is hers: a worker shown to employers passes it, whatever the index last read.
    answer["failed"] = [f for f in answer["failed"] if f["filter"] != "status"]
    return answer | {
        "request_id": request_id,
        "display_name": public_display_name(worker["real_name"], worker["gender"]),
    }


async def explain_for_worker(
    request_row: dict, worker_id: int, *, index: CandidateIndex, excused: frozenset[str] = frozenset()
) -> dict:
    """For the worker herself (the caller checked she was offered this request, and which
    filters her acceptance of it makes moot)."""
    await index.ensure_fresh()
    answer = explain_position(index, query_for(request_row), worker_id, excused=excused)
    return answer | {"request_id": request_row["id"]}
