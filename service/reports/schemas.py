from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from service.schemas import TEXT, BodyId, DistrictCode, Input, Output, Page, RuleDate

ProgrammeCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,31}$", examples=["nanyue_jiazheng"])]
OccupationCode = Annotated[str, msgspec.Meta(pattern=r"^\d-\d{2}-\d{2}-\d{2}$", examples=["4-10-01-06"])]
TrainingTypeCode = Literal["employment_skills", "skill_upgrade", "entrepreneurship", "job_adaptation", "apprenticeship"]
Year = Annotated[int, msgspec.Meta(ge=2000, le=2100)]
Reason = Annotated[str, msgspec.Meta(max_length=500, pattern=TEXT)]


class SubsidyRuleCreate(Input, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["南粤家政 就业技能培训 五级"])]
    programme_code: ProgrammeCode | None = None
    training_type: TrainingTypeCode | None = None
    level: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None
    base_amount: Annotated[int, msgspec.Meta(ge=0, le=100_000, description="元 (yuan)")]
    bonus_pct: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0
    bonus_max_level: Annotated[int, msgspec.Meta(ge=1, le=5)] = 3
    bonus_occupations: (
        Annotated[
            list[OccupationCode],
            msgspec.Meta(
                max_length=100,
                description="紧缺职业；不填则取职业目录中标为紧缺的 (default: the taxonomy's shortage occupations)",
            ),
        ]
        | None
    ) = None
    valid_from: RuleDate
    valid_until: RuleDate | None = None


class SubsidyRuleOut(Output, kw_only=True):
    id: int
    name: str
    programme_code: str | None
    training_type: str | None
    level: int | None
    base_amount: int
    bonus_pct: int
    bonus_max_level: int
    bonus_occupations: list[str]
    valid_from: date
    valid_until: date | None
    active: bool
    created_at: datetime


class ClaimCreate(Input, kw_only=True):
    training_id: BodyId


class ClaimEvent(Output, kw_only=True):
    from_status: str | None
    to_status: str
    by_user: int | None
    by_agency: int | None
    reason: str
    at: datetime


class ClaimOut(Output, kw_only=True):
    id: int
    institution_id: int
    training_id: int
    worker_id: int
    programme_code: str
    certificate_id: int | None
    amount: int
    rule_id: int | None
    pricing: dict[str, Any]
    status: str
    held: bool
    claimed_on: date
    claimed_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    decision_reason: str
    history: list[ClaimEvent] = []


class ClaimPage(Page):
    items: list[ClaimOut]


class ClaimDecision(Input, kw_only=True):
    status: Literal["approved", "paid", "refused", "recovered"]
    reason: Reason = ""


class TargetSet(Input, kw_only=True):
    year: Year
    metric: Literal["trained", "certified", "placed", "senior"]
    programme_code: ProgrammeCode | None = None
    district_code: DistrictCode | None = None
    institution_id: BodyId | None = None
    target: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)]


class TargetOut(Output, kw_only=True):
    id: int
    year: int
    metric: str
    programme_code: str | None
    district_code: str | None
    institution_id: int | None
    target: int
    updated_at: datetime


class BudgetSet(Input, kw_only=True):
    year: Year
    programme_code: ProgrammeCode
    amount: Annotated[int, msgspec.Meta(ge=0, le=100_000_000_000, description="元 (yuan)")]


class BudgetOut(Output, kw_only=True):
    id: int
    year: int
    programme_code: str
    amount: int
    updated_at: datetime


class ReportColumn(Output, kw_only=True):
    key: str
    label: str


class Report(Output, kw_only=True):
    report: str
    date_from: date
    date_to: date
    group_by: list[str]
    columns: list[ReportColumn]
    rows: list[dict[str, Any]]


class FlagOut(Output, kw_only=True):
    id: int
    rule: str
    rule_name: str
    worker_id: int | None
    institution_id: int | None
    claim_id: int | None
    evidence: dict[str, Any]
    status: str
    decision_reason: str
    decided_by: int | None
    decided_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime


class FlagPage(Page):
    items: list[FlagOut]


class FlagDecision(Input, kw_only=True):
    decision: Literal["confirmed", "dismissed"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=TEXT)]


class CheckRunOut(Output, kw_only=True):
    id: int
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    flags_seen: int
    flags_new: int
    by_rule: dict[str, int] = {}
