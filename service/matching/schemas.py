from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from service.registry.schemas import CategoryName, Language, LanguageRef, Location, LocationOut, SkillCode
from service.schemas import TEXT, DistrictCode, DueDate, Input, JobEnd, JobStart, Output

Budget = Annotated[
    int,
    msgspec.Meta(
        ge=0, le=200_000, description="元 (yuan), per budget_unit; at most 100000 per month or 单, 1000 per hour"
    ),
]
BudgetUnit = Annotated[
    Literal["month", "hour", "term"],
    msgspec.Meta(description="month 按月 | hour 按小时 | term 按单 (26 天，只用于母婴 per 26-day 单, maternity only)"),
]
# 预产期: a pregnancy is booked at most about nine months ahead.
Terms = Annotated[int, msgspec.Meta(ge=1, le=6, description="预订几单，每单 26 天 (how many 26-day 单 are booked)")]
WorkType = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=32,
        pattern=r"^\S+$",
        examples=["母婴护理员"],
        description="工种 (work type) of the occupation, GET /api/v1/taxonomy/occupations; omitted: any",
    ),
]
Scope = Literal["district", "city", "province"]
WorkerVisibility = Annotated[
    Literal["fitting", "hidden"],
    msgspec.Meta(
        description="家政服务员能否找到本需求：fitting 符合条件者可见（只见区县、日期、薪资和要求，不见住址和备注）；"
        "hidden 不公开，只能由雇主发出邀约 (fitting: workers who fit see it, without address or notes; "
        "hidden: only offers reach workers)"
    ),
]


class RequiredCertificate(Input, kw_only=True):
    occupation_code: Annotated[str, msgspec.Meta(pattern=r"^\d-\d{2}-\d{2}-\d{2}$", examples=["4-10-01-06"])]
    work_type: WorkType | None = None
    min_level: Annotated[int, msgspec.Meta(ge=1, le=5, description="5 最低 … 1 最高 (5 lowest … 1 highest)")]


class JobRequestCreate(Input, kw_only=True):
    category: CategoryName
    skills: Annotated[list[SkillCode], msgspec.Meta(max_length=30)] = []
    skills_text: Annotated[
        str, msgspec.Meta(max_length=500, pattern=TEXT, examples=["照顾刚出生的宝宝，会做粤菜，煲汤"])
    ] = ""
    household_notes: Annotated[
        str, msgspec.Meta(max_length=1000, pattern=TEXT, examples=["三口之家，宝宝预产期12月，有一只猫"])
    ] = ""
    district_code: DistrictCode
    search_scope: Scope = "district"
    location: Location | None = None
    radius_km: Annotated[int, msgspec.Meta(ge=1, le=300)] | None = None
    start_date: JobStart
    end_date: JobEnd | None = None
    hours_per_week: Annotated[int, msgspec.Meta(ge=1, le=84)] | None = None
    live_in: bool = False
    budget_min: Budget
    budget_max: Budget
    budget_unit: BudgetUnit = "month"
    required_certificate: RequiredCertificate | None = None
    due_date_from: DueDate | None = None
    due_date_to: DueDate | None = None
    terms: Terms = 1
    languages: Annotated[list[Language], msgspec.Meta(max_length=5)] = []
    background_check_required: bool = False
    headcount: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1
    worker_visibility: WorkerVisibility = "fitting"


class JobRequestUpdate(Input, kw_only=True):
    skills: Annotated[list[SkillCode], msgspec.Meta(max_length=30)] | UnsetType = UNSET
    skills_text: Annotated[str, msgspec.Meta(max_length=500, pattern=TEXT)] | UnsetType = UNSET
    household_notes: Annotated[str, msgspec.Meta(max_length=1000, pattern=TEXT)] | UnsetType = UNSET
    search_scope: Scope | UnsetType = UNSET
    location: Location | None | UnsetType = UNSET
    radius_km: Annotated[int, msgspec.Meta(ge=1, le=300)] | None | UnsetType = UNSET
    start_date: JobStart | UnsetType = UNSET
    end_date: JobEnd | None | UnsetType = UNSET
    hours_per_week: Annotated[int, msgspec.Meta(ge=1, le=84)] | None | UnsetType = UNSET
    live_in: bool | UnsetType = UNSET
    budget_min: Budget | UnsetType = UNSET
    budget_max: Budget | UnsetType = UNSET
    budget_unit: BudgetUnit | UnsetType = UNSET
    required_certificate: RequiredCertificate | None | UnsetType = UNSET
    due_date_from: DueDate | None | UnsetType = UNSET
    due_date_to: DueDate | None | UnsetType = UNSET
    terms: Terms | UnsetType = UNSET
    languages: Annotated[list[Language], msgspec.Meta(max_length=5)] | UnsetType = UNSET
    background_check_required: bool | UnsetType = UNSET
    headcount: Annotated[int, msgspec.Meta(ge=1, le=10)] | UnsetType = UNSET
    worker_visibility: WorkerVisibility | UnsetType = UNSET


