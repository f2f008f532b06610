"""Training records: coded programmes and types, their evidence, and how they become verified.

A training pushed by an institution is a claim, not a fact: it stays `pending` until its
evidence is in (attendance sessions with dates and times; the institution's roster for the
class naming the person) and then either the bureau verifies it, or the bureau's rule does
(`training_verification_rule`: attended hours ≥ ratio × course hours, a roster if required).
Only verified, passed trainings count anywhere else (the matcher's bonus, the integrity
rating, the reports), and they read that from the `status` column alone.

A roster names people by their ID numbers; only their blind index is stored.
"""

from __future__ import annotations

from datetime import datetime, time, timezone
from decimal import Decimal
from typing import Any

from asyncpg.exceptions import UniqueViolationError

from service.accounts.guards import Principal, Role
from service.accounts.tables import Agency
from service.errors import Conflict, Forbidden, InvalidField, NotFound, found
from service.registry.domain import (
    TRAINING_TYPE_NAMES,
    CredentialStatus,
    IdNumberError,
    TrainingType,
    parse_id_number,
    today_local,
)
from service.registry.tables import (
    Programme,
    Training,
    TrainingRoster,
    TrainingRosterEntry,
    TrainingSession,
    TrainingVerificationRule,
)
from service.security import IdNumberCipher
from service.taxonomy.services import Taxonomy

# Called with (kind, institution_id) after a bulk import (a roster, a batch of sessions)
# has committed: the reports domain re-runs its subsidy-integrity check here.
AFTER_IMPORT_HOOKS: list = []

