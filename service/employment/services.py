"""From match to employment: offers, placements, reviews, complaints and appeals.

Every state change is a conditional UPDATE (it happens once, whoever races), is written
with its event in one transaction, and recomputes the worker's integrity rating when it
is one of its inputs.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from asyncpg.exceptions import ExclusionViolationError, UniqueViolationError

from service.accounts import standing
from service.accounts.guards import Principal, Role
from service.accounts.tables import EmployerSuspension
from service.database import jsonb
from service.employment import integrity
from service.employment.tables import Complaint, IntegrityHistory, IntegrityRating, Offer, Placement, Review
from service.errors import Conflict, Forbidden, InvalidField, NotFound, found
from service.events.services import emit
from service.matching import services as matching
from service.matching.index import BusyPeriods
from service.matching.tables import Interest, JobRequest
from service.privacy import public_display_name
from service.privacy.audit import SensitiveField, record_reads
from service.registry import services as registry
from service.registry.domain import GUANGDONG_TZ, local_date, today_local
from service.registry.tables import Worker

SERIOUS_CATEGORIES = frozenset({"abuse", "theft", "violence"})
# What each side may complain of. About a worker: her conduct. About a household (or the
# agency that posted the job): how she was paid and treated.
COMPLAINT_CATEGORIES = {
    "worker": frozenset({"abuse", "theft", "violence", "negligence", "misconduct", "no_show", "other"}),
    "employer": frozenset({"unpaid_wages", "abuse", "unsafe_conditions", "harassment", "other"}),
}
SERIOUS_ABOUT_EMPLOYER = frozenset({"abuse", "unsafe_conditions", "harassment"})

# Notice she owes when she ends a placement (days before her last day). Someone who
# depends on her (a newborn, an elder, a patient) or a live-in household needs time to
# find another; an hourly job only the next visit's. A job that ends sooner needs no
# more notice than the days left.
NOTICE_DAYS_HOURLY = 1
NOTICE_DAYS_HOUSEHOLD = 3
NOTICE_DAYS_CARE = 7  # maternity, elderly, medical, or any live-in job
# Placements that keep her busy on their dates (a resigned one until her last day).
BUSY_STATUSES = ("active", "resigned")
RESIGN_CATEGORIES = ("employer_fault", "health", "family", "personal", "other")
EMPLOYER_RATINGS = ("quality", "communication", "reliability", "honesty")
WORKER_RATINGS = ("respect", "pay_on_time", "working_conditions", "honesty")


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def _bound_agency(worker_id: int) -> int | None:
    row = await Worker.select(Worker.agency, Worker.agency_confirmed_at).where(Worker.id == worker_id).first()
    return _agency_of(row) if row else None


def _agency_of(worker: dict) -> int | None:
    """The agency a worker row is bound to (its binding confirmed), if any."""
    return worker["agency"] if worker["agency_confirmed_at"] else None


async def _placement_agency(placement_id: int) -> int | None:
    row = await Placement.select(Placement.agency).where(Placement.id == placement_id).first()
    return row["agency"] if row else None


async def _my_worker_id(principal: Principal) -> int | None:
    if principal.role != Role.WORKER:
        return None
    row = await Worker.select(Worker.id).where(Worker.user == principal.user_id).first()
    return row["id"] if row else None


# Offers --------------------------------------------------------------------------------------


def offer_status(row: dict) -> str:
    if row["status"] == "offered" and row["expires_at"] <= _now():
        return "expired"
    return row["status"]


async def make_offer(
    principal: Principal, request_id: int, *, worker_id: int, wage: int | None, message: str, ttl: timedelta
) -> dict:
    request = await matching.get_request(principal, request_id)
    async with Offer._meta.db.transaction():
        # The request row is held (FOR SHARE) while the suspension is read: a suspension
        # locks the employer's open requests before it sweeps their offers, so either it
        # sees this offer and withdraws it, or this sees the suspension.
        await JobRequest.select(JobRequest.id).where(JobRequest.id == request_id).lock_rows("SHARE")
        await standing.ensure_may_hire(user_id=request["employer"], agency_id=request["agency"])
        if matching.effective_status(request) != "open":
            raise Conflict(
                f"需求状态为 {matching.effective_status(request)}，不能发出邀约 (only open requests take offers)"
            )
        worker = await Worker.select().where(Worker.id == worker_id).first()
        if (
            worker is None
            or not registry.is_visible_to_employers(worker)
            or request["category"] not in worker["categories"]
        ):
            raise NotFound("该家政服务员不可邀约 (no such worker available for this request)")
        wage = wage if wage is not None else request["budget_max"]
        if not request["budget_min"] <= wage <= request["budget_max"] * 2:
            raise InvalidField("wage", "须在预算范围内 (must be within the request's budget)")
        # An expired offer no longer blocks a new one for the same pair.
        await Offer.update({Offer.status: "expired"}).where(
            (Offer.request == request_id)
            & (Offer.worker == worker_id)
            & (Offer.status == "offered")
            & (Offer.expires_at <= _now())
        )
        offer = Offer(
            request=request_id,
            worker=worker_id,
            wage=wage,
            wage_unit=request["budget_unit"],
            message=message,
            expires_at=_now() + ttl,
            made_by_user=principal.user_id if not principal.is_agency else None,
            made_by_agency=principal.agency_id if principal.is_agency else None,
        )
        try:
            # The new row as a read gives it (the caller owns the request, checked above).
            row = (await Offer.insert(offer).returning(*Offer.all_columns()))[0]
        except UniqueViolationError:
            raise Conflict("已向该家政服务员发出邀约，等待答复 (a live offer to her exists already)") from None
        await emit(
            "offer.made",
            {"offer_id": row["id"], "request_id": request_id, "worker_id": worker_id},
            [request["agency"], _agency_of(worker)],
        )
    return {**row, "status": offer_status(row)}


async def get_offer(principal: Principal, offer_id: int) -> dict:
    row = await Offer.select().where(Offer.id == offer_id).first()
    if row is None:
        raise NotFound("邀约不存在 (no such offer)")
    request = found(await JobRequest.select().where(JobRequest.id == row["request"]).first())
    if not (matching.owns(principal, request) or row["worker"] == await _my_worker_id(principal)):
        raise NotFound("邀约不存在 (no such offer)")
    return {**row, "status": offer_status(row)}


async def list_my_offers(principal: Principal) -> list[dict]:
    worker_id = await _my_worker_id(principal)
    if worker_id is None:
        raise NotFound("尚无家政服务员档案 (no worker record)")
    rows = await Offer.select().where(Offer.worker == worker_id).order_by(Offer.id, ascending=False).limit(100)
    return [{**r, "status": offer_status(r)} for r in rows]


async def _offer_for_worker(principal: Principal, offer_id: int) -> dict:
    row = await Offer.select().where(Offer.id == offer_id).first()
    if row is None or row["worker"] != await _my_worker_id(principal):
        raise NotFound("邀约不存在 (no such offer)")
    return row


async def explain_offer(principal: Principal, offer_id: int, *, index) -> dict:
    """Why she ranked where she did for the request she was offered (PIPL Art. 24)."""
    offer = await _offer_for_worker(principal, offer_id)
    request = found(await JobRequest.select().where(JobRequest.id == offer["request"]).first())
    excused = frozenset({"schedule"}) if await _only_this_job_keeps_her_busy(offer, request) else frozenset()
    answer = await matching.explain_for_worker(request, offer["worker"], index=index, excused=excused)
    record = (await employer_records([request])).get(request["id"])
    return answer | {"offer_id": offer_id, "complaint_note": record["note"] if record else None}


async def _only_this_job_keeps_her_busy(offer: dict, request: dict) -> bool:
    """Whether, once she accepted this offer, the placement it made is all that fills the
    request's dates: she is free from its first day and no other placement overlaps them."""
    if offer["status"] != "accepted":
        return False
    own = await Placement.select(Placement.id).where(Placement.offer == offer["id"]).first()
    if own is None:
        return False
    first_day, last_day = matching.booking_period(request)
    worker = found(await Worker.select(Worker.available_from).where(Worker.id == offer["worker"]).first())
    if worker["available_from"] is not None and worker["available_from"] > first_day:
        return False
    others = await Placement.count().where(
        (Placement.worker == offer["worker"])
        & (Placement.id != own["id"])
        & Placement.status.is_in(list(BUSY_STATUSES))
        & (Placement.start_date <= (last_day or date.max))
        & ((Placement.end_date.is_null()) | (Placement.end_date >= first_day))
    )
    return others == 0


