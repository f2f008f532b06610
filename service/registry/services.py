"""Registry logic: workers, consent, agency binding and credentials.

Every function that takes an object id also takes the calling `Principal` and decides
whether the caller may touch that object. Objects a caller may not know about answer
`NotFound`, so ids cannot be probed.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, timezone
from typing import Any

from asyncpg.exceptions import UniqueViolationError
from litestar.stores.base import Store
from piccolo.columns import Column
from piccolo.columns.combination import Where, WhereRaw
from rapidfuzz import fuzz, process

from service import throttle
from service.accounts.guards import Principal, Role
from service.accounts.tables import User
from service.errors import Conflict, Forbidden, InvalidField, NotFound, PreconditionFailed, PreconditionRequired, found
from service.events.services import emit
from service.privacy import mask_id_number
from service.privacy.audit import SensitiveField, record_reads
from service.registry import evaluators, trainings
from service.registry.counting import counts, valid_on
from service.registry.domain import (
    BLACKLIST_YEARS,
    CERTIFICATE_KIND_NAMES,
    LEVELLED_CERTIFICATE_KINDS,
    MIN_WORKER_AGE,
    REGISTERED_CERTIFICATE_KINDS,
    CertificateKind,
    CredentialStatus,
    IdNumberError,
    add_years,
    age_on,
    effective_status,
    health_valid_until,
    parse_id_number,
    strictest_health_report,
    today_local,
    wage_problem,
)
from service.registry.issuer import IssuerClient
from service.registry.tables import (
    Certificate,
    Check,
    ConsentEvent,
    Training,
    TrainingRosterEntry,
    Worker,
    WorkerLookup,
)
from service.security import IdNumberCipher
from service.taxonomy.services import Taxonomy

SEARCH_POOL_LIMIT = 5000


class IdentityUnavailable(Conflict):
    """One answer for a worker account whose ID number finds nothing it may have: no record,
    a record of another phone, or one already claimed. It does not say which."""

    slug = "identity-unavailable"
    title = "无法用此身份证号登记或认领档案 (this ID number cannot be registered or claimed from this account)"

    def __init__(self) -> None:
        super().__init__(
            "若家政企业已代为登记，请用其登记的手机号注册账号后认领；否则请联系人社部门 "
            "(if an agency registered you, claim the record from an account on the phone it gave; "
            "otherwise contact the bureau)",
            fields={"id_number": "unavailable"},
        )


SEARCH_MIN_SCORE = 50.0


def _now() -> datetime:
    return datetime.now(timezone.utc)


def coarse(degrees: float) -> float:
    """Home coordinates are kept to about a kilometre (0.01°): enough to rank by distance,
    too coarse to find a door."""
    return round(degrees, 2)


# Access ------------------------------------------------------------------------------


class _Value:
    """A fetched column value that answers the same questions as a Piccolo column, with
    booleans instead of SQL: lets one rule run on a row and inside a query."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return self.value is not None and self.value == other

    __hash__ = None  # type: ignore[assignment]

    def is_null(self) -> bool:
        return self.value is None

    def is_not_null(self) -> bool:
        return self.value is not None


def _agency_keeps(agency_id: int, agency, agency_confirmed_at, user):
    """THE binding rule, for a fetched row (`_Value`s, answers a bool) and for SQL (Piccolo
    columns, answers a `Where`): the worker's agency keeps her once she confirmed the
    binding, and, until then, only the record it made for her and she has not claimed yet."""
    return (agency == agency_id) & (agency_confirmed_at.is_not_null() | user.is_null())


def relation(principal: Principal, worker: dict) -> str | None:
    """How the caller stands to this worker: self, agency, admin, or nothing."""
    if principal.is_admin:
        return "admin"
    if principal.role == Role.WORKER and worker["user"] is not None and worker["user"] == principal.user_id:
        return "self"
    if (
        principal.role == Role.HOUSEKEEPING
        and principal.agency_id is not None
        and _agency_keeps(
            principal.agency_id, _Value(worker["agency"]), _Value(worker["agency_confirmed_at"]), _Value(worker["user"])
        )
    ):
        return "agency"
    return None


def managed_workers(principal: Principal) -> Where | None:
    """`relation(...) in ("agency", "admin")` as a query condition, for lists: None means all
    workers (the bureau); callers who manage nobody get a condition nothing meets."""
    if principal.is_admin:
        return None
    if principal.role == Role.HOUSEKEEPING and principal.agency_id is not None:
        return _agency_keeps(principal.agency_id, Worker.agency, Worker.agency_confirmed_at, Worker.user)
    return Worker.id.is_null()  # the primary key is never null: no rows


def is_visible_to_employers(worker: dict, on: date | None = None) -> bool:
    on = on or today_local()
    return (
        worker["consented_at"] is not None
        and worker["status"] == "active"
        and (worker["blacklisted_until"] is None or worker["blacklisted_until"] <= on)
    )


