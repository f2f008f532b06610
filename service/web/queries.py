"""Read-only lists the pages show and the API has no list for; each is scoped to the caller."""

from __future__ import annotations

from datetime import timedelta

from service.accounts.guards import Principal, Role
from service.employment.tables import Complaint, Offer, Placement, Review
from service.errors import Forbidden
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
    return {r["author_role"]: r for r in rows}


async def complaints_of_placement(placement_id: int) -> list[dict]:
    return await Complaint.select().where(Complaint.placement == placement_id).order_by(Complaint.id)


async def complaints_about(worker_id: int) -> list[dict]:
    return await Complaint.select().where(Complaint.worker == worker_id).order_by(Complaint.id, ascending=False)


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


def _institution_of(principal: Principal, role: Role) -> int:
    if principal.role != role or principal.agency_id is None:
        raise Forbidden()
    return principal.agency_id


async def institution_trainings(principal: Principal, status: str | None = None, limit: int = 50) -> list[dict]:
    """The training records a training institution pushed, newest first."""
    where = Training.institution == _institution_of(principal, Role.TRAINING)
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