class UnderstoodSkill(Output, kw_only=True):
    text: str
    code: str
    name_zh: str
    score: float
    source: Annotated[
        str,
        msgspec.Meta(
            description="alias | pinyin (同音错字 homophone typo) | fuzzy | umbrella (保姆、月嫂… 的常见职责 usual duties)"
        ),
    ] = "alias"


class Implied(Output, kw_only=True, omit_defaults=True):
    """What the text implies, shown for the person to confirm; never applied to the request."""

    live_in: Annotated[bool, msgspec.Meta(description="住家 → true; 不住家/钟点 → false")] | None = None
    wage_unit: Annotated[str, msgspec.Meta(description="hour | day | month")] | None = None
    visits_per_week: int | None = None
    hours_per_visit: float | None = None
    hours_per_week: int | None = None
    shift: (
        Annotated[str, msgspec.Meta(description="day (白班) | night (夜班) | overnight (带睡、守夜、24小时)")] | None
    ) = None
    hours: (
        Annotated[
            str,
            msgspec.Meta(description="HH:MM-HH:MM, as written or the shift's usual hours", examples=["08:00-20:00"]),
        ]
        | None
    ) = None
    due_date: (
        Annotated[
            str,
            msgspec.Meta(
                description="预产期: YYYY-MM-DD, or YYYY-MM when only the month is given",
                examples=["2027-03-15", "2027-02"],
            ),
        ]
        | None
    ) = None
    due_date_from: (
        Annotated[
            date,
            msgspec.Meta(description="预产期范围起 (the due-date window a 月嫂 request's due_date_from would take)"),
        ]
        | None
    ) = None
    due_date_to: (
        Annotated[date, msgspec.Meta(description="预产期范围止 (the window's last day, for due_date_to)")] | None
    ) = None
    evidence: Annotated[dict[str, str], msgspec.Meta(description="field → the words it was read from")] = {}


class Understanding(Output, kw_only=True):
    matched: list[UnderstoodSkill]
    not_understood: list[str]
    implied: Implied = msgspec.field(default_factory=Implied)


class UnderstandRequest(Input, kw_only=True):
    skills_text: Annotated[
        str, msgspec.Meta(max_length=500, pattern=TEXT, examples=["住家阿姨，带一岁半宝宝，顺便煮餸"])
    ] = ""
    household_notes: Annotated[str, msgspec.Meta(max_length=1000, pattern=TEXT, examples=["预产期3月15号"])] = ""


class RequiredCertificateOut(Output, kw_only=True):
    occupation_code: str
    work_type: str | None = None
    min_level: int
    description: Annotated[str, msgspec.Meta(examples=["家政服务员（母婴护理员）四级/中级工或以上"])] = ""


class ServicePeriod(Output, kw_only=True):
    first_day: date
    last_day: date | None


class JobRequest(Output, kw_only=True):
    id: int
    employer_id: int | None
    agency_id: int | None
    category: str
    skills: list[str]
    skills_text: str
    understood: Understanding
    effective_skills: list[str]
    household_notes: str
    district_code: str
    search_scope: str
    location: LocationOut | None
    radius_km: int | None
    start_date: date
    end_date: date | None
    hours_per_week: int | None
    live_in: bool
    budget_min: int
    budget_max: int
    budget_unit: str
    required_certificate: RequiredCertificateOut | None
    due_date_from: date | None = None
    due_date_to: date | None = None
    terms: int = 1
    service_period: Annotated[
        ServicePeriod | None,
        msgspec.Meta(description="worker 须空档的日期 (the days a worker must be free), the due-date window included"),
    ] = None
    languages: Annotated[list[str], msgspec.Meta(description="语言代码 (language codes)")]
    language_names: list[LanguageRef] = []
    background_check_required: bool
    headcount: int
    worker_visibility: str = "fitting"
    status: str
    version: int
    created_at: datetime
    updated_at: datetime