async def _get_worker(worker_id: int) -> dict:
    row = await Worker.select().where(Worker.id == worker_id).first()
    if row is None:
        raise NotFound("家政服务员不存在 (no such worker)")
    return row


async def get_managed_worker(principal: Principal, worker_id: int) -> tuple[dict, str]:
    """The worker, if the caller manages her (herself, her agency, an admin)."""
    worker = await _get_worker(worker_id)
    rel = relation(principal, worker)
    if rel is None:
        raise NotFound("家政服务员不存在 (no such worker)")
    return worker, rel


# A worker account's tries on ID numbers -------------------------------------------------

IDENTITY_WINDOW = 24 * 3600


@asynccontextmanager
async def identity_attempt(principal: Principal, *, store: Store, limit: int) -> AsyncIterator[None]:
    """A worker account may fail only `limit` claims or self-registrations on a taken ID
    number a day, so the uniform answer cannot be used to scan ID numbers. The API and
    the pages wrap those calls in this; other roles are not counted."""
    if principal.role != Role.WORKER:
        yield
        return
    # Counted before the attempt (parallel attempts cannot slip past the limit) and given
    # back unless it ended in the uniform "identity unavailable" answer.
    await throttle.spend(store, principal.credential, limit=limit, window=IDENTITY_WINDOW)
    try:
        yield
    except IdentityUnavailable:
        raise
    except BaseException:
        await throttle.give_back(store, principal.credential)
        raise
    else:
        await throttle.give_back(store, principal.credential)


# Workers -----------------------------------------------------------------------------


def _validate_profile(fields: dict[str, Any], taxonomy: Taxonomy) -> None:
    if unknown := taxonomy.unknown_districts(fields.get("district_codes") or []):
        raise InvalidField("district_codes", f"unknown district codes: {', '.join(unknown)}")
    if unknown := taxonomy.unknown_skills(fields.get("skills") or []):
        raise InvalidField("skills", f"unknown skill codes: {', '.join(unknown)}")
    problem = wage_problem(
        fields.get("wage_min"),
        fields.get("wage_max"),
        fields.get("wage_unit") or "month",
        list(fields.get("categories") or []),
        fields=("wage_min", "wage_max", "wage_unit"),
    )
    if problem is not None:
        raise InvalidField(*problem)


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


async def create_worker(
    principal: Principal, data: dict[str, Any], *, cipher: IdNumberCipher, taxonomy: Taxonomy
) -> dict:
    try:
        id_number, born, gender = parse_id_number(data["id_number"])
    except IdNumberError as exc:
        raise InvalidField("id_number", str(exc)) from None
    if data["birth_date"] != born:
        raise InvalidField("birth_date", "与身份证号中的出生日期不一致 (does not match the ID number)")
    if data["gender"] != gender:
        raise InvalidField("gender", "与身份证号不一致 (does not match the ID number)")
    if age_on(born, today_local()) < MIN_WORKER_AGE:
        raise InvalidField("birth_date", f"须年满 {MIN_WORKER_AGE} 周岁 (must be at least {MIN_WORKER_AGE})")
    _validate_profile(data, taxonomy)
    data["languages"] = taxonomy.language_codes(data.get("languages") or [])

    location = data.pop("location", None)
    data.pop("id_number")
    for key in ("languages", "district_codes", "categories", "skills"):
        data[key] = _dedupe(data.get(key) or [])
    row = Worker(
        **data,
        lat=coarse(location["lat"]) if location else None,
        lon=coarse(location["lon"]) if location else None,
        id_number_encrypted=cipher.encrypt(id_number),
        id_number_index=cipher.blind_index(id_number),
        id_number_masked=mask_id_number(id_number),
    )
    if principal.role == Role.WORKER:
        if await Worker.exists().where(Worker.user == principal.user_id):
            raise Conflict("您已登记过家政服务员档案 (you already have a worker record)")
        row.user = principal.user_id
    elif principal.role == Role.HOUSEKEEPING:
        # The record stays unclaimed until she claims it (POST /workers/claim) and confirms the binding.
        row.agency = principal.agency_id
    try:
        async with Worker._meta.db.transaction():
            # While keys rotate, a person may be indexed under an earlier key version: the
            # unique index cannot see that, so look under every version, holding a lock on
            # the person so two registrations cannot both pass.
            await Worker.raw("SELECT pg_advisory_xact_lock(hashtext({}))", row.id_number_index)
            if await Worker.exists().where(Worker.id_number_index.is_in(cipher.blind_indexes(id_number))):
                raise UniqueViolationError("worker_id_number_index_key")
            await row.save()
            # Roster entries made under an earlier key version now name her by the current one.
            if old := cipher.blind_indexes(id_number)[1:]:
                await TrainingRosterEntry.update({TrainingRosterEntry.id_number_index: row.id_number_index}).where(
                    TrainingRosterEntry.id_number_index.is_in(old)
                )
            await mark_changed(row.id, "registered")
    except UniqueViolationError as exc:
        if "user" in (exc.constraint_name or ""):
            raise Conflict("您已登记过家政服务员档案 (you already have a worker record)") from None
        if principal.role == Role.WORKER:
            raise IdentityUnavailable() from None
        raise Conflict(
            "该身份证号已登记；若是家政企业代为登记，本人可认领：POST /api/v1/workers/claim (this person is already registered)",
            fields={"id_number": "already registered"},
        ) from None
    return row.to_dict()


