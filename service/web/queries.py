"""Read-only lists the pages show and the API has no list for; each is scoped to the caller."""

from __future__ import annotations

from datetime import timedelta

from piccolo.columns.combination import And, Where

from service.accounts.guards import Principal, Role
from service.accounts.tables import EmployerSuspension
from service.database import jsonb
from service.employment.tables import Complaint, Offer, Placement, Review
from service.errors import Forbidden, found
from service.matching.tables import JobRequest
from service.privacy import public_display_name
from service.registry.counting import counts
from service.registry.domain import today_local
from service.registry.tables import Certificate, Check, Training, Worker


def _request_scope(principal: Principal):
    if principal.role == Role.EMPLOYER:
        return JobRequest.employer == principal.user_id
    if principal.role == Role.HOUSEKEEPING:
        return JobRequest.agency == principal.agency_id
    raise Forbidden()


async def my_requests(principal: Principal) -> list[dict]:
    return await JobRequest.select().where(_request_scope(principal)).order_by(JobRequest.id, ascending=False).limit(50)


async def offers_for_request(request_id: int) -> list[dict]:
    """The offers on one request (the caller's ownership of it is checked by the service first)."""
    rows = (
        await Offer.select(*Offer.all_columns(), Offer.worker.real_name, Offer.worker.gender)
        .where(Offer.request == request_id)
        .order_by(Offer.id, ascending=False)
    )
    return [{**r, "display_name": public_display_name(r["worker.real_name"], r["worker.gender"])} for r in rows]


async def placements_for_request(request_id: int) -> list[dict]:
    return (
        await Placement.select(Placement.id, Placement.status, Placement.worker, Placement.start_date)
        .where(Placement.request == request_id)
        .order_by(Placement.id)
    )


async def my_placements(principal: Principal) -> list[dict]:
    if principal.role == Role.EMPLOYER:
        where = Placement.employer == principal.user_id
    elif principal.role == Role.WORKER:
        worker = await Worker.select(Worker.id).where(Worker.user == principal.user_id).first()
        if worker is None:
            return []
        where = Placement.worker == worker["id"]
    else:
        raise Forbidden()
    rows = (
        await Placement.select(
            *Placement.all_columns(), Placement.worker.real_name, Placement.worker.gender, Placement.request.category
        )
        .where(where)
        .order_by(Placement.id, ascending=False)
        .limit(50)
    )
    return [{**r, "display_name": public_display_name(r["worker.real_name"], r["worker.gender"])} for r in rows]


async def reviews_by_side(placement_id: int) -> dict[str, dict]:
    rows = await Review.select().where(Review.placement == placement_id)
    return {r["author_role"]: {**r, "ratings": jsonb(r["ratings"])} for r in rows}


async def complaints_of_placement(placement_id: int) -> list[dict]:
    return await Complaint.select().where(Complaint.placement == placement_id).order_by(Complaint.id)


async def complaints_about(worker_id: int) -> list[dict]:
    """Complaints about her (not those she filed about an employer)."""
    return (
        await Complaint.select()
        .where((Complaint.worker == worker_id) & (Complaint.against == "worker"))
        .order_by(Complaint.id, ascending=False)
    )


async def expiring_health_checks(principal: Principal, within_days: int = 30) -> list[dict]:
    """Her agency's workers whose newest verified health report runs out within `within_days`."""
    if principal.role != Role.HOUSEKEEPING:
        raise Forbidden()
    today = today_local()
    rows = (
        await Check.select(Check.worker, Check.valid_until, Check.tier, Check.worker.real_name)
        .where(
            (Check.worker.agency == principal.agency_id)
            & Check.worker.agency_confirmed_at.is_not_null()
            & (Check.kind == "health")
            & counts(Check)
        )
        .order_by(Check.valid_until, ascending=False)
    )
    newest: dict[int, dict] = {}
    for r in rows:
        newest.setdefault(r["worker"], r)
    soon = today + timedelta(days=within_days)
    return sorted((r for r in newest.values() if r["valid_until"] <= soon), key=lambda r: r["valid_until"])


async def pending_credentials(principal: Principal) -> dict[str, list[dict]]:
    """The bureau's queues: checks, certificates and trainings waiting for a decision."""
    if not principal.is_admin:
        raise Forbidden()
    out = {}
    for kind, table in (("checks", Check), ("certificates", Certificate), ("trainings", Training)):
        out[kind] = (
            await table.select(*table.all_columns(), table.worker.real_name, table.worker.id_number_masked)
            .where(table.status == "pending")
            .order_by(table.id)
            .limit(100)
        )
    return out