async def accept_offer(principal: Principal, offer_id: int) -> dict:
    """She accepts: the placement is created, or a clear 409 says why not."""
    offer = await _offer_for_worker(principal, offer_id)
    if offer_status(offer) != "offered":
        raise Conflict(f"邀约状态为 {offer_status(offer)}，不能接受 (this offer is {offer_status(offer)})")
    async with Offer._meta.db.transaction():
        # The request row is locked so two acceptances cannot both take its last place.
        request = found(await JobRequest.select().where(JobRequest.id == offer["request"]).lock_rows().first())
        if matching.effective_status(request) != "open":
            raise Conflict("该需求已招满或已取消 (the request is filled or cancelled)")
        if await standing.active_suspension(user_id=request["employer"], agency_id=request["agency"]) is not None:
            raise Conflict(
                "雇主已被人社部门暂停，邀约不能接受 (the employer is suspended by the bureau; its offers cannot be accepted)"
            )
        worker = found(await Worker.select().where(Worker.id == offer["worker"]).lock_rows().first())
        if not registry.is_visible_to_employers(worker):
            raise Conflict(
                "目前不能接受邀约：授权已撤回、档案暂停或受限 (her record cannot take offers now: "
                "consent withdrawn, paused or blacklisted)"
            )
        taken = (
            await Offer.update({Offer.status: "accepted", Offer.decided_at: _now()})
            .where((Offer.id == offer_id) & (Offer.status == "offered") & (Offer.expires_at > _now()))
            .returning(Offer.id)
        )
        if not taken:
            raise Conflict("邀约已失效 (the offer is no longer open)")
        first_day, last_day = matching.booking_period(request)
        placement = Placement(
            offer=offer_id,
            request=request["id"],
            worker=offer["worker"],
            employer=request["employer"],
            agency=request["agency"],
            start_date=first_day,
            end_date=last_day,
            wage=offer["wage"],
            wage_unit=offer["wage_unit"],
        )
        try:
            await placement.save()
        except ExclusionViolationError:
            raise Conflict("该时段已有其他在岗安排 (she already has a placement overlapping these dates)") from None
        if await filled_count(request) >= request["headcount"]:
            await JobRequest.update(
                {JobRequest.status: "filled", JobRequest.version: JobRequest.version + 1, JobRequest.updated_at: _now()}
            ).where(JobRequest.id == request["id"])
        await registry.mark_changed(offer["worker"], "placement accepted")
        await emit(
            "offer.accepted",
            {
                "offer_id": offer_id,
                "placement_id": placement.id,
                "request_id": request["id"],
                "worker_id": offer["worker"],
            },
            [request["agency"], await _bound_agency(offer["worker"])],
        )
    return await get_placement(principal, placement.id)