async def my_worker(principal: Principal) -> dict:
    row = await Worker.select().where(Worker.user == principal.user_id).first()
    if row is None:
        raise NotFound(
            "尚未登记或认领家政服务员档案 (no worker record yet: POST /api/v1/workers, "
            "or claim the one an agency made: POST /api/v1/workers/claim)"
        )
    return row


async def claim_worker(principal: Principal, id_number: str, *, cipher: IdNumberCipher) -> dict:
    """She takes over the record an agency registered for her: her ID number and her
    account's phone must both match the record."""
    try:
        normalised, _, _ = parse_id_number(id_number)
    except IdNumberError as exc:
        raise InvalidField("id_number", str(exc)) from None
    if await Worker.exists().where(Worker.user == principal.user_id):
        raise Conflict("您已有家政服务员档案 (you already have a worker record)")
    account = found(await User.select(User.phone).where(User.id == principal.user_id).first())
    claimed = (
        await Worker.update(
            {Worker.user: principal.user_id, Worker.updated_at: _now(), Worker.version: Worker.version + 1}
        )
        .where(
            Worker.id_number_index.is_in(cipher.blind_indexes(normalised))
            & (Worker.phone == account["phone"])
            & Worker.user.is_null()
        )
        .returning(Worker.id)
    )
    if not claimed:
        raise IdentityUnavailable()
    return await _get_worker(claimed[0]["id"])


async def read_worker(principal: Principal, worker_id: int) -> tuple[dict, str]:
    """The worker and the shape the caller gets: "full" or "public"."""
    worker = await _get_worker(worker_id)
    if relation(principal, worker) is not None:
        return worker, "full"
    if principal.role == Role.EMPLOYER and is_visible_to_employers(worker):
        return worker, "public"
    raise NotFound("家政服务员不存在 (no such worker)")


async def update_worker(
    principal: Principal, worker_id: int, *, expected_version: int | None, changes: dict[str, Any], taxonomy: Taxonomy
) -> dict:
    """Her record changed, if the caller manages her and `expected_version` (If-Match) is
    still hers; None when the caller sent none (428, after the 404 a stranger gets)."""
    worker, rel = await get_managed_worker(principal, worker_id)
    if expected_version is None:
        raise PreconditionRequired()
    if changes.get("status") == "suspended" and rel != "admin" and worker["status"] != "suspended":
        raise Forbidden("只有管理员可以暂停档案 (only the bureau may suspend a worker)")
    if worker["status"] == "suspended" and "status" in changes and rel != "admin":
        raise Forbidden("档案已被暂停，只有管理员可以恢复 (a suspended record is restored by the bureau)")
    merged = {**worker, **changes}
    _validate_profile(
        {
            "district_codes": changes.get("district_codes"),
            "skills": changes.get("skills"),
            "wage_min": merged["wage_min"],
            "wage_max": merged["wage_max"],
            "wage_unit": merged["wage_unit"],
            "categories": merged["categories"],
        },
        taxonomy,
    )
    if "languages" in changes:
        changes["languages"] = taxonomy.language_codes(changes["languages"])
    values: dict[Any, Any] = {}
    if "location" in changes:
        location = changes.pop("location")
        values[Worker.lat] = coarse(location["lat"]) if location else None
        values[Worker.lon] = coarse(location["lon"]) if location else None
    for key, value in changes.items():
        if key in ("languages", "district_codes", "categories", "skills"):
            value = _dedupe(value)
        values[getattr(Worker, key)] = value
    values[Worker.version] = Worker.version + 1
    values[Worker.updated_at] = _now()
    updated = (
        await Worker.update(values)
        .where((Worker.id == worker_id) & (Worker.version == expected_version))
        .returning(*Worker.all_columns())
    )
    if not updated:
        raise PreconditionFailed()
    return updated[0]


def _name_pattern(query: str) -> str:
    return "[" + "".join(re.escape(ch) for ch in dict.fromkeys(query) if not ch.isspace()) + "]"


