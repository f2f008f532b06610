from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from service.schemas import LINE, TEXT, BodyId, Input, JobStart, LastDay, Output

Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]
Reason = Annotated[str, msgspec.Meta(max_length=1000, pattern=TEXT)]
# Within the job's dates as well, which the service checks.


class OfferCreate(Input, kw_only=True):
    worker_id: BodyId
    wage: Annotated[int, msgspec.Meta(ge=0, le=200_000)] | None = None
    message: Annotated[str, msgspec.Meta(max_length=500, pattern=TEXT)] = ""


class OfferOut(Output, kw_only=True):
    id: int
    request_id: int
    worker_id: int
    wage: int
    wage_unit: str
    message: str
    status: str
    expires_at: datetime
    decided_at: datetime | None
    closed_reason: str = ""
    created_at: datetime


class WorkerContact(Output, kw_only=True):
    name: str
    phone: str


class PlacementOut(Output, kw_only=True):
    id: int
    offer_id: int
    request_id: int
    worker_id: int
    worker_display_name: str
    worker_contact: WorkerContact | None
    employer_id: int | None
    agency_id: int | None
    start_date: date
    end_date: date | None
    wage: int
    wage_unit: str
    status: str
    ended_at: datetime | None
    end_reason: str
    ended_by: Annotated[str | None, msgspec.Meta(description="worker | employer; null while active")] = None
    end_category: str = ""
    notice_required_days: Annotated[
        int | None, msgspec.Meta(description="她应提前通知的天数 (notice the rule asked of her)")
    ] = None
    notice_given_days: Annotated[int | None, msgspec.Meta(description="她实际提前通知的天数 (notice she gave)")] = None
    counts_against_rating: Annotated[
        bool, msgspec.Meta(description="计入爽约：未到岗，或未按规定提前通知离岗 (counts as a no-show)")
    ] = False
    created_at: datetime


class PlacementEnd(Input, kw_only=True):
    reason: Reason = ""


class RequestReopen(Input, kw_only=True):
    """Open the request again for the places that came free."""

    # The replacement's first day; by default the first day one is needed.
    start_date: JobStart | None = None


class LeftEarly(Output, kw_only=True):
    placement_id: int
    worker_display_name: str
    status: Annotated[str, msgspec.Meta(description="resigned | cancelled | terminated | no_show")]
    ended_by: str | None
    last_day: date | None


class Staffing(Output, kw_only=True):
    """How many of a request's places are filled; a placement that ends before its term
    frees its place (see `request.vacancy`)."""

    request_id: int
    status: str
    headcount: int
    filled: int
    vacancies: int
    left_early: list[LeftEarly]
    can_reopen: bool
    reopen_from: date | None


class PlacementTerminate(Input, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=TEXT)]
    no_show: bool = False


class ComplaintAboutEmployer(Input, kw_only=True):
    category: Literal["unpaid_wages", "abuse", "unsafe_conditions", "harassment", "other"]
    description: Annotated[str, msgspec.Meta(min_length=5, max_length=2000, pattern=TEXT)]


class PlacementResign(Input, kw_only=True):
    """She ends a placement. Notice owed: 1 day for an hourly job, 3 for other household
    work, 7 for maternity, elderly or medical care or any live-in job (never more than the
    days left). Less notice counts as a no-show in her rating, unless the category is
    employer_fault and she complains about the employer (here or before) and the bureau
    does not dismiss it."""

    category: Literal["employer_fault", "health", "family", "personal", "other"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=TEXT)]
    last_day: LastDay | None = None
    complaint: ComplaintAboutEmployer | None = None


class ReviewCreate(Input, kw_only=True):
    ratings: dict[Annotated[str, msgspec.Meta(max_length=32, pattern=LINE)], Rating]
    comment: Annotated[str, msgspec.Meta(max_length=1000, pattern=TEXT)] = ""


class ReviewUpdate(Input, kw_only=True):
    ratings: dict[Annotated[str, msgspec.Meta(max_length=32, pattern=LINE)], Rating] | None = None
    comment: Annotated[str, msgspec.Meta(max_length=1000, pattern=TEXT)] | None = None


class ReviewOut(Output, kw_only=True):
    id: int
    placement_id: int
    author_role: str
    ratings: dict[str, int]
    overall: float
    comment: str
    editable_until: datetime
    created_at: datetime
    updated_at: datetime


class ComplaintCreate(Input, kw_only=True):
    """The employer side complains about her (abuse, theft, violence, negligence,
    misconduct, no_show, other); she complains about the employer side (unpaid_wages,
    abuse, unsafe_conditions, harassment, other). The bureau decides either."""

    category: Literal[
        "abuse",
        "theft",
        "violence",
        "negligence",
        "misconduct",
        "no_show",
        "unpaid_wages",
        "unsafe_conditions",
        "harassment",
        "other",
    ]
    description: Annotated[str, msgspec.Meta(min_length=5, max_length=2000, pattern=TEXT)]


class ComplaintDecision(Input, kw_only=True):
    outcome: Literal["substantiated", "dismissed"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=TEXT)]


class AppealCreate(Input, kw_only=True):
    text: Annotated[str, msgspec.Meta(min_length=5, max_length=2000, pattern=TEXT)]


class AppealDecision(Input, kw_only=True):
    outcome: Literal["upheld", "rejected"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=TEXT)]


class ComplaintOut(Output, kw_only=True):
    id: int
    placement_id: int
    worker_id: int
    against: Annotated[str, msgspec.Meta(description="worker 投诉家政服务员 | employer 投诉雇主")] = "worker"
    category: str
    description: str
    serious: bool
    status: str
    decision_reason: str
    decided_by: int | None
    decided_at: datetime | None
    appeal_text: str
    appeal_status: str
    appeal_filed_at: datetime | None
    appeal_reason: str
    appeal_decided_by: int | None
    appeal_decided_at: datetime | None
    created_at: datetime


class IntegrityComponent(Output, kw_only=True):
    name: str
    label: str
    points: float
    detail: str


class IntegrityChange(Output, kw_only=True):
    score: int
    stars: int
    previous_score: int | None
    reason: str
    algorithm_version: str
    computed_at: datetime


class Integrity(Output, kw_only=True):
    """For the worker herself, her agency and admins."""

    worker_id: int
    score: int
    stars: int
    components: list[IntegrityComponent]
    advice: list[str]
    algorithm_version: str
    computed_at: datetime
    history: list[IntegrityChange]


class IntegritySummary(Output, kw_only=True):
    """For employers: the score, the stars and what it is made of, no details."""

    worker_id: int
    score: int
    stars: int
    components: list[str]
    algorithm_version: str


class SuspensionCreate(Input, kw_only=True):
    """Why the employer is suspended; the employer is told this reason."""

    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=1000, pattern=TEXT)]


class SuspensionLift(Input, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=1000, pattern=TEXT)]


class EmployerSuspensionOut(Output, kw_only=True):
    """An employer (household account, or agency) kept from posting requests and making
    offers; never deleted, lifting is recorded."""

    id: int
    user_id: int | None
    agency_id: int | None
    complaint_id: int | None
    reason: str
    suspended_by: int
    created_at: datetime
    lifted_at: datetime | None
    lifted_by: int | None
    lift_reason: str
    active: bool