class Component(Output, kw_only=True, omit_defaults=True):
    name: str
    label: str
    value: float
    weight: float
    contribution: float
    detail: Annotated[str | None, msgspec.Meta(description="e.g. which certificate met the requirement or counted")] = (
        None
    )


class Bonus(Output, kw_only=True):
    name: str
    label: str
    value: float


class MatchItem(Output, kw_only=True):
    worker_id: int
    display_name: str
    score: float
    components: list[Component]
    unmet: list[str]
    bonuses: list[Bonus]
    distance_km: int | None
    algorithm_version: str
    interested: Annotated[bool, msgspec.Meta(description="她表示有意向 (she said she is interested)")] = False


class Excluded(Output, kw_only=True):
    filter: str
    label: str
    removed: int


class MatchPage(Output, kw_only=True):
    request_id: int
    algorithm_version: str
    total: int
    limit: int
    offset: int
    understood: Understanding
    excluded: list[Excluded]
    items: list[MatchItem]
    interested_count: Annotated[
        int, msgspec.Meta(description="表示有意向、目前可见的人数 (workers interested and visible now)")
    ] = 0


class InterestedWorker(Output, kw_only=True):
    worker_id: int
    display_name: str
    created_at: datetime


class InterestOut(Output, kw_only=True):
    request_id: int
    worker_id: int
    interested: bool
    created_at: datetime


class DistrictRef(Output, kw_only=True):
    code: str
    name_zh: str


class SkillRef(Output, kw_only=True):
    code: str
    name_zh: str


class OpenRequest(Output, kw_only=True):
    """A job request as a worker sees it: what she needs to decide, nothing about the household."""

    id: int
    category: str
    category_name: str
    district: DistrictRef
    search_scope: str
    start_date: date
    end_date: date | None
    hours_per_week: int | None
    live_in: bool
    budget_min: int
    budget_max: int
    budget_unit: str
    skills: list[SkillRef]
    languages: list[LanguageRef]
    required_certificate: RequiredCertificateOut | None
    background_check_required: bool


class OpenRequestFit(Output, kw_only=True):
    request: OpenRequest
    fits: Annotated[bool, msgspec.Meta(description="通过全部硬性条件 (passes every hard filter)")]
    lacks: Annotated[
        list[str], msgspec.Meta(description="未满足的硬性条件（证书、体检、背景审查）(hard filters failed)")
    ]
    score: Annotated[float, msgspec.Meta(description="从她的角度的排序分 (her side's ranking score)")]
    components: list[Component]
    standing: Annotated[float, msgspec.Meta(description="雇主端排序分 (her score in the household's ranking)")]
    unmet: Annotated[
        list[str], msgspec.Meta(description="雇主的期望中她未满足的 (the household's wishes she does not meet)")
    ]
    distance_km: Annotated[int | None, msgspec.Meta(description="整公里 (whole kilometres)")]
    wage_note: str
    interested: bool
    verified_complaints: Annotated[
        int,
        msgspec.Meta(
            description="雇主经人社部门核实的投诉数（不含内容）(complaints upheld against the employer; a count only)"
        ),
    ] = 0
    complaint_note: Annotated[
        str | None, msgspec.Meta(description="如“该雇主有 N 起经核实的投诉” (a neutral, factual marker)")
    ] = None


class OpenRequestPage(Output, kw_only=True):
    algorithm_version: str
    total: int
    limit: int
    offset: int
    notices: list[str]
    items: list[OpenRequestFit]


class FailedFilter(Output, kw_only=True):
    filter: str
    label: str


class MatchExplanation(Output, kw_only=True):
    """Why a worker ranked where she did, or was not shown, for one request, computed now."""

    request_id: int
    worker_id: int
    algorithm_version: str
    shown: bool
    rank: int | None
    total: int
    failed: list[FailedFilter]
    match: MatchItem | None
    display_name: str | None = None
    offer_id: int | None = None
    complaint_note: Annotated[
        str | None,
        msgspec.Meta(
            description="给家政服务员看：雇主经核实的投诉数 (for the worker: the employer's upheld complaints, a count)"
        ),
    ] = None
