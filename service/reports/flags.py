"""Subsidy-integrity flags: rules that look for the fraud the bureau warns about.

Each rule is one SQL statement that finds suspicious facts and upserts a flag per finding
with its evidence. A finding is named by a fingerprint built from the ids it is about (the
training, the claim, the pair of people), so `(rule, fingerprint)` is unique: running the
check again finds the same evidence and only touches `last_seen_at` (and refreshes the
evidence when it grew); a bureau decision on the flag stays. Only probable duplicate
people need Python: PostgreSQL proposes pairs sharing a phone or a birth date, rapidfuzz
compares their names.

The check runs on demand (API), nightly in the housekeeping loop, and after each bulk
import (rosters, attendance batches). Runs do not overlap: a transaction-level advisory
lock serialises them across processes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cpdist

from service.accounts.guards import Principal
from service.database import pool_of
from service.errors import Conflict, Forbidden, NotFound, found
from service.registry.tables import Training
from service.reports.tables import IntegrityCheckRun, IntegrityFlag

log = logging.getLogger(__name__)

ADVISORY_LOCK = 0x4E594B46  # "NYKF"
MAX_DAILY_HOURS = 12
SHARED_PHONE_MIN = 3
GHOST_MIN_TRAINEES = 20
GHOST_RATIO = 0.25


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    sql: str  # SELECT fingerprint, worker, institution, claim, evidence (jsonb)


def _claim_of(training: str) -> str:
    return (
        f"(SELECT sc.id FROM subsidy_claim sc WHERE sc.training = {training} AND sc.status <> 'refused' "
        "ORDER BY sc.id LIMIT 1)"
    )


RULES = [
    Rule(
        "age_out_of_range",
        "开训时年龄不在16-60岁(男)/16-55岁(女)之间 (age outside 16-60 men / 16-55 women at the start)",
        f"""
        SELECT 't' || t.id, t.worker, t.institution, {_claim_of("t.id")},
               jsonb_build_object('training_id', t.id, 'started_on', t.started_on, 'gender', w.gender,
                                  'age', extract(year FROM age(t.started_on, w.birth_date))::int,
                                  'allowed', CASE WHEN w.gender = 'male' THEN '16-60' ELSE '16-55' END)
        FROM training t JOIN worker w ON w.id = t.worker
        WHERE extract(year FROM age(t.started_on, w.birth_date)) < 16
           OR extract(year FROM age(t.started_on, w.birth_date)) >= CASE WHEN w.gender = 'male' THEN 61 ELSE 56 END
    """,
    ),
    Rule(
        "repeat_claim",
        "同一人同一课程一年内重复培训并申领 (same person, same course, trained and claimed twice within a year)",
        """
        SELECT 'c' || c1.id || '-' || c2.id, c2.worker, c2.institution, c2.id,
               jsonb_build_object('first_claim_id', c1.id, 'second_claim_id', c2.id, 'course', t2.course,
                                  'first_training', jsonb_build_object('id', t1.id, 'started_on', t1.started_on,
                                                                       'institution_id', t1.institution),
                                  'second_training', jsonb_build_object('id', t2.id, 'started_on', t2.started_on,
                                                                        'institution_id', t2.institution))
        FROM subsidy_claim c1
        JOIN subsidy_claim c2 ON c2.worker = c1.worker AND c2.id > c1.id AND c2.status <> 'refused'
        JOIN training t1 ON t1.id = c1.training
        JOIN training t2 ON t2.id = c2.training
        WHERE c1.status <> 'refused'
          AND (t1.course = t2.course OR (t1.occupation_code = t2.occupation_code
                                         AND t1.level IS NOT DISTINCT FROM t2.level))
          AND abs(t2.started_on - t1.started_on) < 365
    """,
    ),
    Rule(
        "overlapping_sessions",
        "同一人同一时段在两家机构上课 (overlapping sessions at two institutions)",
        """
        WITH s AS (
            SELECT s.id, s.on_date, s.starts_at, s.ends_at, t.id AS training, t.worker, t.institution
            FROM training_session s JOIN training t ON t.id = s.training
        )
        SELECT 's' || a.id || '-' || b.id, a.worker, b.institution, """
        + _claim_of("b.training")
        + """,
               jsonb_build_object('on_date', a.on_date,
                                  'first', jsonb_build_object('session_id', a.id, 'training_id', a.training,
                                                              'institution_id', a.institution,
                                                              'time', a.starts_at::text || '-' || a.ends_at::text),
                                  'second', jsonb_build_object('session_id', b.id, 'training_id', b.training,
                                                               'institution_id', b.institution,
                                                               'time', b.starts_at::text || '-' || b.ends_at::text))
        FROM s a JOIN s b ON b.worker = a.worker AND b.on_date = a.on_date AND b.id > a.id
                         AND b.institution IS DISTINCT FROM a.institution
                         AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
    """,
    ),
    Rule(
        "attendance_after_certificate",
        "取得证书后仍有该课程的出勤 (attendance after the certificate the course leads to)",
        """
        SELECT 't' || t.id || '-c' || c.id, t.worker, t.institution, """
        + _claim_of("t.id")
        + """,
               jsonb_build_object('training_id', t.id, 'certificate_id', c.id, 'issued_on', c.issued_on,
                                  'sessions_after', count(s.id), 'last_session', max(s.on_date))
        FROM training t
        JOIN certificate c ON c.worker = t.worker AND c.occupation_code = t.occupation_code AND c.status <> 'revoked'
                          AND c.level IS NOT DISTINCT FROM t.level AND c.issued_on >= t.started_on
        JOIN training_session s ON s.training = t.id AND s.on_date > c.issued_on
        GROUP BY t.id, c.id
    """,
    ),
    Rule(
        "impossible_attendance",
        "出勤日期不可能：超出培训起止日期或一天超过12小时 (sessions outside the course dates or over 12 hours a day)",
        f"""
        SELECT 't' || t.id || '-outside', t.worker, t.institution, {_claim_of("t.id")},
               jsonb_build_object('training_id', t.id, 'started_on', t.started_on, 'finished_on', t.finished_on,
                                  'sessions_outside', count(*), 'dates', jsonb_agg(DISTINCT s.on_date))
        FROM training t JOIN training_session s ON s.training = t.id
        WHERE s.on_date < t.started_on OR s.on_date > coalesce(t.finished_on, s.on_date)
        GROUP BY t.id
        UNION ALL
        SELECT 'w' || t.worker || '-' || s.on_date, t.worker, min(t.institution), NULL::int,
               jsonb_build_object('on_date', s.on_date, 'hours', sum(s.hours), 'sessions', count(*),
                                  'training_ids', jsonb_agg(DISTINCT t.id))
        FROM training t JOIN training_session s ON s.training = t.id
        GROUP BY t.worker, s.on_date HAVING sum(s.hours) > {MAX_DAILY_HOURS}
    """,
    ),
    Rule(
        "certificate_out_of_scope",
        "发证机构未备案该职业或备案不在有效期 (certificate from an institution not registered for the occupation)",
        """
        SELECT 'c' || c.id, c.worker, c.issuer, NULL::int,
               jsonb_build_object('certificate_id', c.id, 'certificate_no', c.certificate_no,
                                  'occupation_code', c.occupation_code, 'issued_on', c.issued_on, 'kind', c.kind,
                                  'registrations', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                        'registration_no', r.registration_no, 'status', r.status,
                                        'valid_from', r.valid_from, 'valid_until', r.valid_until,
                                        'occupation_codes', r.occupation_codes))
                                      FROM evaluator_registration r WHERE r.agency = c.issuer), '[]'::jsonb))
        FROM certificate c
        WHERE c.kind IN ('skill_level', 'special_ability') AND c.status <> 'revoked'
          AND NOT EXISTS (SELECT 1 FROM evaluator_registration r
                          WHERE r.agency = c.issuer AND r.status = 'active' AND c.occupation_code = ANY (r.occupation_codes)
                            AND c.issued_on BETWEEN r.valid_from AND r.valid_until)
    """,
    ),
    Rule(
        "certificate_before_training_end",
        "证书早于培训结业日期 (certificate issued before the training ended)",
        f"""
        SELECT 't' || t.id || '-c' || c.id, t.worker, t.institution, {_claim_of("t.id")},
               jsonb_build_object('training_id', t.id, 'certificate_id', c.id, 'started_on', t.started_on,
                                  'finished_on', t.finished_on, 'issued_on', c.issued_on)
        FROM training t
        JOIN certificate c ON c.worker = t.worker AND c.occupation_code = t.occupation_code AND c.status <> 'revoked'
                          AND c.level IS NOT DISTINCT FROM t.level
        JOIN subsidy_claim sc ON sc.training = t.id AND sc.certificate = c.id AND sc.status <> 'refused'
        WHERE c.issued_on < t.finished_on
    """,
    ),
    Rule(
        "late_claim",
        "取证超过12个月后才申领 (claim made more than 12 months after the certificate)",
        """
        SELECT 'c' || sc.id, sc.worker, sc.institution, sc.id,
               jsonb_build_object('claim_id', sc.id, 'claimed_on', sc.claimed_on, 'certificate_id', c.id,
                                  'issued_on', c.issued_on, 'months', (sc.claimed_on - c.issued_on) / 30)
        FROM subsidy_claim sc JOIN certificate c ON c.id = sc.certificate
        WHERE sc.status <> 'refused' AND sc.claimed_on > (c.issued_on + interval '12 months')::date
    """,
    ),
    Rule(
        "over_budget",
        "申领使项目全年申领额超出预算 (claim takes the programme over its budget)",
        """
        WITH running AS (
            SELECT sc.id, sc.worker, sc.institution, sc.programme_code, sc.amount, sc.claimed_on,
                   extract(year FROM sc.claimed_on)::int AS year,
                   sum(sc.amount) OVER (PARTITION BY sc.programme_code, extract(year FROM sc.claimed_on)
                                        ORDER BY sc.claimed_at, sc.id) AS cumulative
            FROM subsidy_claim sc WHERE sc.status <> 'refused'
        )
        SELECT 'c' || r.id, r.worker, r.institution, r.id,
               jsonb_build_object('claim_id', r.id, 'programme_code', r.programme_code, 'year', r.year,
                                  'amount', r.amount, 'cumulative', r.cumulative, 'budget', b.amount)
        FROM running r JOIN programme_budget b ON b.programme_code = r.programme_code AND b.year = r.year
        WHERE r.cumulative > b.amount
    """,
    ),
    Rule(
        "shared_phone",
        f"同一手机号登记了 {SHARED_PHONE_MIN} 名以上学员 (one phone shared by many trainees)",
        f"""
        SELECT 'p' || md5(w.phone), NULL::int, NULL::int, NULL::int,
               jsonb_build_object('phone', left(w.phone, 3) || '****' || right(w.phone, 4),
                                  'workers', jsonb_agg(DISTINCT w.id ORDER BY w.id),
                                  'institutions', jsonb_agg(DISTINCT t.institution) FILTER (WHERE t.institution IS NOT NULL))
        FROM worker w JOIN training t ON t.worker = w.id
        WHERE w.erased_at IS NULL
        GROUP BY w.phone HAVING count(DISTINCT w.id) >= {SHARED_PHONE_MIN}
    """,
    ),
    Rule(
        "ghost_trainees",
        "机构学员几乎无人取证或就业，远低于本区县水平 (an institution's trainees almost never reach a certificate or a job)",
        f"""
        WITH outcome AS (
            SELECT t.institution, a.district_code,
                   EXISTS (SELECT 1 FROM certificate c WHERE c.worker = t.worker AND c.status = 'verified'
                           AND c.issued_on >= t.started_on)
                   OR EXISTS (SELECT 1 FROM placement p WHERE p.worker = t.worker AND p.start_date >= t.started_on)
                   AS reached
            FROM training t JOIN agency a ON a.id = t.institution
            WHERE t.finished_on IS NOT NULL AND t.finished_on <= current_date - 90
        ), by_institution AS (
            SELECT institution, district_code, count(*) AS trainees, count(*) FILTER (WHERE reached) AS reached
            FROM outcome GROUP BY institution, district_code
        ), by_district AS (
            SELECT district_code, sum(reached)::float / sum(trainees) AS rate FROM by_institution GROUP BY district_code
        )
        SELECT 'a' || i.institution, NULL::int, i.institution, NULL::int,
               jsonb_build_object('institution_id', i.institution, 'district_code', i.district_code,
                                  'trainees', i.trainees, 'reached', i.reached,
                                  'rate', round((i.reached::float / i.trainees)::numeric, 4),
                                  'district_rate', round(d.rate::numeric, 4))
        FROM by_institution i JOIN by_district d ON d.district_code = i.district_code
        WHERE i.trainees >= {GHOST_MIN_TRAINEES} AND i.reached::float / i.trainees < {GHOST_RATIO} * d.rate
    """,
    ),
]
DUPLICATE_PEOPLE = Rule(
    "duplicate_person", "疑似同一人用不同身份证号：姓名几乎相同且手机号或出生日期相同 (probable duplicate people)", ""
)
RULE_NAMES = {r.code: r.name for r in [*RULES, DUPLICATE_PEOPLE]}

_UPSERT = """
    INSERT INTO integrity_flag (rule, fingerprint, worker, institution, claim, evidence)
    SELECT {rule}, f.fingerprint, f.worker, f.institution, f.claim, f.evidence
    FROM ({select}) AS f (fingerprint, worker, institution, claim, evidence)
    ON CONFLICT ON CONSTRAINT integrity_flag_once DO UPDATE
        SET last_seen_at = now(), evidence = EXCLUDED.evidence,
            claim = coalesce(integrity_flag.claim, EXCLUDED.claim)
    RETURNING (xmax = 0) AS inserted