async def decline_offer(principal: Principal, offer_id: int) -> dict:
    offer = await _offer_for_worker(principal, offer_id)
    return await _close_offer(offer, "declined", principal)


async def withdraw_offer(principal: Principal, offer_id: int) -> dict:
    offer = await get_offer(principal, offer_id)
    request = found(await JobRequest.select().where(JobRequest.id == offer["request"]).first())
    if not matching.owns(principal, request):
        raise Forbidden("只有发出邀约的一方可以撤回 (only the request's owner withdraws)")
    return await _close_offer(offer, "withdrawn", principal)


async def _close_offer(offer: dict, status: str, principal: Principal) -> dict:
    async with Offer._meta.db.transaction():
        changed = (
            await Offer.update({Offer.status: status, Offer.decided_at: _now()})
            .where((Offer.id == offer["id"]) & (Offer.status == "offered") & (Offer.expires_at > _now()))
            .returning(Offer.id)
        )
        if not changed:
            raise Conflict(f"邀约状态为 {offer_status(offer)}，不能{status} (this offer is no longer open)")
        request = found(await JobRequest.select(JobRequest.agency).where(JobRequest.id == offer["request"]).first())
        data = {"offer_id": offer["id"], "worker_id": offer["worker"]}
        if status == "withdrawn":
            data["reason"] = "by_employer"
        await emit(
            f"offer.{status}",
            data,
            [request["agency"], await _bound_agency(offer["worker"])],
        )
    return await get_offer(principal, offer["id"])


# Placements ----------------------------------------------------------------------------------


def _is_employer_side(principal: Principal, placement: dict) -> bool:
    if principal.role == Role.EMPLOYER:
        return placement["employer"] == principal.user_id
    if principal.role == Role.HOUSEKEEPING:
        return principal.is_agency_of(placement["agency"])
    return False


async def _placement_for(principal: Principal, placement_id: int) -> tuple[dict, str]:
    row = await Placement.select().where(Placement.id == placement_id).first()
    if row is None:
        raise NotFound("服务记录不存在 (no such placement)")
    if principal.is_admin:
        return row, "admin"
    if _is_employer_side(principal, row):
        return row, "employer"
    if row["worker"] == await _my_worker_id(principal):
        return row, "worker"
    if principal.role == Role.HOUSEKEEPING and principal.agency_id == await _bound_agency(row["worker"]):
        return row, "worker_agency"
    raise NotFound("服务记录不存在 (no such placement)")


CONTACT_PURPOSE = "雇主联系已接受服务的家政服务员 (the household contacts the worker it engaged)"


async def get_placement(principal: Principal, placement_id: int, *, route: str = "") -> dict:
    row, side = await _placement_for(principal, placement_id)
    worker = found(
        await Worker.select(Worker.real_name, Worker.gender, Worker.phone, Worker.consented_at)
        .where(Worker.id == row["worker"])
        .first()
    )
    contact = None
    # After acceptance the household may call her, if she still consents to being shown.
    if side in ("employer", "admin") and worker["consented_at"] is not None:
        contact = {"name": worker["real_name"], "phone": worker["phone"]}
        await record_reads(
            principal, row["worker"], [SensitiveField.PHONE], purpose=CONTACT_PURPOSE, route=route or "placement"
        )
    return {
        **row,
        "worker_display_name": public_display_name(worker["real_name"], worker["gender"]),
        "worker_contact": contact,
        "viewer_side": side,
        "ended_by": _ended_by(row),
        "counts_against_rating": row["status"] == "no_show"
        or integrity.walked_out(row, await integrity.excused_placements(row["worker"])),
    }


def _ended_by(row: dict) -> str | None:
    if row["status"] in ("resigned", "cancelled"):
        return "worker"
    if row["status"] == "active":
        return None
    return "employer"


def notice_required_days(request: dict, placement: dict) -> int:
    """The notice she owes by the kind of job (see NOTICE_DAYS_*)."""
    if placement["wage_unit"] == "hour":
        return NOTICE_DAYS_HOURLY
    if request["live_in"] or request["category"] in ("maternity", "elderly", "medical"):
        return NOTICE_DAYS_CARE
    return NOTICE_DAYS_HOUSEHOLD


