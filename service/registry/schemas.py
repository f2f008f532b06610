from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from service.registry.domain import Category, HealthTier
from service.schemas import (
    LINE,
    TEXT,
    AvailableFrom,
    BirthDate,
    BodyId,
    CheckDate,
    CheckValidUntil,
    CredentialDate,
    DistrictCode,
    Input,
    Name,
    Output,
    Page,
    Phone,
    RegistrationDate,
)

CategoryName = Category
Gender = Literal["female", "male"]
WageUnit = Annotated[
    Literal["month", "hour", "term"],
    msgspec.Meta(description="month 按月 | hour 按小时 | term 按单 (26 天，月嫂的计价方式 how 月嫂 are priced)"),
]
SkillCode = Annotated[str, msgspec.Meta(min_length=1, max_length=48, pattern=LINE)]
Language = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=16,
        pattern=LINE,
        examples=["cantonese", "粤语"],
        description="语言代码或别名 (a language code or any alias: 粤语 = 广东话 = 白话 = cantonese); "
        "GET /api/v1/taxonomy/languages",
    ),
]
Wage = Annotated[int, msgspec.Meta(ge=0, le=200_000, description="元 (yuan)")]
ShortText = Annotated[str, msgspec.Meta(max_length=32, pattern=LINE)]
ShortText16 = Annotated[str, msgspec.Meta(max_length=16, pattern=LINE)]  # the columns hold 16
IdNumber = Annotated[
    str,
    msgspec.Meta(
        min_length=18, max_length=18, description="18 位公民身份号码 (GB 11643)", examples=["441802198503071026"]
    ),
]


class Location(Input, kw_only=True):
    lat: Annotated[float, msgspec.Meta(ge=20.0, le=26.0)]
    lon: Annotated[float, msgspec.Meta(ge=109.0, le=118.0)]


class WorkerCreate(Input, kw_only=True):
    real_name: Name
    gender: Gender
    birth_date: BirthDate
    id_number: IdNumber
    phone: Phone
    languages: Annotated[list[Language], msgspec.Meta(max_length=10)] = []
    district_codes: Annotated[list[DistrictCode], msgspec.Meta(min_length=1, max_length=30)]
    location: Location | None = None
    categories: Annotated[list[CategoryName], msgspec.Meta(min_length=1, max_length=4)]
    skills: Annotated[list[SkillCode], msgspec.Meta(max_length=60)] = []
    experience_years: Annotated[int, msgspec.Meta(ge=0, le=60)] = 0
    wage_min: Wage
    wage_max: Wage
    wage_unit: WageUnit = "month"
    live_in: bool = False
    available_from: AvailableFrom | None = None
    ethnicity: ShortText16 | None = None
    native_place: ShortText | None = None
    marital_status: ShortText16 | None = None
    religion: ShortText16 | None = None


class WorkerUpdate(Input, kw_only=True):
    """Every field optional; the ID number and birth date are fixed once registered."""

    real_name: Name | UnsetType = UNSET
    phone: Phone | UnsetType = UNSET
    languages: Annotated[list[Language], msgspec.Meta(max_length=10)] | UnsetType = UNSET
    district_codes: Annotated[list[DistrictCode], msgspec.Meta(min_length=1, max_length=30)] | UnsetType = UNSET
    location: Location | None | UnsetType = UNSET
    categories: Annotated[list[CategoryName], msgspec.Meta(min_length=1, max_length=4)] | UnsetType = UNSET
    skills: Annotated[list[SkillCode], msgspec.Meta(max_length=60)] | UnsetType = UNSET
    experience_years: Annotated[int, msgspec.Meta(ge=0, le=60)] | UnsetType = UNSET
    wage_min: Wage | UnsetType = UNSET
    wage_max: Wage | UnsetType = UNSET
    wage_unit: WageUnit | UnsetType = UNSET
    live_in: bool | UnsetType = UNSET
    available_from: AvailableFrom | None | UnsetType = UNSET
    status: Literal["active", "paused", "suspended"] | UnsetType = UNSET
    ethnicity: ShortText16 | None | UnsetType = UNSET
    native_place: ShortText | None | UnsetType = UNSET
    marital_status: ShortText16 | None | UnsetType = UNSET
    religion: ShortText16 | None | UnsetType = UNSET


class LanguageRef(Output, kw_only=True):
    code: str
    name_zh: str
    name_en: str


class LocationOut(Output, kw_only=True):
    lat: float
    lon: float


class DistrictRef(Output, kw_only=True):
    code: str
    name_zh: str


class ConsentState(Output, kw_only=True):
    given: bool
    given_at: datetime | None