"""

# Two equi-joins (same phone; same birth date, gender and first character of the name),
# not one join on an OR, so PostgreSQL can hash them.
_PAIRS = """
    WITH trainees AS (
        SELECT w.id, w.phone, w.birth_date, w.gender, left(w.real_name, 1) AS initial FROM worker w
        WHERE EXISTS (SELECT 1 FROM training t WHERE t.worker = w.id) AND w.erased_at IS NULL
    ), pairs AS (
        SELECT a.id AS a, b.id AS b FROM trainees a JOIN trainees b ON b.phone = a.phone AND b.id > a.id
        UNION
        SELECT a.id, b.id FROM trainees a
        JOIN trainees b ON b.birth_date = a.birth_date AND b.gender = a.gender AND b.initial = a.initial AND b.id > a.id
    )
    SELECT a.id AS a, b.id AS b, a.real_name AS a_name, b.real_name AS b_name,
           a.phone = b.phone AS same_phone, a.birth_date = b.birth_date AS same_birth_date,
           a.id_number_masked AS a_masked, b.id_number_masked AS b_masked
    FROM pairs JOIN worker a ON a.id = pairs.a JOIN worker b ON b.id = pairs.b
    WHERE a.id_number_index <> b.id_number_index
"""


async def _upsert(connection, rule: str, select: str) -> tuple[int, int]:
    rows = await connection.fetch(_UPSERT.replace("{select}", select).replace("{rule}", "$1"), rule)
    return len(rows), sum(1 for r in rows if r["inserted"])


async def _duplicate_people(connection) -> tuple[int, int]:
    pairs = await connection.fetch(_PAIRS)
    if not pairs:
        return 0, 0
    distances = cpdist([p["a_name"] for p in pairs], [p["b_name"] for p in pairs], scorer=Levenshtein.distance)
    found = [(p, int(d)) for p, d in zip(pairs, distances) if d <= 1 and len(p["a_name"]) >= 2]
    if not found:
        return 0, 0
    fingerprints = [f"w{p['a']}-{p['b']}" for p, _ in found]
    evidence = [
        json.dumps(
            {
                "workers": [p["a"], p["b"]],
                "names": [p["a_name"], p["b_name"]],
                "id_numbers": [p["a_masked"], p["b_masked"]],
                "name_distance": d,
                "same_phone": p["same_phone"],
                "same_birth_date": p["same_birth_date"],
            },
            ensure_ascii=False,
        )
        for p, d in found
    ]
    workers = [p["b"] for p, _ in found]
    select = (
        "SELECT fp, w, NULL::int, NULL::int, ev::jsonb FROM unnest($2::text[], $3::int[], $4::text[]) AS x (fp, w, ev)"
    )
    rows = await connection.fetch(
        _UPSERT.replace("{select}", select).replace("{rule}", "$1"),
        DUPLICATE_PEOPLE.code,
        fingerprints,
        workers,
        evidence,
    )
    return len(rows), sum(1 for r in rows if r["inserted"])


async def run_check(trigger: str) -> dict:
    """Run every rule once; answers the run with the flags seen and new, by rule."""
    run = IntegrityCheckRun(trigger=trigger)
    await run.save()
    seen = new = 0
    by_rule: dict[str, int] = {}
    async with pool_of(Training).acquire() as connection:
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK)
            await connection.execute("SET LOCAL work_mem = '64MB'")
            for rule in RULES:
                s, n = await _upsert(connection, rule.code, rule.sql)
                seen, new, by_rule[rule.code] = seen + s, new + n, s
            s, n = await _duplicate_people(connection)
            seen, new, by_rule[DUPLICATE_PEOPLE.code] = seen + s, new + n, s
    await IntegrityCheckRun.update(
        {
            IntegrityCheckRun.finished_at: datetime.now(timezone.utc),
            IntegrityCheckRun.flags_seen: seen,
            IntegrityCheckRun.flags_new: new,
        }
    ).where(IntegrityCheckRun.id == run.id)
    row = found(await IntegrityCheckRun.select().where(IntegrityCheckRun.id == run.id).first())
    return {**row, "by_rule": by_rule}


class CheckScheduler:
    """Runs the check after imports without making the importer wait, one run at a time;
    imports arriving during a run ask for one more run afterwards."""

    def __init__(self) -> None:
        self._task: asyncio.Task | None = None
        self._again = False

    def request(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._run(), name="integrity-check")

    async def _run(self) -> None:
        while True:
            self._again = False
            try:
                await run_check("import")
            except Exception:  # noqa: BLE001 - logged; the nightly run catches up
                log.exception("integrity check after import failed")
            if not self._again:
                return

    async def idle(self) -> None:
        """Wait until no run is pending (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await self._task

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


# Reading and deciding ---------------------------------------------------------------------


def present(row: dict) -> dict:
    evidence = row["evidence"]
    if isinstance(evidence, str):
        evidence = json.loads(evidence)
    return {
        **row,
        "evidence": evidence,
        "rule_name": RULE_NAMES.get(row["rule"], row["rule"]),
        "worker_id": row["worker"],
        "institution_id": row["institution"],
        "claim_id": row["claim"],
    }


async def list_flags(
    principal: Principal, *, rule: str | None, status: str | None, institution_id: int | None, limit: int, offset: int
) -> tuple[list[dict], int]:
    """The bureau sees every flag; an institution only confirmed flags that concern it."""
    clauses = []
    if principal.is_agency:
        clauses += [IntegrityFlag.institution == principal.agency_id, IntegrityFlag.status == "confirmed"]
    elif not principal.is_admin:
        raise Forbidden()
    else:
        if status:
            clauses.append(IntegrityFlag.status == status)
        if institution_id is not None:
            clauses.append(IntegrityFlag.institution == institution_id)
    if rule:
        clauses.append(IntegrityFlag.rule == rule)
    query, count = IntegrityFlag.select().order_by(IntegrityFlag.id), IntegrityFlag.count()
    for clause in clauses:
        query, count = query.where(clause), count.where(clause)
    return [present(r) for r in await query.limit(limit).offset(offset)], await count


async def get_flag(principal: Principal, flag_id: int) -> dict:
    row = await IntegrityFlag.select().where(IntegrityFlag.id == flag_id).first()
    visible = row is not None and (
        principal.is_admin or (principal.is_agency_of(row["institution"]) and row["status"] == "confirmed")
    )
    if row is None or not visible:
        raise NotFound("诚信问题不存在 (no such flag)")
    return present(row)


async def decide_flag(principal: Principal, flag_id: int, *, decision: str, reason: str) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    changed = (
        await IntegrityFlag.update(
            {
                IntegrityFlag.status: decision,
                IntegrityFlag.decision_reason: reason,
                IntegrityFlag.decided_by: principal.user_id,
                IntegrityFlag.decided_at: datetime.now(timezone.utc),
            }
        )
        .where((IntegrityFlag.id == flag_id) & (IntegrityFlag.status != decision))
        .returning(IntegrityFlag.id)
    )
    if not changed:
        row = await IntegrityFlag.select(IntegrityFlag.status).where(IntegrityFlag.id == flag_id).first()
        if row is None:
            raise NotFound("诚信问题不存在 (no such flag)")
        raise Conflict(f"该问题已是 {decision} 状态 (the flag is already {decision})")
    return await get_flag(principal, flag_id)