async def list_workers(
    principal: Principal,
    *,
    q: str | None,
    district_code: str | None,
    category: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict], int, dict[int, float]]:
    """Workers the caller manages (the same rule as for single reads), filtered; `q` is a
    fuzzy name search, or the whole phone number (digits match only the entire number)."""
    where: list[Where | WhereRaw] = []
    if not (principal.is_agency or principal.is_admin):
        raise Forbidden()
    if (visible := managed_workers(principal)) is not None:
        where.append(visible)
    if district_code:
        where.append(Worker.district_codes.any(district_code))
    if category:
        where.append(Worker.categories.any(category))
    if status:
        where.append(Worker.status == status)

    columns = [
        Worker.id,
        Worker.real_name,
        Worker.gender,
        Worker.id_number_masked,
        Worker.district_codes,
        Worker.categories,
        Worker.status,
        Worker.agency,
        Worker.agency_confirmed_at,
        Worker.consented_at,
    ]
    q = (q or "").strip()
    fuzzy = bool(q) and not q.isdigit()
    if q.isdigit():
        where.append(Worker.phone == q)
    elif fuzzy:
        # Narrow in SQL to names sharing a character with the query, then rank with rapidfuzz.
        where.append(WhereRaw("real_name ~ {}", _name_pattern(q)))

    def filtered(query):
        for clause in where:
            query = query.where(clause)
        return query

    if not fuzzy:
        page = await filtered(Worker.select(*columns).order_by(Worker.id).limit(limit).offset(offset))
        return page, await filtered(Worker.count()), {}
    pool = await filtered(Worker.select(*columns).order_by(Worker.id).limit(SEARCH_POOL_LIMIT))
    ranked = process.extract(
        q, {r["id"]: r["real_name"] for r in pool}, scorer=fuzz.WRatio, score_cutoff=SEARCH_MIN_SCORE, limit=None
    )
    ranked.sort(key=lambda item: (-item[1], item[2]))
    by_id = {r["id"]: r for r in pool}
    rows = [by_id[worker_id] for _, _, worker_id in ranked]
    scores = {worker_id: round(score, 1) for _, score, worker_id in ranked}
    return rows[offset : offset + limit], len(rows), scores


async def lookup_worker(principal: Principal, id_number: str, *, cipher: IdNumberCipher) -> dict:
    """Find a worker by national ID number, among those the caller may see: her agency
    (the same rule as any read), the institutions holding her training records or
    certificates, or the bureau. Every lookup is recorded, found or not."""
    try:
        normalised, _, _ = parse_id_number(id_number)
    except IdNumberError as exc:
        raise InvalidField("id_number", str(exc)) from None
    worker = await Worker.select().where(Worker.id_number_index.is_in(cipher.blind_indexes(normalised))).first()
    if worker is not None and not await _may_look_up(principal, worker):
        worker = None
    await WorkerLookup(
        user=principal.user_id,
        agency=principal.agency_id,
        api_key_id=principal.api_key_id,
        worker=worker["id"] if worker else None,
    ).save()
    if worker is None:
        raise NotFound("未找到该身份证号对应的档案 (no worker with this ID number)")
    return worker


async def _may_look_up(principal: Principal, worker: dict) -> bool:
    if relation(principal, worker) is not None:
        return True
    if principal.role == Role.TRAINING:
        return await Training.exists().where(
            (Training.worker == worker["id"]) & (Training.institution == principal.agency_id)
        )
    if principal.role == Role.EVALUATION:
        return await Certificate.exists().where(
            (Certificate.worker == worker["id"]) & (Certificate.issuer == principal.agency_id)
        )
    return False


async def list_lookups(principal: Principal, *, limit: int, offset: int) -> list[dict]:
    if not principal.is_admin:
        raise Forbidden()
    return await WorkerLookup.select().order_by(WorkerLookup.id, ascending=False).limit(limit).offset(offset)


# Consent and binding --------------------------------------------------------------------


async def own_worker(principal: Principal, worker_id: int) -> dict:
    """Her own record, for what only she may do (404 to strangers, 403 to her managers)."""
    return await _own_worker(principal, worker_id)


async def _own_worker(principal: Principal, worker_id: int) -> dict:
    worker = await _get_worker(worker_id)
    if relation(principal, worker) != "self":
        # Only she may consent or confirm a binding, not her agency and not the bureau.
        if relation(principal, worker) is None:
            raise NotFound("家政服务员不存在 (no such worker)")
        raise Forbidden("只有本人可以执行此操作 (only the worker herself may do this)")
    return worker


async def set_consent(principal: Principal, worker_id: int, *, granted: bool, terms_version: str = "") -> dict:
    await _own_worker(principal, worker_id)
    now = _now()
    # Only a real change is recorded, so concurrent or repeated calls keep state and history in step.
    current = Worker.consented_at.is_null() if granted else Worker.consented_at.is_not_null()
    async with Worker._meta.db.transaction():
        changed = (
            await Worker.update(
                {
                    Worker.consented_at: now if granted else None,
                    Worker.version: Worker.version + 1,
                    Worker.updated_at: now,
                }
            )
            .where((Worker.id == worker_id) & current)
            .returning(Worker.id)
        )
        if changed:
            await ConsentEvent(
                worker=worker_id, action="granted" if granted else "withdrawn", terms_version=terms_version, at=now
            ).save()
    return await _get_worker(worker_id)


async def consent_history(principal: Principal, worker_id: int) -> list[dict]:
    await get_managed_worker(principal, worker_id)
    return await ConsentEvent.select().where(ConsentEvent.worker == worker_id).order_by(ConsentEvent.id)