class Worker(Output, kw_only=True):
    """The full record, for the worker herself, her agency and admins."""

    id: int
    real_name: str
    gender: str
    birth_date: date
    id_number_masked: str
    phone: str
    languages: Annotated[list[str], msgspec.Meta(description="语言代码 (language codes)")]
    language_names: list[LanguageRef] = []
    districts: list[DistrictRef]
    location: LocationOut | None
    categories: list[str]
    skills: list[str]
    experience_years: int
    wage_min: int
    wage_max: int
    wage_unit: str
    live_in: bool
    available_from: date | None
    status: str
    agency_id: int | None
    agency_binding: Literal["pending", "confirmed"] | None
    consent: ConsentState
    blacklisted_until: date | None
    ethnicity: str | None
    native_place: str | None
    marital_status: str | None
    religion: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class CertificateSummary(Output, kw_only=True):
    kind: str
    occupation_code: str
    occupation_name: str
    work_type: str | None
    level: int | None


class HealthSummary(Output, kw_only=True):
    tier: str
    tier_name: str
    valid_until: date


class PublicWorker(Output, kw_only=True):
    """What an employer may see of a worker who has consented: no name, ID or phone."""

    id: int
    display_name: str
    gender: str
    age: int
    languages: Annotated[list[str], msgspec.Meta(description="语言代码 (language codes)")]
    language_names: list[LanguageRef] = []
    districts: list[DistrictRef]
    categories: list[str]
    skills: list[str]
    experience_years: int
    wage_min: int
    wage_max: int
    wage_unit: str
    live_in: bool
    available_from: date | None
    certificates: list[CertificateSummary]
    health_check: HealthSummary | None
    background_check_passed: bool
    trainings_completed: int


class WorkerListItem(Output, kw_only=True):
    id: int
    real_name: str
    gender: str
    id_number_masked: str
    districts: list[DistrictRef]
    categories: list[str]
    status: str
    agency_binding: Literal["pending", "confirmed"] | None
    consent_given: bool
    match_score: float | None = None


class WorkerPage(Page):
    items: list[WorkerListItem]


class WorkerClaim(Input, kw_only=True):
    id_number: IdNumber
    # Sent to her account's phone: POST /api/v1/phone-codes {"purpose": "claim"}.
    phone_code: Annotated[str, msgspec.Meta(pattern=r"^\d{6}$", description="短信验证码 (the code sent by SMS)")]


class WorkerLookup(Input, kw_only=True):
    id_number: IdNumber


class WorkerRef(Output, kw_only=True):
    id: int
    display_name: str
    id_number_masked: str


class WorkerLookupOut(Output, kw_only=True):
    """One ID-number lookup: who (account, or agency and key), when, and whom it found."""

    id: int
    at: datetime
    user_id: int | None
    agency_id: int | None
    api_key_id: int | None
    worker_id: int | None


class ConsentEventOut(Output, kw_only=True):
    action: str
    terms_version: str
    at: datetime


class ConsentGrant(Input, kw_only=True):
    terms_version: Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern=LINE)] = "2024-01"


# Credentials ------------------------------------------------------------------------


ProgrammeCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,31}$", examples=["nanyue_jiazheng"])]
TrainingTypeCode = Literal["employment_skills", "skill_upgrade", "entrepreneurship", "job_adaptation", "apprenticeship"]
CertificateKindCode = Literal["skill_level", "qualification", "special_ability", "training_pass"]
OccupationCode = Annotated[str, msgspec.Meta(pattern=r"^\d-\d{2}-\d{2}-\d{2}$", examples=["4-10-01-06"])]
CourseName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=128, pattern=LINE, examples=["母婴护理员（五级）培训"])
]


class TrainingCreate(Input, kw_only=True):
    id_number: IdNumber | None = None
    programme: Annotated[ProgrammeCode, msgspec.Meta(description="项目编码，见 GET /api/v1/bureau/programmes")]
    training_type: Annotated[
        TrainingTypeCode,
        msgspec.Meta(
            description="就业技能培训 employment_skills · 岗位技能提升培训 skill_upgrade · 创业培训 entrepreneurship · "
            "适岗培训 job_adaptation · 企业新型学徒制 apprenticeship"
        ),
    ]
    course: CourseName
    occupation_code: OccupationCode | None = None
    level: (
        Annotated[int, msgspec.Meta(ge=1, le=5, description="课程对应的等级 (the level the course leads to)")] | None
    ) = None
    institution_id: BodyId | None = None
    hours: Annotated[int, msgspec.Meta(ge=1, le=2000, description="课程学时 (the course's hours)")]
    started_on: CredentialDate
    finished_on: CredentialDate | None = None
    result: Literal["passed", "failed", "in_progress"]


class TrainingOut(Output, kw_only=True):
    id: int
    worker_id: int
    programme: str
    programme_name: str
    programme_text: str
    training_type: str | None
    training_type_name: str | None
    course: str
    occupation_code: str | None
    level: int | None
    institution_id: int | None
    hours: int
    attended_hours: float
    sessions: int
    on_roster: bool
    started_on: date
    finished_on: date | None
    result: str
    status: str
    status_reason: str
    verified_at: datetime | None
    created_at: datetime


