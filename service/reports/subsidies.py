"""Subsidy claims and how they are priced, decided and paid; the bureau's targets and budgets.

A claim is made by the training institution for one verified, passed training of one
person. Its amount comes from the bureau's rules (data, not code): the most specific
active rule for the training's programme, type and level, valid on the day the training
finished, plus the rule's bonus for a level at or above `bonus_max_level` in one of its
listed (shortage) occupations. The claim keeps the rule and the arithmetic.

    claimed ─► approved ─► paid ─► recovered
       └────────┴──────► refused

Every transition records who and when (`subsidy_claim_event`). A claim with a confirmed
integrity flag is held: it cannot be approved or paid until the flag is dismissed.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from asyncpg.exceptions import UniqueViolationError

from service.accounts.guards import Principal, Role
from service.accounts.tables import Agency
from service.errors import Conflict, Forbidden, InvalidField, NotFound, found
from service.registry.counting import counts
from service.registry.domain import LEVELLED_CERTIFICATE_KINDS, today_local
from service.registry.tables import Programme, Training
from service.reports.tables import (
    IntegrityFlag,
    ProgrammeBudget,
    SubsidyClaim,
    SubsidyClaimEvent,
    SubsidyRule,
    Target,
)
from service.taxonomy.services import Taxonomy

TRANSITIONS = {
    "approved": {"claimed"},
    "paid": {"approved"},
    "refused": {"claimed", "approved"},
    "recovered": {"paid"},
}
HOLDING = {"approved", "paid"}


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def _programme_exists(code: str | None, field: str = "programme_code") -> None:
    if code is not None and not await Programme.exists().where(Programme.code == code):
        raise InvalidField(field, "未知的项目编码 (unknown programme code)")


# Rules -----------------------------------------------------------------------------------


async def create_rule(principal: Principal, data: dict[str, Any], *, taxonomy: Taxonomy) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    await _programme_exists(data.get("programme_code"))
    unknown = [c for c in data.get("bonus_occupations") or [] if c not in taxonomy.occupations]
    if unknown:
        raise InvalidField("bonus_occupations", f"未知的职业编码 (unknown occupation codes): {', '.join(unknown)}")
    if data.get("valid_until") and data["valid_until"] < data["valid_from"]:
        raise InvalidField("valid_until", "不能早于 valid_from (must not be before valid_from)")
    if data.get("bonus_occupations") is None:
        # Default: the occupations the taxonomy marks as in shortage.
        data["bonus_occupations"] = sorted(c for c, o in taxonomy.occupations.items() if o.get("shortage"))
    row = SubsidyRule(**data, created_by=principal.user_id)
    await row.save()
    return row.to_dict()


async def list_rules() -> list[dict]:
    return await SubsidyRule.select().order_by(SubsidyRule.id)


async def retire_rule(principal: Principal, rule_id: int) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    updated = (
        await SubsidyRule.update({SubsidyRule.active: False}).where(SubsidyRule.id == rule_id).returning(SubsidyRule.id)
    )
    if not updated:
        raise NotFound("补贴规则不存在 (no such rule)")
    return found(await SubsidyRule.select().where(SubsidyRule.id == rule_id).first())


_PRICE = """
    SELECT r.*, (r.programme_code IS NOT NULL)::int + (r.training_type IS NOT NULL)::int + (r.level IS NOT NULL)::int
           AS specificity
    FROM subsidy_rule r
    WHERE r.active AND r.valid_from <= {} AND (r.valid_until IS NULL OR r.valid_until >= {})
      AND (r.programme_code IS NULL OR r.programme_code = {})
      AND (r.training_type IS NULL OR r.training_type = {})
      AND (r.level IS NULL OR r.level = {})
    ORDER BY specificity DESC, r.valid_from DESC, r.id DESC
    LIMIT 1