async def resign_placement(
    principal: Principal,
    placement_id: int,
    *,
    category: str,
    reason: str,
    last_day: date | None,
    complaint: dict | None,
) -> dict:
    """She ends a placement: after it began, on her last day (by default as far off as the
    notice asks, within the job's dates); before it began, at once. With less notice than
    the rule asks it counts against her rating as a no-show does, unless she ends it for the
    employer's fault and complains about the employer (here, or already) and the bureau
    does not dismiss the complaint."""
    row, side = await _placement_for(principal, placement_id)
    if side != "worker":
        raise Forbidden("由家政服务员本人结束服务 (only the worker herself resigns)")
    if category not in RESIGN_CATEGORIES:
        raise InvalidField("category", " | ".join(RESIGN_CATEGORIES))
    if complaint is not None and complaint["category"] not in COMPLAINT_CATEGORIES["employer"]:
        raise InvalidField("complaint.category", " | ".join(sorted(COMPLAINT_CATEGORIES["employer"])))
    if row["status"] != "active":
        raise Conflict(f"服务状态为 {row['status']}，不能再结束 (the placement has ended already)")
    request = found(await JobRequest.select().where(JobRequest.id == row["request"]).first())
    today = today_local()
    required = notice_required_days(request, row)
    job_end = row["end_date"] or date.max
    if today < row["start_date"]:
        if last_day is not None:
            raise InvalidField("last_day", "服务尚未开始，无需填写最后工作日 (not started yet: no last day)")
        status, end_date = "cancelled", row["start_date"]
        given = (row["start_date"] - today).days
    else:
        status = "resigned"
        end_date = last_day if last_day is not None else min(today + timedelta(days=required), job_end)
        if not today <= end_date <= job_end:
            raise InvalidField("last_day", "须在今天与服务结束日期之间 (between today and the end of the job)")
        given = (end_date - today).days
        required = min(required, (job_end - today).days)  # finishing the job is full notice
    async with Placement._meta.db.transaction():
        changed = (
            await Placement.update(
                {
                    Placement.status: status,
                    Placement.ended_at: _now(),
                    Placement.end_reason: reason,
                    Placement.end_category: category,
                    Placement.notice_required_days: required,
                    Placement.notice_given_days: given,
                    Placement.ended_by_user: principal.user_id,
                    Placement.ended_by_agency: None,
                    Placement.end_date: end_date,
                }
            )
            .where((Placement.id == placement_id) & (Placement.status == "active"))
            .returning(Placement.id)
        )
        if not changed:
            raise Conflict("服务刚被结束 (the placement has ended meanwhile)")
        if complaint is not None:
            await _save_complaint(principal, row, "employer", complaint["category"], complaint["description"])
        await _left_early(row, request)
        await registry.mark_changed(row["worker"], f"placement {status}")
        await emit(
            "placement.terminated",
            {"placement_id": placement_id, "worker_id": row["worker"], "outcome": status},
            [row["agency"], await _bound_agency(row["worker"])],
        )
    return await get_placement(principal, placement_id)


async def end_placement(principal: Principal, placement_id: int, *, outcome: str, reason: str) -> dict:
    """The employer side ends a placement: completed, terminated, or the worker did not show up."""
    row, side = await _placement_for(principal, placement_id)
    if side not in ("employer", "admin"):
        raise Forbidden("由雇主或其家政企业结束服务 (the employer side ends a placement)")
    if outcome not in ("completed", "terminated", "no_show"):
        raise InvalidField("outcome", "completed | terminated | no_show")
    if outcome == "completed" and today_local() < row["start_date"]:
        raise Conflict("服务尚未开始，不能标记完成 (a placement cannot be completed before it starts)")
    if outcome == "no_show" and today_local() < row["start_date"]:
        # A no-show costs her rating points: it can only have happened once the job began.
        raise Conflict("服务尚未开始，不能记录未到岗 (a no-show cannot be recorded before the start date)")
    async with Placement._meta.db.transaction():
        changed = (
            await Placement.update(
                {
                    Placement.status: outcome,
                    Placement.ended_at: _now(),
                    Placement.end_reason: reason,
                    Placement.ended_by_user: principal.user_id if not principal.is_agency else None,
                    Placement.ended_by_agency: principal.agency_id if principal.is_agency else None,
                    # Her calendar frees from today on.
                    Placement.end_date: min(row["end_date"] or date.max, max(row["start_date"], today_local())),
                }
            )
            .where((Placement.id == placement_id) & (Placement.status == "active"))
            .returning(Placement.id)
        )
        if not changed:
            raise Conflict(f"服务状态为 {row['status']}，不能再结束 (the placement has ended already)")
        if outcome != "completed":
            await _left_early(row, found(await JobRequest.select().where(JobRequest.id == row["request"]).first()))
        await registry.mark_changed(row["worker"], f"placement {outcome}")
        event = "placement.completed" if outcome == "completed" else "placement.terminated"
        await emit(
            event,
            {"placement_id": placement_id, "worker_id": row["worker"], "outcome": outcome},
            [row["agency"], await _bound_agency(row["worker"])],
        )
    return await get_placement(principal, placement_id)


# Vacancies: a placement that ends before its term leaves a place to fill --------------------


def holds_place(placement: dict, request: dict) -> bool:
    """Whether a placement still fills one of the request's places: it is under way or was
    completed, or she (or the household) ended it no earlier than the job's last day. A
    placement ended early (resigned or terminated before the term, cancelled before the
    start, a no-show) leaves the household a place to fill again."""
    if placement["status"] in ("active", "completed"):
        return True
    if placement["status"] in ("resigned", "terminated"):
        _first, last = matching.booking_period(request)
        return last is not None and placement["end_date"] is not None and placement["end_date"] >= last
    return False


async def filled_count(request: dict) -> int:
    rows = await Placement.select(Placement.status, Placement.end_date).where(Placement.request == request["id"])
    return sum(holds_place(p, request) for p in rows)


async def _left_early(placement: dict, request: dict) -> None:
    """Inside the caller's transaction, after the placement's end was written: her interest
    in the job goes (she left it; the household makes her an offer again if it wants her),
    and when a place came free the household is told."""
    await Interest.delete().where((Interest.request == request["id"]) & (Interest.worker == placement["worker"]))
    await JobRequest.update({JobRequest.interest_version: JobRequest.interest_version + 1}).where(
        JobRequest.id == request["id"]
    )
    ended = found(await Placement.select().where(Placement.id == placement["id"]).first())
    if holds_place(ended, request):
        return
    filled = await filled_count(request)
    await emit(
        "request.vacancy",
        {
            "request_id": request["id"],
            "placement_id": placement["id"],
            "worker_id": placement["worker"],
            "outcome": ended["status"],
            "last_day": ended["end_date"].isoformat(),
            "headcount": request["headcount"],
            "filled": filled,
        },
        [request["agency"]],
    )