async def decided_credentials(principal: Principal, limit: int = 20) -> list[dict]:
    """The newest credential decisions of every kind, with who decided and when."""
    if not principal.is_admin:
        raise Forbidden()
    out: list[dict] = []
    for kind, table, by, at in (
        ("checks", Check, Check.decided_by, Check.decided_at),
        ("certificates", Certificate, Certificate.decided_by, Certificate.decided_at),
        ("trainings", Training, Training.verified_by, Training.verified_at),
    ):
        rows = (
            await table.select(
                table.id,
                table.status,
                table.status_reason,
                table.worker.real_name,
                at.as_alias("decided_at"),
                by.display_name.as_alias("decided_by_name"),
            )
            .where(at.is_not_null() & table.status.is_in(["verified", "rejected"]))
            .order_by(at, ascending=False)
            .limit(limit)
        )
        out.extend({**r, "kind": kind} for r in rows)
    out.sort(key=lambda r: r["decided_at"], reverse=True)
    return out[:limit]


async def decided_complaints(principal: Principal, limit: int = 20) -> list[dict]:
    """The newest complaint decisions, with who decided (and who decided an appeal) and when."""
    if not principal.is_admin:
        raise Forbidden()
    return (
        await Complaint.select(
            Complaint.id,
            Complaint.category,
            Complaint.status,
            Complaint.decided_at,
            Complaint.decided_by.display_name,
            Complaint.appeal_status,
            Complaint.appeal_decided_at,
            Complaint.appeal_decided_by.display_name,
        )
        .where(Complaint.decided_at.is_not_null())
        .order_by(Complaint.decided_at, ascending=False)
        .limit(limit)
    )


async def open_complaints(principal: Principal) -> tuple[list[dict], list[dict]]:
    if not principal.is_admin:
        raise Forbidden()
    complaints = (
        await Complaint.select(*Complaint.all_columns(), Complaint.worker.real_name)
        .where(Complaint.status == "open")
        .order_by(Complaint.id)
        .limit(100)
    )
    appeals = (
        await Complaint.select(*Complaint.all_columns(), Complaint.worker.real_name)
        .where(Complaint.appeal_status == "pending")
        .order_by(Complaint.appeal_filed_at)
        .limit(100)
    )
    return complaints, appeals


async def request_of_placement(placement_id: int) -> dict:
    """The request a placement came from (its kind of job decides the notice she owes)."""
    row = await Placement.select(Placement.request).where(Placement.id == placement_id).first()
    return found(await JobRequest.select().where(JobRequest.id == row["request"]).first()) if row else {}


def _institution_of(principal: Principal, role: Role) -> int:
    if principal.role != role or principal.agency_id is None:
        raise Forbidden()
    return principal.agency_id


async def institution_trainings(principal: Principal, status: str | None = None, limit: int = 50) -> list[dict]:
    """The training records a training institution pushed, newest first."""
    where: Where | And = Training.institution == _institution_of(principal, Role.TRAINING)
    if status:
        where = where & (Training.status == status)
    return (
        await Training.select(*Training.all_columns(), Training.worker.real_name, Training.worker.id_number_masked)
        .where(where)
        .order_by(Training.id, ascending=False)
        .limit(limit)
    )


async def institution_rosters(principal: Principal, limit: int = 20) -> list[dict]:
    from service.registry.tables import TrainingRoster

    return (
        await TrainingRoster.select()
        .where(TrainingRoster.institution == _institution_of(principal, Role.TRAINING))
        .order_by(TrainingRoster.id, ascending=False)
        .limit(limit)
    )


async def issued_certificates(principal: Principal, limit: int = 50) -> list[dict]:
    """The certificates an evaluation institution issued, newest first."""
    return (
        await Certificate.select(
            *Certificate.all_columns(), Certificate.worker.real_name, Certificate.worker.id_number_masked
        )
        .where(Certificate.issuer == _institution_of(principal, Role.EVALUATION))
        .order_by(Certificate.id, ascending=False)
        .limit(limit)
    )


async def employer_suspensions(principal: Principal) -> tuple[list[dict], list[dict]]:
    """Upheld serious complaints about employers (each may found a suspension), and the
    suspensions in force, with whom they stop."""
    if not principal.is_admin:
        raise Forbidden()
    grounds = (
        await Complaint.select(Complaint.id, Complaint.category, Complaint.decided_at, Complaint.placement)
        .where((Complaint.against == "employer") & (Complaint.status == "substantiated") & Complaint.serious.eq(True))
        .order_by(Complaint.decided_at, ascending=False)
        .limit(50)
    )
    active = (
        await EmployerSuspension.select(
            *EmployerSuspension.all_columns(),
            EmployerSuspension.user.display_name,
            EmployerSuspension.agency.name,
            EmployerSuspension.suspended_by.display_name,
        )
        .where(EmployerSuspension.lifted_at.is_null())
        .order_by(EmployerSuspension.id, ascending=False)
        .limit(100)
    )
    return grounds, active