"""


def price(rule: dict, *, level: int | None, occupation_code: str | None) -> tuple[int, dict]:
    bonus = (
        level is not None and level <= rule["bonus_max_level"] and occupation_code in (rule["bonus_occupations"] or [])
    )
    pct = rule["bonus_pct"] if bonus else 0
    amount = (rule["base_amount"] * (100 + pct) + 50) // 100  # whole yuan, half up
    return amount, {
        "rule_id": rule["id"],
        "rule_name": rule["name"],
        "base_amount": rule["base_amount"],
        "bonus_pct": pct,
        "level": level,
        "occupation_code": occupation_code,
        "amount": amount,
    }


# Claims ----------------------------------------------------------------------------------


async def create_claim(principal: Principal, training_id: int) -> dict:
    if principal.role != Role.TRAINING:
        raise Forbidden("补贴由培训机构申领 (subsidies are claimed by training institutions)")
    training = await Training.select().where(Training.id == training_id).first()
    if training is None or training["institution"] != principal.agency_id:
        raise NotFound("培训记录不存在 (no such training record)")
    if not await Training.exists().where((Training.id == training_id) & counts(Training)):
        raise Conflict("只能为已核验且结业合格的培训申领补贴 (only a verified, passed training can be claimed)")
    # The certificate this training led to: same person and occupation, issued after it began.
    certificate = None
    if training["occupation_code"]:
        found = await Training.raw(
            "SELECT id, level, kind FROM certificate WHERE worker = {} AND occupation_code = {} AND credential_counts(status) "
            "AND issued_on >= {} ORDER BY level NULLS LAST, issued_on LIMIT 1",
            training["worker"],
            training["occupation_code"],
            training["started_on"],
        )
        certificate = found[0] if found else None
    level = training["level"]
    if certificate and certificate["kind"] in LEVELLED_CERTIFICATE_KINDS and certificate["level"] is not None:
        level = certificate["level"]
    rules = await Training.raw(
        _PRICE,
        training["finished_on"],
        training["finished_on"],
        training["programme_code"],
        training["training_type"],
        level,
    )
    if not rules:
        raise Conflict("没有适用的补贴标准 (no subsidy rule applies to this training)")
    amount, pricing = price(rules[0], level=level, occupation_code=training["occupation_code"])
    pricing["certificate_id"] = certificate["id"] if certificate else None
    row = SubsidyClaim(
        institution=principal.agency_id,
        training=training_id,
        worker=training["worker"],
        programme_code=training["programme_code"],
        certificate=certificate["id"] if certificate else None,
        amount=amount,
        rule=rules[0]["id"],
        pricing=pricing,
        status="claimed",
        claimed_on=today_local(),
    )
    try:
        async with SubsidyClaim._meta.db.transaction():
            await row.save()
            await SubsidyClaimEvent(
                claim=row.id, from_status=None, to_status="claimed", by_agency=principal.agency_id
            ).save()
    except UniqueViolationError:
        raise Conflict(
            "该培训已申领补贴 (this training has already been claimed)", fields={"training_id": "already claimed"}
        ) from None
    return await get_claim(principal, row.id)


async def _held(claim_ids: list[int]) -> set[int]:
    if not claim_ids:
        return set()
    rows = await IntegrityFlag.select(IntegrityFlag.claim).where(
        IntegrityFlag.claim.is_in(claim_ids) & (IntegrityFlag.status == "confirmed")
    )
    return {r["claim"] for r in rows}


async def _present(rows: list[dict]) -> list[dict]:
    held = await _held([r["id"] for r in rows])
    return [
        {
            **r,
            "pricing": json.loads(r["pricing"]) if isinstance(r["pricing"], str) else r["pricing"],
            "institution_id": r["institution"],
            "training_id": r["training"],
            "worker_id": r["worker"],
            "certificate_id": r["certificate"],
            "rule_id": r["rule"],
            "held": r["id"] in held,
        }
        for r in rows
    ]


async def get_claim(principal: Principal, claim_id: int) -> dict:
    row = await SubsidyClaim.select().where(SubsidyClaim.id == claim_id).first()
    if row is None or not (principal.is_admin or principal.is_agency_of(row["institution"])):
        raise NotFound("补贴申领不存在 (no such claim)")
    out = (await _present([row]))[0]
    out["history"] = (
        await SubsidyClaimEvent.select().where(SubsidyClaimEvent.claim == claim_id).order_by(SubsidyClaimEvent.id)
    )
    return out


async def list_claims(
    principal: Principal, *, status: str | None, institution_id: int | None, limit: int, offset: int
) -> tuple[list[dict], int]:
    query, count = SubsidyClaim.select().order_by(SubsidyClaim.id), SubsidyClaim.count()
    clauses = []
    if principal.role == Role.TRAINING:
        clauses.append(SubsidyClaim.institution == principal.agency_id)
    elif not principal.is_admin:
        raise Forbidden()
    elif institution_id is not None:
        clauses.append(SubsidyClaim.institution == institution_id)
    if status:
        clauses.append(SubsidyClaim.status == status)
    for clause in clauses:
        query, count = query.where(clause), count.where(clause)
    return await _present(await query.limit(limit).offset(offset)), await count


async def decide_claim(principal: Principal, claim_id: int, *, to: str, reason: str) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    async with SubsidyClaim._meta.db.transaction():
        rows = await SubsidyClaim.raw("SELECT * FROM subsidy_claim WHERE id = {} FOR UPDATE", claim_id)
        if not rows:
            raise NotFound("补贴申领不存在 (no such claim)")
        claim = rows[0]
        if claim["status"] not in TRANSITIONS[to]:
            raise Conflict(
                f"状态为 {claim['status']} 的申领不能改为 {to} (this claim cannot move from {claim['status']} to {to})"
            )
        if to in HOLDING and claim_id in await _held([claim_id]):
            raise Conflict("该申领有已确认的诚信问题，暂停审批和支付 (held by a confirmed integrity flag)")
        await SubsidyClaim.update(
            {
                SubsidyClaim.status: to,
                SubsidyClaim.decided_by: principal.user_id,
                SubsidyClaim.decided_at: _now(),
                SubsidyClaim.decision_reason: reason,
            }
        ).where(SubsidyClaim.id == claim_id)
        await SubsidyClaimEvent(
            claim=claim_id, from_status=claim["status"], to_status=to, by_user=principal.user_id, reason=reason
        ).save()
    return await get_claim(principal, claim_id)


# Targets and budgets -----------------------------------------------------------------------


async def set_target(principal: Principal, data: dict[str, Any], *, taxonomy: Taxonomy) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    await _programme_exists(data.get("programme_code"))
    if data.get("district_code") and taxonomy.unknown_districts([data["district_code"]]):
        raise InvalidField("district_code", "未知的行政区划代码 (unknown district code)")
    if data.get("institution_id") is not None and not await Agency.exists().where(Agency.id == data["institution_id"]):
        raise InvalidField("institution_id", "机构不存在 (no such institution)")
    rows = await Target.raw(
        "INSERT INTO bureau_target (year, metric, programme_code, district_code, institution, target, updated_by) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}) ON CONFLICT ON CONSTRAINT bureau_target_once DO UPDATE "
        "SET target = EXCLUDED.target, updated_by = EXCLUDED.updated_by, updated_at = now() RETURNING *",
        data["year"],
        data["metric"],
        data.get("programme_code"),
        data.get("district_code"),
        data.get("institution_id"),
        data["target"],
        principal.user_id,
    )
    return {**rows[0], "institution_id": rows[0]["institution"]}


async def list_targets(year: int | None) -> list[dict]:
    query = Target.select().order_by(Target.id)
    if year is not None:
        query = query.where(Target.year == year)
    return [{**r, "institution_id": r["institution"]} for r in await query]


async def set_budget(principal: Principal, data: dict[str, Any]) -> dict:
    if not principal.is_admin:
        raise Forbidden()
    await _programme_exists(data["programme_code"])
    rows = await ProgrammeBudget.raw(
        "INSERT INTO programme_budget (year, programme_code, amount, updated_by) VALUES ({}, {}, {}, {}) "
        "ON CONFLICT ON CONSTRAINT programme_budget_once DO UPDATE "
        "SET amount = EXCLUDED.amount, updated_by = EXCLUDED.updated_by, updated_at = now() RETURNING *",
        data["year"],
        data["programme_code"],
        data["amount"],
        principal.user_id,
    )
    return rows[0]


async def list_budgets(year: int | None) -> list[dict]:
    query = ProgrammeBudget.select().order_by(ProgrammeBudget.id)
    if year is not None:
        query = query.where(ProgrammeBudget.year == year)
    return await query