async def staffing(principal: Principal, request_id: int) -> dict:
    """How many of the request's places are filled, who left early, and whether the
    household can reopen it now, and from which day."""
    request = await matching.get_request(principal, request_id)
    rows = (
        await Placement.select(
            Placement.id,
            Placement.status,
            Placement.start_date,
            Placement.end_date,
            Placement.end_category,
            Placement.worker.real_name,
            Placement.worker.gender,
        )
        .where(Placement.request == request_id)
        .order_by(Placement.id)
    )
    filled = sum(holds_place(p, request) for p in rows)
    left = [
        {
            "placement_id": p["id"],
            "worker_display_name": public_display_name(p["worker.real_name"], p["worker.gender"]),
            "status": p["status"],
            "ended_by": _ended_by(p),
            "last_day": p["end_date"] if p["status"] in ("resigned", "terminated", "no_show") else None,
        }
        for p in rows
        if not holds_place(p, request)
    ]
    vacancies = max(0, request["headcount"] - filled)
    status = matching.effective_status(request)
    reopen_from = _reopen_from(request, rows)
    _first, last = matching.booking_period(request)
    can_reopen = status == "filled" and vacancies > 0 and (last is None or reopen_from <= last)
    return {
        "request_id": request_id,
        "status": status,
        "headcount": request["headcount"],
        "filled": filled,
        "vacancies": vacancies,
        "left_early": left,
        "can_reopen": can_reopen,
        "reopen_from": reopen_from if can_reopen else None,
    }


def _reopen_from(request: dict, placements: list[dict]) -> date:
    """The first day a replacement is needed: the day after the last of those who resigned
    works (she stays until then), not before today or the job's start."""
    day = max(today_local(), request["start_date"])
    for p in placements:
        if p["status"] == "resigned" and p["end_date"] is not None and not holds_place(p, request):
            day = max(day, p["end_date"] + timedelta(days=1))
    return day


async def reopen_request(principal: Principal, request_id: int, *, start_date: date | None) -> dict:
    """The household takes the request back to open to fill the places that came free,
    from `start_date` (by default the day the replacement is needed). Nobody is offered the
    job again by this: the one who left has no live offer and no interest left."""
    view = await staffing(principal, request_id)
    if view["status"] != "filled":
        raise Conflict(f"需求状态为 {view['status']}，无需重新招聘 (only a filled request is reopened)")
    if view["vacancies"] == 0:
        raise Conflict("需求仍已招满，无需重新招聘 (no place came free)")
    if not view["can_reopen"]:
        raise Conflict("服务期已结束，不能重新招聘 (the job's dates are over; nothing is left to fill)")
    request = await matching.get_request(principal, request_id)
    await standing.ensure_may_hire(user_id=request["employer"], agency_id=request["agency"])
    reopen_from: date = view["reopen_from"]
    start = start_date or reopen_from
    if start < reopen_from:
        raise InvalidField(
            "start_date", f"不能早于 {reopen_from.isoformat()}（离职者工作到前一天）(must not be before reopen_from)"
        )
    _first, last = matching.booking_period(request)
    if last is not None and start > last:
        raise InvalidField("start_date", "须不晚于服务期的最后一天 (must not be after the job's last day)")
    async with JobRequest._meta.db.transaction():
        changed = (
            await JobRequest.update(
                {
                    JobRequest.status: "open",
                    JobRequest.start_date: start,
                    JobRequest.reopened_from: start,
                    JobRequest.version: JobRequest.version + 1,
                    JobRequest.updated_at: _now(),
                }
            )
            .where((JobRequest.id == request_id) & (JobRequest.status == "filled"))
            .returning(JobRequest.id)
        )
        if not changed:
            raise Conflict("需求刚被修改，请重新读取 (the request changed meanwhile; read it again)")
    return await staffing(principal, request_id)


async def busy_periods(worker_ids: list[int] | None) -> BusyPeriods:
    """For the matcher: active placements' dates, and who has ever been placed."""
    if worker_ids is None:
        rows = await Placement.select(Placement.worker, Placement.status, Placement.start_date, Placement.end_date)
    elif not worker_ids:
        return BusyPeriods(by_worker={}, placed_workers=set())
    else:
        # One array parameter, however many workers changed (a list of parameters stops at 32,767).
        rows = await Placement.raw(
            "SELECT worker, status, start_date, end_date FROM placement WHERE worker = ANY({}::int[])",
            list(worker_ids),
        )
    by_worker: dict[int, list[tuple[date, date]]] = {}
    placed: set[int] = set()
    for p in rows:
        placed.add(p["worker"])
        if p["status"] in BUSY_STATUSES:
            by_worker.setdefault(p["worker"], []).append((p["start_date"], p["end_date"] or date(9999, 12, 31)))
    return BusyPeriods(by_worker=by_worker, placed_workers=placed)


# Reviews -------------------------------------------------------------------------------------


async def add_review(
    principal: Principal, placement_id: int, *, ratings: dict[str, int], comment: str, edit_window: timedelta
) -> dict:
    row, side = await _placement_for(principal, placement_id)
    if side not in ("employer", "worker"):
        raise Forbidden("只有服务双方可以评价 (only the two parties review)")
    happened = row["status"] == "completed" or (
        row["status"] in ("terminated", "resigned")
        and row["ended_at"] is not None
        and local_date(row["ended_at"]) >= row["start_date"]
    )
    if not happened:
        raise Conflict("服务结束后才能评价，未开始的服务不能评价 (only a placement that took place can be reviewed)")
    expected = EMPLOYER_RATINGS if side == "employer" else WORKER_RATINGS
    if set(ratings) != set(expected):
        raise InvalidField("ratings", f"须包含且仅包含 (exactly): {', '.join(expected)}")
    overall = sum(ratings.values()) / len(ratings)
    async with Review._meta.db.transaction():
        review = Review(
            placement=placement_id,
            author_role=side,
            ratings=ratings,
            overall=overall,
            comment=comment,
            editable_until=_now() + edit_window,
        )
        try:
            await review.save()
        except UniqueViolationError:
            raise Conflict("每一方只能评价一次，可在修改期内修改 (one review per side; edit it instead)") from None
        if side == "employer":
            await registry.mark_changed(row["worker"], "review")
        await emit(
            "review.received",
            {"review_id": review.id, "placement_id": placement_id, "author": side, "worker_id": row["worker"]},
            [row["agency"], await _bound_agency(row["worker"])],
        )
    return await _review(review.id)