AUTO_VERIFIED_REASON = (
    "按局核验规则自动核验：出勤学时达标且在花名册上 (verified by the bureau's rule: hours attended and on the roster)"
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


# Programmes ----------------------------------------------------------------------------


async def list_programmes() -> list[dict]:
    return await Programme.select().order_by(Programme.id)


async def create_programme(principal: Principal, data: dict[str, Any]) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    row = Programme(code=data["code"], name_zh=data["name_zh"], aliases=list(dict.fromkeys(data.get("aliases") or [])))
    try:
        await row.save()
    except UniqueViolationError:
        raise Conflict(
            "项目编码或名称已存在 (a programme with this code or name exists)", fields={"code": "already exists"}
        ) from None
    return row.to_dict()


async def programme_names() -> dict[str, str]:
    return {r["code"]: r["name_zh"] for r in await Programme.select(Programme.code, Programme.name_zh)}


# Evidence and presentation ---------------------------------------------------------------

_EVIDENCE = """
    SELECT t.id,
           coalesce(s.hours, 0)::float AS attended_hours,
           coalesce(s.sessions, 0)::int AS sessions,
           EXISTS (SELECT 1 FROM training_roster r JOIN training_roster_entry e ON e.roster = r.id
                   WHERE r.institution = t.institution AND r.course = t.course AND r.started_on = t.started_on
                     AND e.id_number_index = w.id_number_index) AS on_roster
    FROM training t
    JOIN worker w ON w.id = t.worker
    LEFT JOIN (SELECT training, sum(hours) AS hours, count(*) AS sessions FROM training_session GROUP BY training) s
           ON s.training = t.id
"""


async def evidence_of(training_ids: list[int]) -> dict[int, dict]:
    if not training_ids:
        return {}
    rows = await Training.raw(_EVIDENCE + " WHERE t.id = ANY({})", training_ids)
    return {r["id"]: r for r in rows}


async def present(rows: list[dict]) -> list[dict]:
    evidence = await evidence_of([r["id"] for r in rows])
    names = await programme_names()
    out = []
    for row in rows:
        ev = evidence.get(row["id"], {"attended_hours": 0.0, "sessions": 0, "on_roster": False})
        kind = row["training_type"]
        out.append(
            {
                **row,
                "worker_id": row["worker"],
                "institution_id": row["institution"],
                "programme": row["programme_code"],
                "programme_name": names.get(row["programme_code"], row["programme_code"]),
                "training_type_name": TRAINING_TYPE_NAMES.get(TrainingType(kind)) if kind else None,
                "attended_hours": ev["attended_hours"],
                "sessions": ev["sessions"],
                "on_roster": ev["on_roster"],
            }
        )
    return out


# Trainings -----------------------------------------------------------------------------


async def add_training(principal: Principal, worker_id: int, data: dict[str, Any], *, taxonomy: Taxonomy) -> dict:
    """Record a training; it starts pending. The caller has already proved she knows the person."""
    if principal.role == Role.TRAINING:
        institution = principal.agency_id
        if data.get("institution_id") not in (None, institution):
            raise InvalidField("institution_id", "培训机构只能登记本机构的培训 (must be your own institution)")
    elif principal.is_admin:
        institution = data.get("institution_id")
        if institution is not None and not await Agency.exists().where(
            (Agency.id == institution) & (Agency.kind == Role.TRAINING.value)
        ):
            raise InvalidField("institution_id", "不是已登记的培训机构 (not a registered training institution)")
    else:
        raise Forbidden()
    programme = (
        await Programme.select(Programme.code, Programme.active).where(Programme.code == data["programme"]).first()
    )
    if programme is None or not programme["active"]:
        raise InvalidField("programme", "未知或已停用的项目编码 (unknown or retired programme code)")
    if data.get("occupation_code") is not None:
        occupation = taxonomy.occupations.get(data["occupation_code"])
        if occupation is None:
            raise InvalidField("occupation_code", "未知的职业编码 (unknown occupation code)")
        if data.get("level") is not None and data["level"] not in occupation["levels"]:
            raise InvalidField(
                "level", f"{occupation['name_zh']} 的等级为 {occupation['levels']} (levels of this occupation)"
            )
    elif data.get("level") is not None:
        raise InvalidField("level", "注明等级时须注明职业编码 (a level needs its occupation_code)")
    for field in ("started_on", "finished_on"):
        if data.get(field) and data[field] > today_local():
            raise InvalidField(field, "不能晚于今天 (must not be in the future)")
    if data.get("finished_on") and data["finished_on"] < data["started_on"]:
        raise InvalidField("finished_on", "不能早于开始日期 (must not be before started_on)")
    if data["result"] != "in_progress" and not data.get("finished_on"):
        raise InvalidField("finished_on", "结业结果需要结业日期 (a result needs the finishing date)")
    row = Training(
        worker=worker_id,
        programme_code=data["programme"],
        training_type=data["training_type"],
        course=data["course"],
        occupation_code=data.get("occupation_code"),
        level=data.get("level"),
        institution=institution,
        hours=data["hours"],
        started_on=data["started_on"],
        finished_on=data.get("finished_on"),
        result=data["result"],
        status=CredentialStatus.PENDING.value,
    )
    await row.save()
    # A roster uploaded before the record may already complete its evidence.
    await auto_verify([row.id])
    return (await present([await _training(row.id)]))[0]


async def _training(training_id: int) -> dict:
    return found(await Training.select().where(Training.id == training_id).first())


async def list_trainings(query) -> list[dict]:
    return await present(await query)


async def _own_training(principal: Principal, worker_id: int, training_id: int) -> dict:
    row = await Training.select().where((Training.id == training_id) & (Training.worker == worker_id)).first()
    if row is None or not (
        principal.is_admin or (principal.role == Role.TRAINING and row["institution"] == principal.agency_id)
    ):
        raise NotFound("培训记录不存在 (no such training record)")
    return row


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


async def add_sessions(principal: Principal, worker_id: int, training_id: int, sessions: list[dict]) -> list[dict]:
    """Record attended sessions of a pending training (all or none)."""
    training = await _own_training(principal, worker_id, training_id)
    if training["status"] != CredentialStatus.PENDING:
        raise Conflict("培训记录已审核，不能再补录出勤 (the record is already decided)")
    rows = []
    for i, session in enumerate(sessions):
        if session["on_date"] > today_local():
            raise InvalidField(f"sessions[{i}].on_date", "不能晚于今天 (must not be in the future)")
        starts, ends = _clock(session["starts_at"]), _clock(session["ends_at"])
        if ends <= starts:
            raise InvalidField(f"sessions[{i}].ends_at", "须晚于开始时间 (must be after starts_at)")
        rows.append(TrainingSession(training=training_id, on_date=session["on_date"], starts_at=starts, ends_at=ends))
    try:
        async with Training._meta.db.transaction():
            await TrainingSession.insert(*rows)
    except UniqueViolationError:
        raise Conflict(
            "同一时段的出勤已登记 (a session at this date and time is already recorded)",
            fields={"sessions": "duplicate session"},
        ) from None
    await auto_verify([training_id])
    await after_import("sessions", training["institution"])
    return await list_sessions(principal, worker_id, training_id)


async def list_sessions(principal: Principal, worker_id: int, training_id: int) -> list[dict]:
    await _own_training(principal, worker_id, training_id)
    return await TrainingSession.raw(
        "SELECT id, on_date, to_char(starts_at, 'HH24:MI') AS starts_at, to_char(ends_at, 'HH24:MI') AS ends_at, "
        "hours::float AS hours FROM training_session WHERE training = {} ORDER BY on_date, starts_at",
        training_id,
    )


async def upload_roster(principal: Principal, data: dict[str, Any], *, cipher: IdNumberCipher) -> dict:
    """The class list of a course: the ID numbers of everyone enrolled."""
    if principal.role != Role.TRAINING:
        raise Forbidden("花名册由培训机构上传 (rosters are uploaded by training institutions)")
    indexes, every_version = [], []
    for i, raw in enumerate(data["id_numbers"]):
        try:
            normalised, _, _ = parse_id_number(raw)
        except IdNumberError as exc:
            raise InvalidField(f"id_numbers[{i}]", str(exc)) from None
        indexes.append(cipher.blind_index(normalised))
        every_version.extend(cipher.blind_indexes(normalised))
    indexes = list(dict.fromkeys(indexes))
    async with Training._meta.db.transaction():
        roster = TrainingRoster(
            institution=principal.agency_id, course=data["course"], started_on=data["started_on"], size=len(indexes)
        )
        await roster.save()
        await TrainingRosterEntry.insert(*[TrainingRosterEntry(roster=roster.id, id_number_index=ix) for ix in indexes])
    pending = await Training.raw(
        "SELECT t.id FROM training t JOIN worker w ON w.id = t.worker "
        "WHERE t.institution = {} AND t.course = {} AND t.started_on = {} AND w.id_number_index = ANY({})",
        principal.agency_id,
        data["course"],
        data["started_on"],
        every_version,
    )
    verified = await auto_verify([r["id"] for r in pending])
    await after_import("roster", principal.agency_id)
    return {
        **roster.to_dict(),
        "institution_id": principal.agency_id,
        "registered_trainees": len(pending),
        "verified_now": len(verified),
    }


async def after_import(kind: str, institution_id: int | None) -> None:
    for hook in AFTER_IMPORT_HOOKS:
        await hook(kind, institution_id)


# Verification --------------------------------------------------------------------------


async def verification_rule() -> dict:
    row = await TrainingVerificationRule.select().where(TrainingVerificationRule.id == 1).first()
    return row or {"auto_verify": False, "min_attendance_ratio": 1.0, "require_roster": True, "updated_at": _now()}


async def set_verification_rule(principal: Principal, data: dict[str, Any]) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    await TrainingVerificationRule.raw(
        "INSERT INTO training_verification_rule (id, auto_verify, min_attendance_ratio, require_roster, updated_by) "
        "VALUES (1, {}, {}, {}, {}) ON CONFLICT (id) DO UPDATE SET auto_verify = EXCLUDED.auto_verify, "
        "min_attendance_ratio = EXCLUDED.min_attendance_ratio, require_roster = EXCLUDED.require_roster, "
        "updated_by = EXCLUDED.updated_by, updated_at = now()",
        data["auto_verify"],
        Decimal(str(data["min_attendance_ratio"])),
        data["require_roster"],
        principal.user_id,
    )
    return await verification_rule()


async def auto_verify(training_ids: list[int]) -> list[int]:
    """Verify, by the bureau's rule, those of these pending, finished trainings whose evidence
    is complete. Returns the ids verified."""
    if not training_ids:
        return []
    from service.registry.services import credential_event, mark_changed  # the registry's hooks

    async with Training._meta.db.transaction():
        verified = await Training.raw(
            "UPDATE training t SET status = 'verified', status_reason = {}, verified_at = now() "
            "FROM (" + _EVIDENCE + " WHERE t.id = ANY({})) ev, training_verification_rule rule "
            "WHERE t.id = ev.id AND rule.id = 1 AND rule.auto_verify AND t.status = 'pending' "
            "AND t.finished_on IS NOT NULL AND ev.attended_hours >= t.hours * rule.min_attendance_ratio "
            "AND (ev.on_roster OR NOT rule.require_roster) RETURNING t.*",
            AUTO_VERIFIED_REASON,
            training_ids,
        )
        for row in verified:
            await mark_changed(row["worker"], "training verified")
            await credential_event("credential.verified", "training", row, row["institution"])
    return [r["id"] for r in verified]


async def check_evidence(training_id: int) -> None:
    """The bureau verifies only a training whose evidence is in: sessions and the roster."""
    evidence = (await evidence_of([training_id]))[training_id]
    missing = []
    if not evidence["sessions"]:
        missing.append("出勤记录 (attendance sessions)")
    if not evidence["on_roster"]:
        missing.append("花名册 (the institution's roster naming her)")
    if missing:
        raise Conflict(
            "培训证据不全，暂不能核验：缺少 " + "、".join(missing) + " (evidence missing)", extra={"missing": missing}
        )


async def pending_trainings(principal: Principal, *, limit: int, offset: int) -> tuple[list[dict], int]:
    """The bureau's queue: pending trainings, oldest first."""
    if not principal.is_admin:
        raise Forbidden()
    where = Training.status == CredentialStatus.PENDING.value
    rows = await Training.select().where(where).order_by(Training.id).limit(limit).offset(offset)
    return await present(rows), await Training.count().where(where)