async def answer_binding(principal: Principal, worker_id: int, *, accept: bool) -> dict:
    worker = await _own_worker(principal, worker_id)
    if worker["agency"] is None:
        raise Conflict("没有待确认的机构绑定 (no agency binding to answer)")
    now = _now()
    values: dict[Any, Any] = {Worker.version: Worker.version + 1, Worker.updated_at: now}
    if accept:
        if worker["agency_confirmed_at"] is not None:
            return worker
        values[Worker.agency_confirmed_at] = now
    else:
        values[Worker.agency] = None
        values[Worker.agency_confirmed_at] = None
    await Worker.update(values).where(Worker.id == worker_id)
    return await _get_worker(worker_id)


# Credentials ------------------------------------------------------------------------------


def _with_status(row: dict, valid_until_key: str | None = None) -> dict:
    valid_until = row.get(valid_until_key) if valid_until_key else None
    return {**row, "status": effective_status(row["status"], valid_until)}


# Called with (worker_id, reason) after a change to a worker's facts, inside its
# transaction (the employment domain recomputes the integrity rating here).
CHANGE_HOOKS: list[Callable[[int, str], Awaitable[object]]] = []
_linked = False


def link(
    *,
    change_hooks: list[Callable[[int, str], Awaitable[object]]],
    blacklist_causes: list[Callable[[int], Awaitable[date | None]]],
) -> None:
    """Plug in the higher domains' reactions (`create_app` does, once per app; it replaces
    earlier ones). Until then the registry refuses to change a worker's facts, so no
    script or test can skip the rating or a blacklisting cause without noticing."""
    global _linked
    CHANGE_HOOKS[:] = change_hooks
    BLACKLIST_CAUSES[:] = blacklist_causes
    _linked = True


def _require_links() -> None:
    if not _linked:
        raise RuntimeError("the registry's links are not wired: build the app with create_app() first")


async def mark_changed(worker_id: int, reason: str = "credential") -> None:
    """Mark the worker changed (the matcher re-reads her) and tell whoever listens."""
    _require_links()
    await Worker.update({Worker.updated_at: _now()}).where(Worker.id == worker_id)
    for hook in CHANGE_HOOKS:
        await hook(worker_id, reason)


async def credential_event(event_type: str, kind: str, row: dict, issuer_id: int | None) -> None:
    """Tell her bound agency and the institution that issued the record."""
    worker = found(
        await Worker.select(Worker.agency, Worker.agency_confirmed_at).where(Worker.id == row["worker"]).first()
    )
    agency = worker["agency"] if worker["agency_confirmed_at"] else None
    await emit(
        event_type,
        {"worker_id": row["worker"], "kind": kind, "credential_id": row["id"], "status": row["status"]},
        [agency, issuer_id],
    )


async def _ensure_knows_person(
    principal: Principal, worker_id: int, id_number: str | None, cipher: IdNumberCipher
) -> None:
    """An institution names the person by her ID number as well as the record id, so it can
    only write to the record of someone it has really enrolled or assessed. A missing
    record and a mismatching ID number answer the same 404."""
    if principal.is_admin:
        await _get_worker(worker_id)
        return
    if id_number is None:
        raise InvalidField("id_number", "机构登记记录须提供本人身份证号 (institutions give her ID number)")
    try:
        normalised, _, _ = parse_id_number(id_number)
    except IdNumberError as exc:
        raise InvalidField("id_number", str(exc)) from None
    worker = await Worker.select(Worker.id_number_index).where(Worker.id == worker_id).first()
    if worker is None or worker["id_number_index"] not in cipher.blind_indexes(normalised):
        raise NotFound("家政服务员不存在 (no such worker)")


async def add_training(
    principal: Principal, worker_id: int, data: dict[str, Any], *, cipher: IdNumberCipher, taxonomy: Taxonomy
) -> dict:
    await _ensure_knows_person(principal, worker_id, data.pop("id_number", None), cipher)
    return await trainings.add_training(principal, worker_id, data, taxonomy=taxonomy)


async def list_trainings(principal: Principal, worker_id: int) -> list[dict]:
    query = Training.select().where(Training.worker == worker_id).order_by(Training.id)
    query = await _credential_reader(principal, worker_id, query, Training.institution, Role.TRAINING)
    return await trainings.list_trainings(query)


async def add_sessions(
    principal: Principal, worker_id: int, training_id: int, data: dict[str, Any], *, cipher: IdNumberCipher
) -> list[dict]:
    await _ensure_knows_person(principal, worker_id, data.get("id_number"), cipher)
    return await trainings.add_sessions(principal, worker_id, training_id, data["sessions"])