async def edit_review(
    principal: Principal, review_id: int, *, ratings: dict[str, int] | None, comment: str | None
) -> dict:
    review = await _review(review_id)
    try:
        row, side = await _placement_for(principal, review["placement"])
    except NotFound:
        raise NotFound("评价不存在 (no such review)") from None  # as for a missing review
    if side != review["author_role"]:
        raise NotFound("评价不存在 (no such review)")
    values: dict = {Review.updated_at: _now()}
    if ratings is not None:
        expected = EMPLOYER_RATINGS if side == "employer" else WORKER_RATINGS
        if set(ratings) != set(expected):
            raise InvalidField("ratings", f"须包含且仅包含 (exactly): {', '.join(expected)}")
        values[Review.ratings] = json.dumps(ratings)
        values[Review.overall] = sum(ratings.values()) / len(ratings)
    if comment is not None:
        values[Review.comment] = comment
    async with Review._meta.db.transaction():
        changed = (
            await Review.update(values)
            .where((Review.id == review_id) & (Review.editable_until > _now()))
            .returning(Review.id)
        )
        if not changed:
            raise Conflict("评价修改期已过 (the review can no longer be edited)")
        if side == "employer":
            await registry.mark_changed(row["worker"], "review edited")
    return await _review(review_id)


async def _review(review_id: int) -> dict:
    row = await Review.select().where(Review.id == review_id).first()
    if row is None:
        raise NotFound("评价不存在 (no such review)")
    return {**row, "ratings": jsonb(row["ratings"])}


async def list_reviews(principal: Principal, placement_id: int) -> list[dict]:
    await _placement_for(principal, placement_id)
    rows = await Review.select().where(Review.placement == placement_id).order_by(Review.id)
    return [{**r, "ratings": jsonb(r["ratings"])} for r in rows]


# Complaints and appeals ---------------------------------------------------------------------------


async def file_complaint(principal: Principal, placement_id: int, *, category: str, description: str) -> dict:
    """The employer side complains about her, or she about the employer side; the bureau decides."""
    row, side = await _placement_for(principal, placement_id)
    if side not in ("employer", "worker"):
        raise Forbidden("由服务双方投诉 (complaints are filed by the two parties)")
    against = "worker" if side == "employer" else "employer"
    async with Complaint._meta.db.transaction():
        complaint_id = await _save_complaint(principal, row, against, category, description)
        if against == "employer":
            # A complaint about the employer can excuse her short notice: the rating may change.
            await registry.mark_changed(row["worker"], "complaint filed")
    return await get_complaint(principal, complaint_id)


async def _save_complaint(principal: Principal, row: dict, against: str, category: str, description: str) -> int:
    """Inside the caller's transaction: the complaint and its event."""
    if category not in COMPLAINT_CATEGORIES[against]:
        who = "家政服务员" if against == "worker" else "雇主"
        raise InvalidField(
            "category", f"投诉{who}可选 (about the {against}): {' | '.join(sorted(COMPLAINT_CATEGORIES[against]))}"
        )
    serious = category in (SERIOUS_CATEGORIES if against == "worker" else SERIOUS_ABOUT_EMPLOYER)
    complaint = Complaint(
        placement=row["id"],
        worker=row["worker"],
        against=against,
        category=category,
        description=description,
        serious=serious,
        filed_by_user=principal.user_id if not principal.is_agency else None,
        filed_by_agency=principal.agency_id if principal.is_agency else None,
    )
    try:
        await complaint.save()
    except UniqueViolationError:
        raise Conflict("该服务的同类投诉已提交 (a complaint of this kind about this placement exists)") from None
    await emit(
        "complaint.filed",
        {"complaint_id": complaint.id, "worker_id": row["worker"], "against": against},
        [row["agency"], await _bound_agency(row["worker"])],
    )
    return complaint.id


async def get_complaint(principal: Principal, complaint_id: int) -> dict:
    row = await Complaint.select().where(Complaint.id == complaint_id).first()
    if row is None:
        raise NotFound("投诉不存在 (no such complaint)")
    try:
        await _placement_for(principal, row["placement"])  # parties and admins only
    except NotFound:
        raise NotFound("投诉不存在 (no such complaint)") from None  # as for a missing complaint
    return row


async def decide_complaint(principal: Principal, complaint_id: int, *, substantiated: bool, reason: str) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    row = await get_complaint(principal, complaint_id)
    status = "substantiated" if substantiated else "dismissed"
    async with Complaint._meta.db.transaction():
        changed = (
            await Complaint.update(
                {
                    Complaint.status: status,
                    Complaint.decision_reason: reason,
                    Complaint.decided_by: principal.user_id,
                    Complaint.decided_at: _now(),
                }
            )
            .where((Complaint.id == complaint_id) & (Complaint.status == "open"))
            .returning(Complaint.id)
        )
        if not changed:
            raise Conflict("该投诉已有处理决定 (the complaint was decided already)")
        if row["against"] == "worker":
            await registry.recompute_blacklist(row["worker"])
        await registry.mark_changed(row["worker"], f"complaint {status}")
        await emit(
            "complaint.decided",
            {"complaint_id": complaint_id, "worker_id": row["worker"], "outcome": status},
            [await _placement_agency(row["placement"]), await _bound_agency(row["worker"])],
        )
    return await get_complaint(principal, complaint_id)