class TrainingPage(Page):
    items: list[TrainingOut]


class SessionIn(Input, kw_only=True):
    on_date: CredentialDate
    starts_at: Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["09:00"])]
    ends_at: Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["12:00"])]


class SessionsCreate(Input, kw_only=True):
    id_number: IdNumber | None = None
    sessions: Annotated[list[SessionIn], msgspec.Meta(min_length=1, max_length=400)]


class SessionOut(Output, kw_only=True):
    id: int
    on_date: date
    starts_at: str
    ends_at: str
    hours: float


class RosterCreate(Input, kw_only=True):
    course: CourseName
    started_on: CredentialDate
    id_numbers: Annotated[list[IdNumber], msgspec.Meta(min_length=1, max_length=2000)]


class RosterOut(Output, kw_only=True):
    id: int
    institution_id: int
    course: str
    started_on: date
    size: int
    registered_trainees: int
    verified_now: int
    uploaded_at: datetime


class VerificationRule(Output, kw_only=True):
    auto_verify: bool
    min_attendance_ratio: float
    require_roster: bool
    updated_at: datetime


class VerificationRuleUpdate(Input, kw_only=True):
    auto_verify: bool
    min_attendance_ratio: Annotated[float, msgspec.Meta(ge=0.5, le=2.0)] = 1.0
    require_roster: bool = True


class ProgrammeOut(Output, kw_only=True):
    code: str
    name_zh: str
    aliases: list[str]
    active: bool


class ProgrammeCreate(Input, kw_only=True):
    code: ProgrammeCode
    name_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=LINE, examples=["农村电商"])]
    aliases: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=LINE)]], msgspec.Meta(max_length=20)
    ] = []


class CertificateCreate(Input, kw_only=True):
    id_number: IdNumber | None = None
    kind: Annotated[
        CertificateKindCode,
        msgspec.Meta(
            description="职业技能等级证书 skill_level · 职业资格证书 qualification · 专项职业能力证书 special_ability · "
            "培训合格证 training_pass"
        ),
    ] = "skill_level"
    occupation_code: OccupationCode
    occupation_name: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=LINE)] | None = None
    work_type: Annotated[str, msgspec.Meta(max_length=32, pattern=LINE, examples=["母婴护理员"])] | None = None
    level: (
        Annotated[int, msgspec.Meta(ge=1, le=5, description="5 (五级) … 1 (一级)；专项与培训合格证无等级")] | None
    ) = None
    certificate_no: Annotated[str, msgspec.Meta(min_length=4, max_length=64, pattern=r"^[0-9A-Za-z-]+$")]
    issued_on: CredentialDate


class CertificateOut(Output, kw_only=True):
    id: int
    worker_id: int
    kind: str
    kind_name: str
    occupation_code: str
    occupation_name: str
    work_type: str | None
    level: int | None
    certificate_no: str
    issuer_id: int | None
    issued_on: date
    status: str
    status_reason: str
    revoked_at: datetime | None
    created_at: datetime


class EvaluatorRegistrationCreate(Input, kw_only=True):
    agency_id: BodyId
    registration_no: Annotated[str, msgspec.Meta(min_length=4, max_length=64, pattern=r"^[0-9A-Za-z-]+$")]
    valid_from: RegistrationDate
    valid_until: RegistrationDate
    occupation_codes: Annotated[list[OccupationCode], msgspec.Meta(min_length=1, max_length=50)]


class EvaluatorRegistrationUpdate(Input, kw_only=True):
    status: Literal["active", "suspended", "revoked"] | UnsetType = UNSET
    valid_until: RegistrationDate | UnsetType = UNSET
    occupation_codes: Annotated[list[OccupationCode], msgspec.Meta(min_length=1, max_length=50)] | UnsetType = UNSET


class EvaluatorRegistrationOut(Output, kw_only=True):
    id: int
    agency_id: int
    registration_no: str
    status: str
    valid_from: date
    valid_until: date
    occupation_codes: list[str]
    updated_at: datetime
    created_at: datetime


class CheckCreate(Input, kw_only=True):
    kind: Literal["health", "background"]
    tier: HealthTier | None = None
    result: Literal["passed", "failed"]
    scope: Annotated[str, msgspec.Meta(max_length=128, pattern=LINE)] | None = None
    checked_on: CheckDate
    valid_until: CheckValidUntil | None = None


class CheckOut(Output, kw_only=True):
    id: int
    worker_id: int
    kind: str
    tier: str | None
    result: str
    scope: str | None
    checked_on: date
    valid_until: date | None
    status: str
    status_reason: str
    recorded_by_agency_id: int | None
    created_at: datetime


class Decision(Input, kw_only=True):
    decision: Literal["verified", "rejected"]
    reason: Annotated[str, msgspec.Meta(max_length=500, pattern=TEXT)] = ""