async def _credential_reader(principal: Principal, worker_id: int, query, issuer_column, issuer_role: Role):
    """Managers read all of a worker's records; an issuing institution reads only its own,
    and a worker it holds no record of is, to it, no worker at all (404, like a missing id)."""
    worker = await _get_worker(worker_id)
    if relation(principal, worker) is not None:
        return query
    if principal.role == issuer_role:
        table = issuer_column._meta.table
        if await table.exists().where((table.worker == worker_id) & (issuer_column == principal.agency_id)):
            return query.where(issuer_column == principal.agency_id)
    raise NotFound("家政服务员不存在 (no such worker)")


async def add_certificate(
    principal: Principal,
    worker_id: int,
    data: dict[str, Any],
    *,
    taxonomy: Taxonomy,
    cipher: IdNumberCipher,
    issuer: IssuerClient | None = None,
) -> dict:
    if principal.role != Role.EVALUATION:
        raise Forbidden("证书由评价机构登记 (certificates are pushed by evaluation institutions)")
    await _ensure_knows_person(principal, worker_id, data.pop("id_number", None), cipher)
    occupation = taxonomy.occupations.get(data["occupation_code"])
    if occupation is None:
        raise InvalidField("occupation_code", "未知的职业编码 (unknown occupation code)")
    kind = CertificateKind(data.setdefault("kind", CertificateKind.SKILL_LEVEL.value))
    if kind in LEVELLED_CERTIFICATE_KINDS:
        if data.get("level") is None:
            raise InvalidField("level", f"{CERTIFICATE_KIND_NAMES[kind]}须注明等级 (this kind needs a level)")
        if data["level"] not in occupation["levels"]:
            raise InvalidField(
                "level", f"{occupation['name_zh']} 的等级为 {occupation['levels']} (levels of this occupation)"
            )
    elif data.get("level") is not None:
        raise InvalidField("level", f"{CERTIFICATE_KIND_NAMES[kind]}没有等级 (this kind has no level)")
    work_types = {w["name_zh"]: w for w in occupation["work_types"]}
    if data.get("work_type") is not None:
        work_type = work_types.get(data["work_type"])
        if work_type is None:
            raise InvalidField("work_type", f"{occupation['name_zh']} 没有此工种 (no such work type)")
        if data.get("level") is not None and data["level"] < work_type["max_level"]:
            raise InvalidField(
                "level",
                f"{data['work_type']} 最高到 {work_type['max_level']} 级 (work type only goes up to this level)",
            )
    if data["issued_on"] > today_local():
        raise InvalidField("issued_on", "不能晚于今天 (must not be in the future)")
    data["occupation_name"] = occupation["name_zh"]
    # Outside the institution's 备案 the certificate is kept but waits for the bureau (and
    # the integrity check flags it); without an issuer to ask, the push is authoritative.
    reason = ""
    if kind in REGISTERED_CERTIFICATE_KINDS and not await evaluators.registered_for(
        principal.own_agency_id, data["occupation_code"], data["issued_on"]
    ):
        status, reason = CredentialStatus.PENDING, evaluators.OUT_OF_SCOPE_REASON
    else:
        status = CredentialStatus.PENDING if issuer else CredentialStatus.VERIFIED
    row = Certificate(**data, worker=worker_id, issuer=principal.agency_id, status=status.value, status_reason=reason)
    try:
        async with Worker._meta.db.transaction():
            await row.save()
            await mark_changed(worker_id, "certificate")
            if status == CredentialStatus.VERIFIED:
                await credential_event("credential.verified", "certificate", row.to_dict(), principal.agency_id)
    except UniqueViolationError:
        raise Conflict(
            "证书编号已登记 (this certificate number is already registered)",
            fields={"certificate_no": "already registered"},
        ) from None
    if issuer and not reason:
        return await confirm_with_issuer(row.id, issuer)
    return _certificate_out(row.to_dict())


async def confirm_with_issuer(certificate_id: int, issuer: IssuerClient) -> dict:
    """Ask the issuer about a pending certificate; it stays pending if the issuer is down."""
    row = found(await Certificate.select().where(Certificate.id == certificate_id).first())
    if row["status"] != CredentialStatus.PENDING:
        return _certificate_out(row)
    verdict = await issuer.confirm(
        certificate_no=row["certificate_no"], occupation_code=row["occupation_code"], level=row["level"]
    )
    if verdict is None:
        return _certificate_out(row)
    status = CredentialStatus.VERIFIED if verdict else CredentialStatus.REJECTED
    reason = "" if verdict else "颁发机构查无此证 (the issuer does not know this certificate)"
    async with Worker._meta.db.transaction():
        changed = (
            await Certificate.update(
                {Certificate.status: status.value, Certificate.status_reason: reason, Certificate.decided_at: _now()}
            )
            .where((Certificate.id == certificate_id) & (Certificate.status == CredentialStatus.PENDING.value))
            .returning(Certificate.id)
        )
        row = found(await Certificate.select().where(Certificate.id == certificate_id).first())
        if changed:
            await mark_changed(row["worker"], "certificate")
            await credential_event(f"credential.{status.value}", "certificate", row, row["issuer"])
    return _certificate_out(row)