async def appeal(principal: Principal, complaint_id: int, *, text: str) -> dict:
    """The one a substantiated complaint is about appeals it, once: she, or the employer side
    (the household, or the agency that posted the job)."""
    row = await Complaint.select().where(Complaint.id == complaint_id).first()
    if row is None:
        raise NotFound("投诉不存在 (no such complaint)")
    if row["against"] == "worker":
        concerned = row["worker"] == await _my_worker_id(principal)
    else:
        placement = found(await Placement.select().where(Placement.id == row["placement"]).first())
        concerned = _is_employer_side(principal, placement)
    if not concerned:
        raise NotFound("投诉不存在 (no such complaint)")
    changed = (
        await Complaint.update(
            {Complaint.appeal_text: text, Complaint.appeal_filed_at: _now(), Complaint.appeal_status: "pending"}
        )
        .where(
            (Complaint.id == complaint_id) & (Complaint.status == "substantiated") & (Complaint.appeal_status == "none")
        )
        .returning(Complaint.id)
    )
    if not changed:
        raise Conflict("只能对属实的投诉申诉一次 (a substantiated complaint may be appealed once)")
    return await get_complaint(principal, complaint_id)


async def decide_appeal(principal: Principal, complaint_id: int, *, upheld: bool, reason: str) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    row = await get_complaint(principal, complaint_id)
    values: dict = {
        Complaint.appeal_status: "upheld" if upheld else "rejected",
        Complaint.appeal_reason: reason,
        Complaint.appeal_decided_by: principal.user_id,
        Complaint.appeal_decided_at: _now(),
    }
    if upheld:
        values[Complaint.status] = "overturned"
    async with Complaint._meta.db.transaction():
        changed = (
            await Complaint.update(values)
            .where((Complaint.id == complaint_id) & (Complaint.appeal_status == "pending"))
            .returning(Complaint.id)
        )
        if not changed:
            raise Conflict("没有待处理的申诉 (no pending appeal)")
        if upheld and row["against"] == "employer":
            # The complaint no longer stands: neither does a suspension founded on it.
            await EmployerSuspension.update(
                {
                    EmployerSuspension.lifted_at: _now(),
                    EmployerSuspension.lifted_by: principal.user_id,
                    EmployerSuspension.lift_reason: f"申诉成立 (appeal upheld): {reason}",
                }
            ).where((EmployerSuspension.complaint_id == complaint_id) & EmployerSuspension.lifted_at.is_null())
        await registry.recompute_blacklist(row["worker"])
        await registry.mark_changed(row["worker"], "appeal upheld" if upheld else "appeal rejected")
        await emit(
            "appeal.decided",
            {"complaint_id": complaint_id, "worker_id": row["worker"], "outcome": "upheld" if upheld else "rejected"},
            [await _placement_agency(row["placement"]), await _bound_agency(row["worker"])],
        )
    return await get_complaint(principal, complaint_id)


# What workers see of an employer's record, and the bureau's suspension ---------------------------

EMPLOYER_NOTE = "该雇主有 {n} 起经核实的投诉 (complaints upheld by the bureau about whoever offers this job: {n})"


async def employer_records(requests: list[dict]) -> dict[int, dict]:
    """For each request, its employer's substantiated complaints (a number, never their text)
    and whether the employer is suspended now. The employer is the household account, or
    the agency for a request an agency posted without one."""
    users = sorted({r["employer"] for r in requests if r["employer"] is not None})
    agencies = sorted({r["agency"] for r in requests if r["employer"] is None and r["agency"] is not None})
    if not users and not agencies:
        return {}
    counted = await Complaint.raw(
        """
        SELECT p.employer, p.agency, count(*) AS n FROM complaint c JOIN placement p ON p.id = c.placement
        WHERE c.against = 'employer' AND c.status = 'substantiated'
          AND (p.employer = ANY({}::int[]) OR (p.employer IS NULL AND p.agency = ANY({}::int[])))
        GROUP BY p.employer, p.agency
        """,
        users,
        agencies,
    )
    by_user = {r["employer"]: r["n"] for r in counted if r["employer"] is not None}
    by_agency = {r["agency"]: r["n"] for r in counted if r["employer"] is None}
    suspended = await EmployerSuspension.raw(
        'SELECT "user", agency FROM employer_suspension WHERE lifted_at IS NULL '
        'AND ("user" = ANY({}::int[]) OR ("user" IS NULL AND agency = ANY({}::int[])))',
        users,
        agencies,
    )
    suspended_users = {r["user"] for r in suspended if r["user"] is not None}
    suspended_agencies = {r["agency"] for r in suspended if r["user"] is None}
    out = {}
    for r in requests:
        if r["employer"] is not None:
            n, off = by_user.get(r["employer"], 0), r["employer"] in suspended_users
        else:
            n, off = by_agency.get(r["agency"], 0), r["agency"] in suspended_agencies
        out[r["id"]] = {"verified_complaints": n, "suspended": off, "note": EMPLOYER_NOTE.format(n=n) if n else None}
    return out


SUSPENDED_ALREADY = "该雇主已处于暂停状态 (the employer is suspended already)"


async def suspend_employer(principal: Principal, complaint_id: int, *, reason: str) -> dict:
    """The bureau suspends the employer a serious complaint (abuse, unsafe conditions,
    harassment) was upheld against from posting requests and making offers."""
    if not principal.is_admin:
        raise Forbidden()
    row = await get_complaint(principal, complaint_id)
    if row["against"] != "employer" or row["status"] != "substantiated" or not row["serious"]:
        raise Conflict(
            "只有经核实的严重投诉（虐待、不安全的工作条件、骚扰）可据以暂停雇主 "
            "(only a substantiated serious complaint about the employer founds a suspension)"
        )
    placement = found(await Placement.select().where(Placement.id == row["placement"]).first())
    user_id = placement["employer"]
    agency_id = None if user_id is not None else placement["agency"]
    async with EmployerSuspension._meta.db.transaction():
        # The complaint is locked and read again: an appeal upheld meanwhile (it updates
        # this row, then lifts the suspensions founded on it) is either seen here or sees ours.
        [locked] = await Complaint.select(Complaint.status).where(Complaint.id == complaint_id).lock_rows()
        if locked["status"] != "substantiated":
            raise Conflict("该投诉已不成立，不能据以暂停 (the complaint no longer stands)")
        if await standing.active_suspension(user_id=user_id, agency_id=agency_id) is not None:
            raise Conflict(SUSPENDED_ALREADY)
        # Held until commit: an offer being made on one of them waits, then sees the suspension.
        await JobRequest.raw(
            "SELECT id FROM job_request WHERE status = 'open' "
            "AND (employer = {} OR (employer IS NULL AND {}::int IS NOT NULL AND agency = {})) "
            "ORDER BY id FOR UPDATE",
            user_id,
            agency_id,
            agency_id,
        )
        suspension = EmployerSuspension(
            user=user_id, agency=agency_id, complaint_id=complaint_id, reason=reason, suspended_by=principal.user_id
        )
        try:
            await suspension.save()
        except UniqueViolationError:
            # Another suspension of this employer committed meanwhile (one in force each).
            raise Conflict(SUSPENDED_ALREADY) from None
        await _withdraw_offers_of_suspended(user_id=user_id, agency_id=agency_id)
    return await get_suspension(principal, suspension.id)


SUSPENDED_OFFER_REASON = "雇主已被暂停 (the employer was suspended by the bureau)"


async def _withdraw_offers_of_suspended(*, user_id: int | None, agency_id: int | None) -> None:
    """The suspended employer's open offers are withdrawn with it, each worker told why.
    Lifting the suspension later does not bring them back."""
    closed = await Offer.raw(
        """
        UPDATE offer o SET status = 'withdrawn', decided_at = now(), closed_reason = {}
        FROM job_request j
        WHERE j.id = o.request AND o.status = 'offered' AND o.expires_at > now()
          AND (j.employer = {} OR (j.employer IS NULL AND {}::int IS NOT NULL AND j.agency = {}))
        RETURNING o.id, o.worker, j.agency
        """,
        SUSPENDED_OFFER_REASON,
        user_id,
        agency_id,
        agency_id,
    )
    for row in closed:
        await emit(
            "offer.withdrawn",
            {"offer_id": row["id"], "worker_id": row["worker"], "reason": "employer_suspended"},
            [row["agency"], await _bound_agency(row["worker"])],
        )


async def lift_suspension(principal: Principal, suspension_id: int, *, reason: str) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    await get_suspension(principal, suspension_id)
    changed = (
        await EmployerSuspension.update(
            {
                EmployerSuspension.lifted_at: _now(),
                EmployerSuspension.lifted_by: principal.user_id,
                EmployerSuspension.lift_reason: reason,
            }
        )
        .where((EmployerSuspension.id == suspension_id) & EmployerSuspension.lifted_at.is_null())
        .returning(EmployerSuspension.id)
    )
    if not changed:
        raise Conflict("该暂停已解除 (the suspension was lifted already)")
    return await get_suspension(principal, suspension_id)


async def get_suspension(principal: Principal, suspension_id: int) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    row = await EmployerSuspension.select().where(EmployerSuspension.id == suspension_id).first()
    if row is None:
        raise NotFound("暂停记录不存在 (no such suspension)")
    return row


async def list_suspensions(principal: Principal) -> list[dict]:
    if not principal.is_admin:
        raise Forbidden()
    return await EmployerSuspension.select().order_by(EmployerSuspension.id, ascending=False).limit(200)


# The integrity rating, as each caller may see it ------------------------------------------------


async def read_integrity(principal: Principal, worker_id: int) -> tuple[dict, bool]:
    """The rating and whether the caller sees it whole (she, her agency, admins) or as a summary."""
    worker = await Worker.select().where(Worker.id == worker_id).first()
    if worker is None:
        raise NotFound("家政服务员不存在 (no such worker)")
    full = registry.relation(principal, worker) is not None
    if not full and not (principal.role == Role.EMPLOYER and registry.is_visible_to_employers(worker)):
        raise NotFound("家政服务员不存在 (no such worker)")
    rating = await IntegrityRating.select().where(IntegrityRating.worker == worker_id).first()
    # Penalties fade and health checks expire with time alone: a rating is at most a day old.
    if rating is None or rating["computed_at"].astimezone(GUANGDONG_TZ).date() < today_local():
        async with Worker._meta.db.transaction():
            await integrity.recompute(worker_id, "first read" if rating is None else "daily refresh")
        rating = found(await IntegrityRating.select().where(IntegrityRating.worker == worker_id).first())
    result = {
        **rating,
        "worker_id": worker_id,
        "components": jsonb(rating["components"]),
        "advice": jsonb(rating["advice"]),
    }
    if full:
        result["history"] = (
            await IntegrityHistory.select()
            .where(IntegrityHistory.worker == worker_id)
            .order_by(IntegrityHistory.id, ascending=False)
            .limit(50)
        )
    return result, full