async def recheck_certificate(
    principal: Principal, worker_id: int, certificate_id: int, issuer: IssuerClient | None
) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    if issuer is None:
        raise Conflict("未配置颁发机构核验地址 (no issuer endpoint is configured)")
    row = (
        await Certificate.select(Certificate.id)
        .where((Certificate.id == certificate_id) & (Certificate.worker == worker_id))
        .first()
    )
    if row is None:
        raise NotFound("证书不存在 (no such certificate)")
    return await confirm_with_issuer(certificate_id, issuer)


def _certificate_out(row: dict) -> dict:
    return {
        **_with_status(row),
        "worker_id": row["worker"],
        "issuer_id": row["issuer"],
        "kind_name": CERTIFICATE_KIND_NAMES[CertificateKind(row["kind"])],
    }


async def list_certificates(principal: Principal, worker_id: int) -> list[dict]:
    query = Certificate.select().where(Certificate.worker == worker_id).order_by(Certificate.id)
    query = await _credential_reader(principal, worker_id, query, Certificate.issuer, Role.EVALUATION)
    return [_certificate_out(r) for r in await query]


async def revoke_certificate(principal: Principal, worker_id: int, certificate_id: int, *, reason: str) -> dict:
    row = (
        await Certificate.select().where((Certificate.id == certificate_id) & (Certificate.worker == worker_id)).first()
    )
    if row is None or not (
        principal.is_admin or (principal.role == Role.EVALUATION and row["issuer"] == principal.agency_id)
    ):
        raise NotFound("证书不存在 (no such certificate)")
    if row["status"] != CredentialStatus.REVOKED:
        async with Worker._meta.db.transaction():
            changed = (
                await Certificate.update(
                    {
                        Certificate.status: CredentialStatus.REVOKED.value,
                        Certificate.status_reason: reason,
                        Certificate.revoked_at: _now(),
                    }
                )
                .where((Certificate.id == certificate_id) & (Certificate.status != CredentialStatus.REVOKED.value))
                .returning(Certificate.id)
            )
            if changed:
                await mark_changed(worker_id, "certificate revoked")
                await credential_event(
                    "credential.revoked",
                    "certificate",
                    {**row, "status": CredentialStatus.REVOKED.value},
                    row["issuer"],
                )
    return _certificate_out(found(await Certificate.select().where(Certificate.id == certificate_id).first()))


async def add_check(principal: Principal, worker_id: int, data: dict[str, Any]) -> dict:
    worker = await _get_worker(worker_id)
    rel = relation(principal, worker)
    if rel is None:
        raise NotFound("家政服务员不存在 (no such worker)")
    if rel not in ("agency", "admin"):
        raise Forbidden("体检和背景审查由所属家政企业或管理员登记 (checks are recorded by her agency or the bureau)")
    if data["checked_on"] > today_local():
        raise InvalidField("checked_on", "不能晚于今天 (must not be in the future)")
    if data["kind"] == "health":
        if data.get("tier") is None:
            raise InvalidField("tier", "体检须注明类别 (a health check needs its tier)")
        data["valid_until"] = data.get("valid_until") or health_valid_until(data["checked_on"])
        if data["valid_until"] > health_valid_until(data["checked_on"]):
            raise InvalidField("valid_until", "体检报告有效期最长一年 (a health report is valid one year at most)")
    elif data.get("tier") is not None:
        raise InvalidField("tier", "背景审查没有类别 (a background check has no tier)")
    if data.get("valid_until") and data["valid_until"] < data["checked_on"]:
        raise InvalidField("valid_until", "不能早于检查日期 (must not be before checked_on)")
    status = CredentialStatus.VERIFIED if rel == "admin" else CredentialStatus.PENDING
    row = Check(
        **data,
        worker=worker_id,
        status=status.value,
        recorded_by_agency=principal.agency_id if principal.is_agency else None,
        # Recorded by the bureau itself: that is its decision.
        decided_by=principal.user_id if rel == "admin" else None,
        decided_at=_now() if rel == "admin" else None,
    )
    async with Worker._meta.db.transaction():
        await row.save()
        if status == CredentialStatus.VERIFIED:
            await recompute_blacklist(worker_id)
            await credential_event("credential.verified", f"{data['kind']}_check", row.to_dict(), None)
        await mark_changed(worker_id, f"{data['kind']} check")
    return _check_out(row.to_dict())


# Further causes of a blacklisting (e.g. substantiated serious complaints), set by `link`:
# each returns the date a worker's blacklisting by that cause ends, or None.
BLACKLIST_CAUSES: list[Callable[[int], Awaitable[date | None]]] = []


async def recompute_blacklist(worker_id: int) -> date | None:
    """A verified failed background check blacklists the worker for three years from the
    check; so may other registered causes. Recomputed from the facts, so a reversed
    decision lifts it again."""
    _require_links()
    failed = await Check.select(Check.checked_on).where(
        (Check.worker == worker_id)
        & (Check.kind == "background")
        & (Check.result == "failed")
        & (Check.status == CredentialStatus.VERIFIED.value)
    )
    ends = [add_years(c["checked_on"], BLACKLIST_YEARS) for c in failed]
    for cause in BLACKLIST_CAUSES:
        if (until := await cause(worker_id)) is not None:
            ends.append(until)
    until = max(ends, default=None)
    current = found(await Worker.select(Worker.blacklisted_until).where(Worker.id == worker_id).first())
    if current["blacklisted_until"] != until:
        await Worker.update(
            {Worker.blacklisted_until: until, Worker.version: Worker.version + 1, Worker.updated_at: _now()}
        ).where(Worker.id == worker_id)
    return until


def _check_out(row: dict) -> dict:
    return {
        **_with_status(row, "valid_until"),
        "worker_id": row["worker"],
        "recorded_by_agency_id": row["recorded_by_agency"],
    }


async def list_checks(principal: Principal, worker_id: int, *, purpose: str = "", route: str = "") -> list[dict]:
    """Her health and background checks; every read of them is logged (with its purpose)."""
    worker = await _get_worker(worker_id)
    if relation(principal, worker) is None:
        raise NotFound("家政服务员不存在 (no such worker)")
    rows = await Check.select().where(Check.worker == worker_id).order_by(Check.id)
    kinds = {r["kind"] for r in rows}
    fields = [
        f
        for kind, f in (("background", SensitiveField.BACKGROUND_CHECK), ("health", SensitiveField.HEALTH_CHECK))
        if kind in kinds
    ]
    await record_reads(principal, worker_id, fields, purpose=purpose or DEFAULT_CHECK_PURPOSE, route=route)
    return [_check_out(r) for r in rows]


DEFAULT_CHECK_PURPOSE = "查看体检与背景审查 (reviewing her checks)"


CREDENTIAL_TABLES: dict[str, type[Training] | type[Certificate] | type[Check]] = {
    "trainings": Training,
    "certificates": Certificate,
    "checks": Check,
}
_PRESENTERS = {"certificates": _certificate_out, "checks": _check_out}


async def decide_credential(
    principal: Principal, worker_id: int, kind: str, credential_id: int, *, verified: bool, reason: str
) -> dict:
    """The bureau verifies or rejects a credential."""
    if not principal.is_admin:
        raise Forbidden()
    table = CREDENTIAL_TABLES[kind]
    row = await table.select().where((table.id == credential_id) & (table.worker == worker_id)).first()
    if row is None:
        raise NotFound("记录不存在 (no such record)")
    if row["status"] == CredentialStatus.REVOKED:
        raise Conflict("已吊销的证书不能再审核 (a revoked certificate cannot be reviewed)")
    status = CredentialStatus.VERIFIED if verified else CredentialStatus.REJECTED
    values: dict[Column | str, Any] = {table.status: status.value, table.status_reason: reason}
    # Who decided and when, for verifications and rejections alike.
    if kind == "trainings":
        if verified:
            await trainings.check_evidence(credential_id)
        values.update({Training.verified_by: principal.user_id, Training.verified_at: _now()})
    else:
        decided = Certificate if kind == "certificates" else Check
        values.update({decided.decided_by: principal.user_id, decided.decided_at: _now()})
    async with Worker._meta.db.transaction():
        changed = (
            await table.update(values)
            .where((table.id == credential_id) & (table.status != CredentialStatus.REVOKED.value))
            .returning(table.id)
        )
        if not changed:
            raise Conflict("已吊销的证书不能再审核 (a revoked certificate cannot be reviewed)")
        row = found(await table.select().where(table.id == credential_id).first())
        if kind == "checks":
            await recompute_blacklist(worker_id)
        await mark_changed(worker_id, f"{kind} decision")
        issuer = row.get("issuer", row.get("institution"))
        await credential_event(f"credential.{status.value}", kind.rstrip("s"), row, issuer)
    if kind == "trainings":
        return (await trainings.present([row]))[0]
    return _PRESENTERS[kind](row)


# What employers see ---------------------------------------------------------------------


async def credential_summary(worker_id: int) -> dict:
    on = today_local()
    certificates = (
        await Certificate.select(
            Certificate.kind,
            Certificate.occupation_code,
            Certificate.occupation_name,
            Certificate.work_type,
            Certificate.level,
        )
        .where((Certificate.worker == worker_id) & counts(Certificate))
        .order_by(Certificate.level)
    )
    health = await Check.select(Check.tier, Check.valid_until).where(
        (Check.worker == worker_id) & (Check.kind == "health") & counts(Check) & valid_on(Check, on)
    )
    best_health = strictest_health_report(health)
    background = await Check.exists().where(
        (Check.worker == worker_id) & (Check.kind == "background") & counts(Check) & valid_on(Check, on)
    )
    trainings = await Training.count().where((Training.worker == worker_id) & counts(Training))
    return {
        "certificates": certificates,
        "health": best_health,
        "background_check_passed": background,
        "trainings_completed": trainings,
    }
